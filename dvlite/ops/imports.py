"""``dvlite import``: ``get``, tracked here: the data goes through the cache and gets a pointer
whose ``source:`` block (``records/source.py``) names the repository, the revision as given,
the commit it resolved to and the path there. ``import-url`` (``ops/import_url.py``) does the
same for one object at a URL; ``update`` (``ops/update.py``) moves either to the source's
newest version. The pointer, its ``.gitignore`` line and the checkout are add's and
checkout's own."""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass

from dvlite.errors import PathError
from dvlite.git import clone
from dvlite.git import index as scm
from dvlite.objects import tree
from dvlite.objects.tree import DIR, TreeEntry
from dvlite.ops.add import add
from dvlite.ops.checkout import checkout
from dvlite.ops.get import (
    Found,
    Where,
    cache_repo,
    fetch,
    locate,
    open_remote,
    source_path,
    write_git_files,
)
from dvlite.progress import Progress
from dvlite.records import gitignore
from dvlite.records import pointer as pointers
from dvlite.records.pointer import Pointer
from dvlite.records.repo import DVLITE_DIR, Repo
from dvlite.records.source import RepoSource, Source
from dvlite.records.tracked import stage_products
from dvlite.transfer.result import TransferResult

IMPORTED, UPDATED, UNCHANGED, MOVED = "imported", "updated", "unchanged", "source moved"


@dataclass(frozen=True)
class ImportResult:
    pointer: str
    path: str
    kind: str
    oid: str
    size: int
    files: int
    source: dict[str, object]
    status: str  # IMPORTED, UPDATED, UNCHANGED or MOVED (a new commit, the same data)
    fetched: TransferResult | None = None

    def to_dict(self) -> dict[str, object]:
        d = dict(self.__dict__)
        d["fetched"] = self.fetched.to_dict() if self.fetched else None
        return d


def recorded_url(repo: Repo, url: str) -> str:
    """The URL as a pointer keeps it: a relative path on this machine made relative to the
    repository root (so ``update`` works from any folder), anything else as given."""
    local = clone.local_path(url)
    if local is None or url.startswith("file://") or os.path.isabs(os.path.expanduser(url)):
        return url
    return os.path.relpath(local, repo.root).replace(os.sep, "/")


def usable_url(repo: Repo, recorded: str) -> str:
    """The URL to reach a recorded source at: a relative path is the repository root's."""
    local = clone.local_path(recorded)
    if local is None or recorded.startswith("file://") or os.path.isabs(recorded):
        return recorded
    return os.path.normpath(repo.root / recorded)


def target(repo: Repo, out: str, force: bool) -> str:
    """The repository-relative data path ``out`` names, checked as add checks its targets,
    and free (or ``force``)."""
    rel = repo.rel(out)
    if not rel or rel.split("/", 1)[0] in (".git", DVLITE_DIR) or pointers.is_pointer(rel):
        raise PathError(f"cannot import to {out}: choose a data path inside the repository")
    parent = rel.rpartition("/")[0]
    owner = repo.tracking_pointer(parent) if parent else None
    if owner:
        raise PathError(f"cannot import to {out}: it is inside data that {owner} tracks")
    for made, stage in stage_products(repo).items():
        if rel == made or rel.startswith(made + "/") or made.startswith(rel + "/"):
            raise PathError(f"cannot import to {out}: stage {stage!r} makes {made}")
    pointer_file = repo.abspath(rel + pointers.SUFFIX)
    if pointer_file.exists() and not force:
        raise PathError(
            f"{rel}{pointers.SUFFIX} already exists; `dvlite update {rel}{pointers.SUFFIX}` "
            "moves an import to its source's newest version, --force replaces it"
        )
    if os.path.lexists(repo.abspath(rel)) and not force:
        raise PathError(f"{out} already exists; use --force to replace it")
    if repo.uses_git and scm.tracked_files(repo.root, rel):
        raise PathError(f"cannot import to {out}: git tracks files there")
    return rel


def record(
    repo: Repo, rel: str, entry: TreeEntry, files: int, source: Source, *, force: bool = False
) -> Pointer:
    """Write the pointer of imported data (its ``.gitignore`` line, both staged in git) and
    check the data out from the cache."""
    name = posixpath.basename(rel)
    p = Pointer(name, entry.type, entry.oid, entry.size, files, entry.exec, source=source)
    save(repo, rel, p)
    checkout(repo, [repo.abspath(rel + pointers.SUFFIX)], force=force)
    return p


def save(repo: Repo, rel: str, p: Pointer) -> None:
    """Write the pointer of ``rel`` and its ``.gitignore`` line, both staged in git."""
    pointer_rel = rel + pointers.SUFFIX
    pointers.save(repo.abspath(pointer_rel), p)
    folder = repo.abspath(rel).parent
    gitignore.add(folder, p.path)
    if repo.autostage:
        ignore = os.path.relpath(folder / ".gitignore", repo.root).replace(os.sep, "/")
        scm.stage(repo.root, [pointer_rel, ignore])


def result(rel: str, p: Pointer, status: str, fetched: TransferResult | None) -> ImportResult:
    assert p.source is not None
    source = p.source.to_dict()
    return ImportResult(
        rel + pointers.SUFFIX, rel, p.kind, p.oid, p.size, p.files, source, status, fetched
    )


def bring(
    repo: Repo, src: clone.Source, found: Found, where: Where | None, progress: Progress | None
) -> tuple[TreeEntry, int, TransferResult | None]:
    """The object of ``found`` (dvlite data) fetched into the cache: entry, files, transfer."""
    assert found.item is not None
    rem = open_remote(src, where, repo.config)
    with cache_repo(repo):
        entry, fetched = fetch(repo, rem, found, progress)
    return entry, count_files(repo, found, entry), fetched


def count_files(repo: Repo, found: Found, entry: TreeEntry) -> int:
    """How many files ``entry`` (all or part of ``found``'s data) holds."""
    assert found.item is not None
    if entry.oid == found.item.pointer.oid:
        return found.item.pointer.files
    if entry.type != DIR:
        return 1
    return sum(1 for _ in tree.files(repo.cache.load_tree, entry, found.rel))


def from_git(repo: Repo, src: clone.Source, found: Found, rel: str) -> tuple[TreeEntry, int]:
    """Files git tracks in the source, written at ``rel`` and added to the cache as add does."""
    dest = os.fspath(repo.abspath(rel))
    write_git_files(src, found, dest)
    [added] = add(repo, [dest], stage=False)
    executable = added.kind != DIR and os.access(dest, os.X_OK)
    name = posixpath.basename(rel)
    return TreeEntry(name, added.kind, added.oid, added.size, executable), added.files


def import_repo(
    repo: Repo,
    url: str,
    path: str,
    *,
    rev: str | None = None,
    out: str | None = None,
    where: Where | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import ``path`` of the repository at ``url`` (at ``rev``) to ``out`` (default: the
    path's name, here)."""
    in_source = source_path(path)
    rel = target(repo, out or posixpath.basename(in_source), force)
    with clone.fetched(url, rev) as src:
        found = locate(src, in_source)
        source = RepoSource(recorded_url(repo, url), found.rel, src.commit, rev)
        if found.item is None:
            entry, files = from_git(repo, src, found, rel)
            fetched = None
        else:
            entry, files, fetched = bring(repo, src, found, where, progress)
    p = record(repo, rel, entry, files, source, force=force)
    return result(rel, p, IMPORTED, fetched)
