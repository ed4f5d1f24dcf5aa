"""Comparing a record with the workspace (``compare``) and with the cache
(``missing_objects``): what status, checkout, diff and the hooks report."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from dvlite.objects import tree
from dvlite.objects.cache import Cache
from dvlite.objects.tree import DIR, FILE, TreeEntry
from dvlite.records.workspace import FileNode, Node, open_children


@dataclass(frozen=True, slots=True)
class Delta:
    """One file that differs: ``stored`` is the tree's entry, ``work`` the workspace file."""

    rel: str
    stored: TreeEntry | None
    work: FileNode | None


def compare(
    cache: Cache,
    stored: TreeEntry | None,
    work: Node | None,
    rel: str,
    missing: list[str] | None = None,
    source: str = "",
    *,
    work_first: bool = False,
) -> Iterator[Delta]:
    """Every file that differs between a stored entry and the workspace, equal subtrees
    skipped. A stored tree the cache lacks raises CacheError, or with ``missing`` given is
    listed there and left as the workspace has it. ``work_first``: where a file and a folder
    meet, the workspace's files come before the stored ones (as a checkout deletes them)."""
    lost = None if missing is None else (lambda path, _e, _exc: missing.append(path))
    changes = tree.diff(
        cache.load_tree,
        stored,
        work,
        rel,
        source=source,
        on_missing=lost,
        children=open_children,
        new_first=work_first,
    )
    return (Delta(path, s, w) for path, s, w in changes)


def missing_objects(
    cache: Cache,
    entry: TreeEntry,
    rel: str,
    source: str = "",
    known: tuple[str, set[str]] | None = None,
) -> Iterator[str]:
    """Paths under ``entry`` whose objects the cache lacks (a missing tree counts as one), in
    tree order, looked up in bulk. A tree the cache is known to hold complete is not read;
    when nothing is missing, every tree walked is remembered as complete. ``known``: the
    cache's ``complete_trees()``, when the caller asks for many entries at once."""
    if entry.type == FILE:
        if not cache.exists(entry.oid):
            yield rel
        return
    stamp, complete = known or cache.complete_trees()
    if entry.oid in complete:
        return
    lost: set[str] = set()

    def lose(path: str, *_: object) -> None:
        lost.add(path)

    def whole(_: str, e: TreeEntry) -> bool:
        return e.oid in complete

    walked = [*tree.walk(cache.load_tree, entry, rel, source=source, on_missing=lose, prune=whole)]
    oids = {e.oid for _, e in walked if e.oid not in complete}  # trees too: a lost one is listed
    present = cache.existing(oids)
    if len(present) == len(oids) and not lost:
        cache.mark_complete([e.oid for _, e in walked if e.type == DIR], stamp)
        return
    for path, e in walked:
        if path in lost or (e.type == FILE and e.oid not in present):
            yield path
