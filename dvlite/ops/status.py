"""``dvlite status``: how the workspace differs from what the pointers record."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from dvlite.errors import CacheError, ScmError
from dvlite.git import cmd as gitcmd
from dvlite.objects.fsutil import gc_paused
from dvlite.records.compare import compare, missing_objects
from dvlite.records.lockfile import LOCK_FILE
from dvlite.records.pipeline import PIPELINE_FILE
from dvlite.records.repo import Repo
from dvlite.records.tracked import collect, workspace_node

MODIFIED, NEW, DELETED, NOT_IN_CACHE = "modified", "new", "deleted", "not in cache"
NOT_PULLED = "not pulled"  # in neither the workspace nor the cache: a fresh clone before pull
OUT_OF_DATE, UNCOMMITTED = "out of date", "uncommitted"
CHECKS_FAILED = "check failed"  # a stage whose last checks failed (it is out of date too)


@dataclass(frozen=True, slots=True)
class Change:
    path: str
    state: str


@dataclass(frozen=True, slots=True)
class TargetStatus:
    source: str  # the pointer file
    changes: tuple[Change, ...]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def status(repo: Repo, targets: Iterable[str | Path] | None = None) -> list[TargetStatus]:
    """Every tracked item that is not clean, with what changed, file by file."""
    with gc_paused():
        report = _data_status(repo, targets)
    if not targets:
        report.extend(pipeline_status(repo))
    return report


def _data_status(repo: Repo, targets: Iterable[str | Path] | None) -> list[TargetStatus]:
    report = []
    known = repo.cache.complete_trees()  # once, not once for each tracked folder
    for item in collect(repo, targets):
        changes: list[Change] = []
        work = workspace_node(repo, item)
        if work is None and not repo.cache.exists(item.pointer.oid):
            report.append(TargetStatus(item.source, (Change(item.rel, NOT_PULLED),)))
            continue
        if work is None:
            changes.append(Change(item.rel, DELETED))
        else:
            try:
                for d in compare(repo.cache, item.entry, work, item.rel, source=item.source):
                    state = NEW if d.stored is None else DELETED if d.work is None else MODIFIED
                    changes.append(Change(d.rel, state))
            except CacheError:
                pass  # the stored tree is not here to compare with: reported just below
        missing = missing_objects(repo.cache, item.entry, item.rel, item.source, known)
        changes.extend(Change(rel, NOT_IN_CACHE) for rel in missing)
        if changes:
            report.append(TargetStatus(item.source, tuple(changes)))
    return report


def pipeline_status(repo: Repo) -> list[TargetStatus]:
    """Stages whose record in dvlite.lock no longer matches (they would run in `repro`), and
    dvlite.lock itself when it differs from what the last commit recorded."""
    has_pipeline = repo.abspath(PIPELINE_FILE).is_file()
    if not has_pipeline and not repo.abspath(LOCK_FILE).is_file():
        return []
    report = []
    if has_pipeline:
        from dvlite.ops.stale import Cause, schedule

        for planned in schedule(repo):
            if planned.reason and not planned.pull:  # data not pulled is reported above
                failed = planned.reason.cause is Cause.CHECKS_FAILED
                state = CHECKS_FAILED if failed else OUT_OF_DATE
                change = Change(f"{planned.name} ({planned.reason})", state)
                report.append(TargetStatus(f"{PIPELINE_FILE}:{planned.name}", (change,)))
    if repo.uses_git and _differs_from_head(repo, LOCK_FILE):
        report.append(TargetStatus(LOCK_FILE, (Change(LOCK_FILE, UNCOMMITTED),)))
    return report


def _differs_from_head(repo: Repo, rel: str) -> bool:
    try:
        return gitcmd.is_dirty(repo.root, rel)
    except ScmError:
        return True
