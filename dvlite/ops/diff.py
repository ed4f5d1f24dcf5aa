"""``dvlite diff``: data files added, modified, deleted and renamed between two revisions, or
between a revision and the workspace. A subtree whose oid is equal on both sides is skipped
unread, so a diff costs what changed, not what is tracked."""

from __future__ import annotations

from dataclasses import dataclass, field

from dvlite.git import history
from dvlite.objects import tree
from dvlite.objects.tree import Change, TreeEntry
from dvlite.records.compare import compare
from dvlite.records.repo import Repo
from dvlite.records.tracked import workspace_node


@dataclass(frozen=True, slots=True)
class FileChange:
    path: str
    old: TreeEntry | None
    new: TreeEntry | None
    old_path: str | None = None  # set for renames

    @property
    def kind(self) -> str:
        if self.old_path is not None:
            return "renamed"
        return "added" if self.old is None else "deleted" if self.new is None else "modified"

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"path": self.path}
        if self.old_path is not None and self.new is not None:
            d["old_path"], d["oid"], d["size"] = self.old_path, self.new.oid, self.new.size
            return d
        if self.old is not None:
            d["old_oid"], d["old_size"] = self.old.oid, self.old.size
        if self.new is not None:
            d["new_oid"], d["new_size"] = self.new.oid, self.new.size
        return d


@dataclass
class DiffResult:
    a: str  # what was compared, as the user named it
    b: str
    added: list[FileChange] = field(default_factory=list)
    modified: list[FileChange] = field(default_factory=list)
    deleted: list[FileChange] = field(default_factory=list)
    renamed: list[FileChange] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # paths whose trees the cache lacks

    def to_dict(self) -> dict[str, object]:
        changes = {kind: [c.to_dict() for c in getattr(self, kind)] for kind in _KINDS}
        return {"a": self.a, "b": self.b, **changes, "not_in_cache": self.missing}

    @property
    def empty(self) -> bool:
        return not (self.added or self.modified or self.deleted or self.renamed)


_KINDS = ("added", "modified", "deleted", "renamed")


def diff(repo: Repo, a: str | None = None, b: str | None = None) -> DiffResult:
    """Data changes from revision ``a`` (default HEAD) to revision ``b`` (default: the
    workspace). A tree not in the cache cannot be looked inside: its path goes to ``missing``,
    and the rest of the diff is still complete."""
    a = a or "HEAD"
    old_items = {t.rel: t for t in history.tracked_at(repo, a)}
    new_items = {t.rel: t for t in history.tracked_at(repo, b or history.WORKSPACE)}
    missing: list[str] = []
    changes: list[Change] = []
    for rel in sorted(old_items.keys() | new_items.keys()):
        old, new = old_items.get(rel), new_items.get(rel)
        old_entry = old.entry if old else None
        source = (new or old_items[rel]).source
        if b is None:
            work = workspace_node(repo, new) if new is not None else None
            found = compare(repo.cache, old_entry, work, rel, missing, source)
            changes += [(d.rel, d.stored, d.work.to_entry() if d.work else None) for d in found]
        else:
            changes += tree.diff(
                repo.cache.load_tree,
                old_entry,
                new.entry if new else None,
                rel,
                source=source,
                on_missing=lambda path, *_: missing.append(path),
            )
    result = DiffResult(a, b or history.WORKSPACE, missing=sorted(set(missing)))
    added = {path: new for path, old, new in changes if old is None and new is not None}
    deleted = {path: old for path, old, new in changes if new is None and old is not None}
    # a rename: the same content deleted at one path and added at another
    by_oid: dict[str, list[str]] = {}
    for path, entry in added.items():
        by_oid.setdefault(entry.oid, []).append(path)
    for path, entry in sorted(deleted.items()):
        if targets := by_oid.get(entry.oid):
            new_path = targets.pop(0)
            result.renamed.append(FileChange(new_path, entry, added.pop(new_path), old_path=path))
        else:
            result.deleted.append(FileChange(path, entry, None))
    result.added += [FileChange(path, None, entry) for path, entry in sorted(added.items())]
    by_path = sorted(changes, key=lambda c: c[0])
    result.modified += [FileChange(path, old, new) for path, old, new in by_path if old and new]
    result.renamed.sort(key=lambda c: c.path)
    return result
