"""``dvlite fsck``: re-hash every cache object; report corrupt ones and ones that are missing."""

from __future__ import annotations

from dataclasses import dataclass, field

from dvlite.repo import Repo
from dvlite.tracked import collect
from dvlite.workspace import Progress, missing_objects


@dataclass
class FsckResult:
    checked: int = 0
    repaired: int = 0  # objects fetched by --repair
    corrupt: list[str] = field(default_factory=list)  # oids whose bytes hash to something else
    missing: list[str] = field(default_factory=list)  # tracked paths whose objects are absent

    @property
    def ok(self) -> bool:
        return not (self.corrupt or self.missing)

    def to_dict(self) -> dict[str, object]:
        return {
            "checked": self.checked,
            "corrupt": self.corrupt,
            "missing": self.missing,
            "repaired": self.repaired,
            "ok": self.ok,
        }


def fsck(repo: Repo, progress: Progress | None = None) -> FsckResult:
    result = FsckResult()
    cache = repo.cache
    for oid in cache.iter_oids():
        result.checked += 1
        if cache.verify(oid) != oid:
            result.corrupt.append(oid)
        if progress:
            progress(1)
    for item in collect(repo):
        result.missing.extend(missing_objects(cache, item.entry, item.rel))
    return result


def repair(
    repo: Repo, result: FsckResult, *, remote: str | None = None, jobs: int | None = None
) -> int:
    """Fetch good copies of every corrupt and missing object ``result`` found from
    ``remote`` (the default one); the damaged ones are moved aside first. Returns how many
    objects arrived; raises TransferError when some could not be fetched."""
    from dvlite.transfer.fetch import fetch, fetch_oids

    for oid in result.corrupt:
        repo.cache.quarantine(oid)
    moved = 0
    if result.corrupt:  # by oid: a revision other than the workspace's may use them
        moved += fetch_oids(repo, remote, result.corrupt, jobs=jobs).transferred
    if result.missing or result.corrupt:  # and whatever the workspace lacks below them
        moved += fetch(repo, remote=remote, jobs=jobs, run_cache=False).transferred
    return moved
