"""The one value for a recorded object: what a pointer file or a ``dvlite.lock`` entry says a
path holds (oid, kind, size, how many files, executable), and the one check of those fields
when a committed file is read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from dvlite.objects.hashing import is_oid
from dvlite.objects.tree import DIR, FILE

R = TypeVar("R", bound="Recorded")


@dataclass(frozen=True, slots=True)
class Recorded:
    path: str
    kind: str  # FILE or DIR
    oid: str
    size: int
    files: int = 1  # for a DIR: the files below it
    exec: bool = False  # an executable FILE (written only when true, as in trees)

    @classmethod
    def like(cls: type[R], path: str, other: Recorded) -> R:
        """The object ``other`` records, recorded at ``path`` (a lock's out as a pointer)."""
        return cls(path, other.kind, other.oid, other.size, other.files, other.exec)

    def fields(self) -> dict[str, object]:
        d: dict[str, object] = dict(path=self.path, kind=self.kind, oid=self.oid, size=self.size)
        if self.kind == DIR:
            d["files"] = self.files
        elif self.exec:
            d["exec"] = True
        return d

    @classmethod
    def checked(
        cls: type[R], d: Mapping[object, object], path: str, bad: Callable[[str], Exception]
    ) -> R:
        """The object fields of ``d`` read from a committed file (``path`` is checked already),
        each refused through ``bad(why)`` unless it is what dvlite writes."""
        kind, oid, size = d.get("kind"), d.get("oid"), d.get("size")
        if kind not in (FILE, DIR):
            raise bad(f"'kind' must be file or dir, not {kind!r}")
        if not is_oid(oid):
            raise bad(f"'oid' must look like xxh128:<32 hex digits>, not {oid!r}")
        if not _is_count(size):
            raise bad(f"'size' must be a whole number of bytes, not {size!r}")
        files = d.get("files", 1)
        if not _is_count(files):
            raise bad(f"'files' must be a whole number, not {files!r}")
        executable = d.get("exec", False)
        if not isinstance(executable, bool) or (executable and kind == DIR):
            raise bad(f"'exec' may only be true, for a file, not {executable!r}")
        count = files if kind == DIR else 1
        return cls(path, kind, oid, size, count, executable)  # type: ignore[arg-type]


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
