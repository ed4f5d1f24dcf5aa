"""``dvlite move``: move tracked data with its pointer and its ``.gitignore`` line, staged in
git, so that history shows a rename of the pointer and nothing is hashed again."""

from __future__ import annotations

import dataclasses
import errno
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from dvlite.errors import PathError
from dvlite.git import index as scm
from dvlite.objects import fsutil
from dvlite.records import gitignore
from dvlite.records import pointer as pointers
from dvlite.records.repo import DVLITE_DIR, Repo
from dvlite.records.tracked import stage_products


@dataclass(frozen=True, slots=True)
class MoveResult:
    src: str  # the data's old path (repository-relative)
    dst: str
    pointer: str  # the pointer written for dst
    moved_data: bool  # false when the data was not in the workspace (only the pointer moved)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def move(repo: Repo, src: str | Path, dst: str | Path, *, stage: bool | None = None) -> MoveResult:
    """Move the data ``src`` tracks by a pointer (a file or folder; ``src`` may name the
    pointer) to ``dst``, a new path in the repository, its pointer and ``.gitignore`` line
    with it; ``stage`` (default core.autostage) records the change in git's index."""
    old = _source(repo, src)
    new = _destination(repo, dst, old)
    old_pointer, new_pointer = old + pointers.SUFFIX, new + pointers.SUFFIX
    record = pointers.load(repo.abspath(old_pointer), old_pointer)
    stage = repo.autostage if stage is None else stage
    with repo.lock():
        src_path, dst_path = repo.confined.target(old), repo.confined.target(new)
        moved = os.path.lexists(src_path)
        os.makedirs(os.path.dirname(dst_path), exist_ok=True)
        if moved:
            _rename(src_path, dst_path)
            _carry_state(repo, old, new)
        pointers.save(repo.abspath(new_pointer), dataclasses.replace(record, path=_name(new)))
        os.unlink(repo.confined.target(old_pointer))
        gitignore.add(repo.abspath(new).parent, _name(new))
        gitignore.remove(repo.abspath(old).parent, _name(old))
    if stage:
        ignores = [_ignore_file(old), _ignore_file(new)]
        present = [p for p in ignores if repo.abspath(p).is_file()]
        scm.unstage_removed(repo.root, [old_pointer, *(p for p in ignores if p not in present)])
        scm.stage(repo.root, [new_pointer, *present])
    return MoveResult(old, new, new_pointer, moved)


def _name(rel: str) -> str:
    return rel.rpartition("/")[2]


def _ignore_file(rel: str) -> str:
    folder = rel.rpartition("/")[0]
    return f"{folder}/.gitignore" if folder else ".gitignore"


def _source(repo: Repo, src: str | Path) -> str:
    """The data path of the pointer that ``src`` (the data or its pointer) names."""
    rel = repo.rel(src)
    if pointers.is_pointer(rel):
        rel = rel[: -len(pointers.SUFFIX)]
    products = stage_products(repo)
    for out, name in products.items():
        if rel == out or rel.startswith(out + "/"):
            raise PathError(
                f"{src} is an output of stage {name!r}: dvlite.lock records it, so it moves "
                "by editing the stage in dvlite.yaml (its outs and its command), then "
                f"`dvlite repro {name}`"
            )
    if rel and os.path.isfile(repo.abspath(rel + pointers.SUFFIX)):
        return rel
    owner = repo.tracking_pointer(rel) if rel else None
    if owner:
        folder = owner[: -len(pointers.SUFFIX)]
        raise PathError(
            f"{src} is inside {folder}, which {owner} tracks; move it with mv, then "
            f"`dvlite add {folder}` (or move all of {folder})"
        )
    raise PathError(f"{src} is not tracked by dvlite (no {rel or src}{pointers.SUFFIX}); use mv")


def _destination(repo: Repo, dst: str | Path, old: str) -> str:
    rel = repo.rel(dst)
    problem = _refuse(repo, rel, old)
    if problem:
        raise PathError(f"cannot move {old} to {dst}: {problem}")
    return rel


def _refuse(repo: Repo, rel: str, old: str) -> str | None:
    """Why the data cannot move to ``rel`` (None: it can)."""
    if not rel:
        return "that is the repository root"
    fsutil.check_utf8_name(rel)
    name = _name(rel)
    if "\n" in name or "\r" in name:
        return "the name has a line break, which .gitignore cannot hold"
    if rel.split("/", 1)[0] in (".git", DVLITE_DIR):
        return f"it is inside {rel.split('/', 1)[0]}/"
    if pointers.is_pointer(rel):
        return f"a data path cannot end with {pointers.SUFFIX}"
    if rel == old or rel.startswith(old + "/"):
        return "a folder cannot move into itself"
    if os.path.lexists(repo.abspath(rel)):
        return "it exists; give a new path (dvlite moves nothing into a folder, nor over a file)"
    if os.path.lexists(repo.abspath(rel + pointers.SUFFIX)):
        return f"{rel}{pointers.SUFFIX} exists"
    parent = rel.rpartition("/")[0]
    owner = repo.tracking_pointer(parent) if parent else None
    if owner:
        return f"it is inside {owner[: -len(pointers.SUFFIX)]}, which {owner} tracks"
    above = next((p for p in _parents(parent) if os.path.isfile(repo.abspath(p))), None)
    if above:
        return f"{above} is a file"
    for out, stage in stage_products(repo).items():
        if rel == out or rel.startswith(out + "/") or out.startswith(rel + "/"):
            return f"stage {stage!r} writes {out} there"
    match = repo.ignore.match(rel, os.path.isdir(repo.abspath(old)))
    if match is not None and not match.negate:
        return f"{match.source}:{match.line} ({match.text.strip()}) ignores it"
    return None


def _parents(folder: str) -> list[str]:
    parts = folder.split("/") if folder else []
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _rename(src: str, dst: str) -> None:
    """Rename, or (another filesystem) copy then delete: nothing is lost if that fails half
    way, the source is removed only once the copy is whole."""
    try:
        os.rename(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.move(src, dst)


def _carry_state(repo: Repo, old: str, new: str) -> None:
    """The state database's rows of the moved files and folders, under their new paths (a
    rename keeps inodes and mtimes), so the next status hashes nothing."""

    def moved(path: str) -> str:
        return new + path[len(old) :]

    rows = [(moved(path), *rest) for path, *rest in repo.state.load(old).values()]
    folders = [(moved(path), row) for path, row in repo.state.folders(old).items()]
    repo.state.save(rows, folders)  # type: ignore[arg-type]
