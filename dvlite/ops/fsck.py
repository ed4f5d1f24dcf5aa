"""``dvlite fsck``: re-hash every cache object; report corrupt ones and ones that are missing."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

from dvlite.objects import fsutil
from dvlite.objects.tree import DIR
from dvlite.progress import FileBytes, Progress
from dvlite.records.compare import missing_objects
from dvlite.records.repo import Repo
from dvlite.records.tracked import Tracked, collect


@dataclass
class FsckResult:
    checked: int = 0
    repaired: int = 0  # objects fetched by --repair
    # what --repair did before this check (not in to_dict, which gives what the check found):
    repaired_from: str | None = None  # the remote the objects came from, when any were needed
    removed: list[str] = field(default_factory=list)  # temporary files removed
    temporary: list[str] = field(default_factory=list)  # left by killed runs
    corrupt: list[str] = field(default_factory=list)  # oids whose bytes hash to something else
    missing: list[str] = field(default_factory=list)  # tracked paths whose objects are absent

    @property
    def ok(self) -> bool:
        return not (self.corrupt or self.missing or self.temporary)

    def to_dict(self) -> dict[str, object]:
        found = ("checked", "corrupt", "missing", "repaired", "temporary")
        return {**{name: getattr(self, name) for name in found}, "ok": self.ok}


def fsck(
    repo: Repo, progress: Progress | None = None, *, repair: bool = False, remote: str | None = None
) -> FsckResult:
    """Re-hash every cache object; report corrupt ones, tracked data whose objects are missing,
    and temporary files of killed runs. With ``repair``, when anything is wrong: fetch good
    copies from ``remote``, remove the temporary files, and check again (``repaired``,
    ``repaired_from`` and ``removed`` say what the repair did; TransferError if it fell short)."""
    result = _check(repo, progress)
    if not repair or result.ok:
        return result
    repaired, source = _repair(repo, result, remote)
    again = _check(repo, progress)
    again.repaired, again.repaired_from, again.removed = repaired, source, result.temporary
    return again


def _check(repo: Repo, progress: Progress | None) -> FsckResult:
    cache = repo.cache
    oids = list(cache.iter_oids())
    result = FsckResult(checked=len(oids))
    sizes = [cache.size(oid) for oid in oids] if progress else [0] * len(oids)
    if progress:
        progress.start(len(oids), sum(sizes))
    for oid, size in zip(oids, sizes, strict=True):
        counted = FileBytes(progress.advance if progress else None)
        if cache.verify(oid, counted.on_bytes) != oid:
            result.corrupt.append(oid)
        counted.finish(size)
    items = collect(repo)
    for item in items:
        result.missing.extend(missing_objects(cache, item.entry, item.rel, source=item.source))
    result.temporary = stale_tmp_files(repo, items)
    return result


def stale_tmp_files(repo: Repo, items: list[Tracked]) -> list[str]:
    """Temporary files that killed runs left in the cache and in the tracked data's folders
    (the next checkout or pull removes those it recorded; ``fsck --repair`` all of them)."""
    tmp = os.path.join(repo.cache_dir, "tmp")
    found = [os.path.join(tmp, n) for n in fsutil.stale_tmp(tmp)]
    folders: set[str] = set()
    for item in items:
        top = os.path.join(repo.root, item.rel)
        folders.add(os.path.dirname(top))
        if item.pointer.kind == DIR:
            folders.update(folder for folder, _, _ in os.walk(top))
    for folder in sorted(folders):
        rel = os.path.relpath(folder, repo.root)
        for name in sorted(fsutil.stale_tmp(folder)):
            found.append(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
    return found


def _repair(repo: Repo, result: FsckResult, remote: str | None) -> tuple[int, str | None]:
    """Remove the temporary files ``result`` found, and fetch good copies of its corrupt
    (moved aside first) and missing objects from ``remote``: how many arrived, and from which
    remote (None when none were needed)."""
    from dvlite.transfer.fetch import fetch, fetch_oids

    for path in result.temporary:
        with contextlib.suppress(OSError):
            fsutil.remove(path if os.path.isabs(path) else repo.confined.target(path))
    for oid in result.corrupt:
        repo.cache.quarantine(oid)
    moved, source = 0, None
    if result.corrupt:  # by oid: a revision other than the workspace's may use them
        moved += fetch_oids(repo, remote, result.corrupt).transferred
    if result.missing or result.corrupt:  # and whatever the workspace lacks below them
        fetched = fetch(repo, remote=remote, run_cache=False)
        moved, source = moved + fetched.transferred, fetched.remote
    return moved, source
