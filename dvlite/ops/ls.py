"""``dvlite ls``: the tracked files at a revision (or in the workspace's pointers), with size
and oid, looking inside tracked folders."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from dvlite.errors import PathError
from dvlite.git import history
from dvlite.objects import tree
from dvlite.objects.tree import TreeEntry
from dvlite.records.repo import Repo
from dvlite.records.tracked import Tracked


@dataclass(frozen=True, slots=True)
class LsEntry:
    path: str
    kind: str  # "file", or "dir" for a folder whose tree is not in the cache
    oid: str
    size: int
    source: str  # the pointer file (or lock) that tracks it
    in_cache: bool = True

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def ls(repo: Repo, path: str | None = None, rev: str | None = None) -> list[LsEntry]:
    """Every tracked file at ``rev`` (default: the workspace's pointers) under ``path``; a folder
    whose tree the cache lacks is one entry (kind ``dir``, ``in_cache`` false)."""
    prefix = repo.rel(path) if path else ""
    items = history.tracked_at(repo, rev or history.WORKSPACE)
    found: list[LsEntry] = []
    for item in sorted(items, key=lambda t: t.rel):
        if prefix and not (_under(item.rel, prefix) or _under(prefix, item.rel)):
            continue
        for rel, entry, cached in _walk(repo, item):
            if not prefix or _under(rel, prefix) or (not cached and _under(prefix, rel)):
                found.append(LsEntry(rel, entry.type, entry.oid, entry.size, item.source, cached))
    if prefix and not found:
        where = f" at {rev}" if rev else ""
        raise PathError(f"{path}: nothing tracked there{where}")
    found.sort(key=lambda e: e.path)
    return found


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + "/")


def _walk(repo: Repo, item: Tracked) -> list[tuple[str, TreeEntry, bool]]:
    """The files of ``item``, each with whether the cache has it; a folder it lacks, whole."""
    gone: list[tuple[str, TreeEntry, bool]] = []
    walked = tree.files(
        repo.cache.load_tree,
        item.entry,
        item.rel,
        source=item.source,
        on_missing=lambda path, e, _exc: gone.append((path, e, False)),
    )
    return [(path, e, repo.cache.exists(e.oid)) for path, e in walked] + gone
