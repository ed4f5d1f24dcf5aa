"""``dvlite fsck``: re-hash every cache object; report corrupt ones and ones that are missing."""

from __future__ import annotations

from dataclasses import dataclass, field

from dvlite.repo import Repo
from dvlite.tracked import collect
from dvlite.workspace import Progress, missing_objects


@dataclass
class FsckResult:
    checked: int = 0
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
