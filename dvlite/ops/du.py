"""``dvlite du``: how much tracked data a revision holds (bytes and files), per tracked item
and in all, read from the records (pointers, ``dvlite.lock``): nothing is hashed, and only a
path inside a tracked folder needs that folder's trees (from the cache)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from dvlite.errors import CacheError, PathError
from dvlite.git import history
from dvlite.objects import tree
from dvlite.objects.tree import DIR
from dvlite.records.repo import Repo
from dvlite.records.tracked import Tracked


@dataclass(frozen=True, slots=True)
class DuItem:
    path: str
    source: str  # the pointer file, or dvlite.lock:<stage>
    kind: str
    size: int
    files: int

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class DuResult:
    rev: str  # the revision as asked for ("workspace" without one)
    items: list[DuItem] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(i.size for i in self.items)

    @property
    def files(self) -> int:
        return sum(i.files for i in self.items)

    def to_dict(self) -> dict[str, object]:
        items = [i.to_dict() for i in self.items]
        return {"rev": self.rev, "items": items, "size": self.size, "files": self.files}


def du(repo: Repo, path: str | None = None, rev: str | None = None) -> DuResult:
    """The tracked items at ``rev`` (default: the workspace's records) at or under ``path``,
    each with its recorded size and file count; a ``path`` inside a tracked folder is one item,
    counted from that folder's trees."""
    label = rev or history.WORKSPACE
    items = history.tracked_at(repo, label)
    prefix = repo.rel(path) if path else ""
    found = []
    for item in sorted(items, key=lambda t: t.rel):
        p = item.pointer
        if not prefix or _under(item.rel, prefix):
            found.append(DuItem(item.rel, item.source, p.kind, p.size, p.files))
        elif p.kind == DIR and _under(prefix, item.rel):
            found.append(_inside(repo, item, prefix))
    if prefix and not found:
        where = f" at {rev}" if rev else ""
        raise PathError(f"{path}: nothing tracked there{where}")
    return DuResult(label, found)


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + "/")


def _inside(repo: Repo, item: Tracked, rel: str) -> DuItem:
    """The size and file count of ``rel``, inside the tracked folder ``item``."""
    load = repo.cache.load_tree
    try:
        entry, _ = tree.lookup(load, item.entry, item.rel, rel, source=item.source)
        if entry is None:
            raise PathError(f"{rel}: not in {item.rel}, as {item.source} records it")
        if entry.type != DIR:
            return DuItem(rel, item.source, entry.type, entry.size, 1)
        files = sum(1 for _ in tree.files(load, entry, rel, source=item.source))
    except CacheError:
        raise CacheError(
            f"{rel}: the trees of {item.rel} are not in the cache; run `dvlite fetch` "
            f"(or ask about {item.rel} itself: its record answers)"
        ) from None
    return DuItem(rel, item.source, DIR, entry.size, files)
