"""``dvlite add``: hash data into the cache, write its pointer, keep it out of git."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from dvlite.errors import PathError
from dvlite.git import index as scm
from dvlite.objects import fsutil
from dvlite.objects.tree import DIR, FILE
from dvlite.ops.checkout import link_into_workspace
from dvlite.progress import Progress
from dvlite.records import gitignore
from dvlite.records import pointer as pointers
from dvlite.records.pointer import Pointer
from dvlite.records.repo import DVLITE_DIR, Repo
from dvlite.records.tracked import stage_products
from dvlite.records.workspace import DirNode, Node, Workspace


@dataclass(frozen=True, slots=True)
class AddResult:
    path: str
    pointer: str
    kind: str
    oid: str
    size: int
    files: int
    changed: bool

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _check_target(repo: Repo, path: str | Path) -> str:
    rel = repo.rel(path)
    if not rel:
        raise PathError("cannot add the repository root; add the folders or files inside it")
    fsutil.check_utf8_name(rel)
    name = rel.rpartition("/")[2]
    if "\n" in name or "\r" in name:
        raise PathError(
            f"{name!r} has a line break in its name, which .gitignore cannot hold; rename it"
        )
    top = rel.split("/", 1)[0]
    if top in (".git", DVLITE_DIR):
        raise PathError(f"{path} is inside {top}/, which dvlite does not track")
    if pointers.is_pointer(rel):
        raise PathError(f"{path} is a pointer file; add the data it points to instead")
    parent = rel.rpartition("/")[0]
    owner = repo.tracking_pointer(parent) if parent else None
    if owner:
        raise PathError(
            f"{path} is inside {owner[: -len(pointers.SUFFIX)]}, which {owner} already tracks; "
            f"add {owner[: -len(pointers.SUFFIX)]} again instead"
        )
    if not os.path.lexists(repo.abspath(rel)):
        raise PathError(f"{path}: no such file or directory")
    match = repo.ignore.match(rel, os.path.isdir(repo.abspath(rel)))
    if match is not None and not match.negate:
        raise PathError(
            f"{path} is ignored by {match.source}:{match.line} ({match.text.strip()}); "
            "remove or negate that line to add it"
        )
    return rel


def add(
    repo: Repo,
    paths: Iterable[str | Path],
    *,
    stage: bool | None = None,
    progress: Progress | None = None,
) -> list[AddResult]:
    rels = list(dict.fromkeys(_check_target(repo, p) for p in paths))
    if not rels:
        raise PathError("nothing to add")
    for rel in rels:  # `add d d/f` would write d/f.dvl inside the data of d.dvl
        outer = next((o for o in rels if rel.startswith(o + "/")), None)
        if outer is not None:
            raise PathError(f"{rel} is inside {outer}, which is added too; add only {outer}")
    products = stage_products(repo)
    for rel in rels:
        _refuse_stage_products(rel, products)
    stage = repo.autostage if stage is None else stage
    if repo.uses_git:
        for rel in rels:
            tracked = scm.tracked_files(repo.root, rel)
            held = sorted(p for p in tracked if pointers.is_pointer(p))
            if held:  # `git rm -r --cached` would untrack them: a folder holding pointers
                raise PathError(_holds_pointers(rel, held))
            if tracked:
                raise PathError(
                    f"{rel} is tracked by git; run `git rm -r --cached {rel}` first so that git "
                    "keeps only its pointer"
                )
    results: list[AddResult] = []
    to_stage: list[str] = []
    link_roots = (os.path.realpath(repo.cache_dir),)
    with repo.lock():
        for rel in rels:
            reader = Workspace(
                repo.state, link_roots, repo.cache, progress, pointers.SUFFIX, repo.ignore
            )
            node = reader.read(os.fspath(repo.abspath(rel)), rel)
            if isinstance(node, DirNode) and reader.watched:
                raise PathError(_holds_pointers(node.rel, reader.watched[:1]))
            result = _record(repo, rel, node)
            results.append(result)
            to_stage.append(result.pointer)
            folder = repo.abspath(rel).parent
            gitignore.add(folder, os.path.basename(rel))
            to_stage.append(os.path.relpath(folder / ".gitignore", repo.root).replace(os.sep, "/"))
            if repo.link_types[0] in ("hardlink", "symlink"):
                link_into_workspace(repo, node)
    if stage:
        scm.stage(repo.root, to_stage)
    return results


def _refuse_stage_products(rel: str, products: dict[str, str]) -> None:
    """A stage output is recorded by dvlite.lock: a pointer beside it would track it twice
    (and make the pipeline invalid), a pointer inside it would be deleted by the next run."""
    for out, stage in products.items():
        if rel == out or rel.startswith(out + "/"):
            what = f"{rel} is" if rel == out else f"{rel} is inside {out},"
            raise PathError(
                f"{what} an output of stage {stage!r}; dvlite.lock records stage outputs: run "
                f"`dvlite repro {stage}` to record a new version, or drop it from the stage's "
                "outs in dvlite.yaml to track it with `dvlite add`"
            )
    inside = sorted(out for out in products if out.startswith(rel + "/"))
    if inside:
        more = f" (and {len(inside) - 1} more stage outputs)" if len(inside) > 1 else ""
        raise PathError(
            f"{rel} holds {inside[0]}, an output of stage {products[inside[0]]!r}{more}; adding "
            f"{rel} would track it twice (dvlite.lock records stage outputs): add the other "
            f"files and folders inside {rel} separately"
        )


def _holds_pointers(rel: str, held: list[str]) -> str:
    """Adding a folder that holds pointers would track their data twice; ``git rm --cached``
    would lose the pointers from git: the way out is to remove them, or to add around them."""
    import shlex

    if len(held) == 1:
        what = f"the pointer file {held[0]}"
    else:
        what = "the pointer files " + ", ".join(held[:3])
        what += f" and {len(held) - 3} more" if len(held) > 3 else ""
    command = (
        "`dvlite remove " + " ".join(shlex.quote(h) for h in held) + "`"
        if len(held) <= 3
        else "`dvlite remove` each of them"
    )
    return (
        f"{rel} holds {what}; remove that tracking first ({command}; the data stays), "
        f"or add the files and folders inside {rel} separately"
    )


def _record(repo: Repo, rel: str, node: Node) -> AddResult:
    if isinstance(node, DirNode):
        p = Pointer(node.name, DIR, node.oid, node.size, node.files)
    else:
        p = Pointer(node.name, FILE, node.oid, node.size, exec=node.exec)
    pointer_rel = rel + pointers.SUFFIX
    changed = pointers.save(repo.abspath(pointer_rel), p)
    return AddResult(rel, pointer_rel, p.kind, p.oid, p.size, p.files, changed)
