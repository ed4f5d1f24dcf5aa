"""``dvlite status``: how the workspace differs from what the pointers record."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dvlite.errors import CacheError
from dvlite.repo import Repo
from dvlite.tracked import collect, workspace_node
from dvlite.workspace import compare, missing_objects

MODIFIED, NEW, DELETED, NOT_IN_CACHE = "modified", "new", "deleted", "not in cache"


@dataclass(frozen=True, slots=True)
class Change:
    path: str
    state: str


@dataclass(frozen=True, slots=True)
class TargetStatus:
    source: str  # the pointer file
    changes: tuple[Change, ...]

    def to_dict(self) -> dict[str, object]:
        return {"source": self.source, "changes": [{"path": c.path, "state": c.state} for c in self.changes]}


def status(repo: Repo, targets: Iterable[str | Path] | None = None) -> list[TargetStatus]:
    """Every tracked item that is not clean, with what changed, file by file."""
    report = []
    for item in collect(repo, targets):
        changes: list[Change] = []
        work = workspace_node(repo, item)
        if work is None:
            changes.append(Change(item.rel, DELETED))
        else:
            try:
                for d in compare(repo.cache, item.entry, work, item.rel):
                    state = NEW if d.stored is None else DELETED if d.work is None else MODIFIED
                    changes.append(Change(d.rel, state))
            except CacheError:
                pass  # the stored tree is not here to compare with: reported just below
        missing = missing_objects(repo.cache, item.entry, item.rel, work)
        changes.extend(Change(rel, NOT_IN_CACHE) for rel in missing)
        if changes:
            report.append(TargetStatus(item.source, tuple(changes)))
    return report
