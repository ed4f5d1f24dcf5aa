"""What an expectation finds wrong, counted while a file streams past: offending rows (the
first few kept, with their line or row numbers), the tests of a value's type, and duplicate
keys in bounded memory. Shared by the CSV and the Parquet readers."""

from __future__ import annotations

import bisect
import datetime
import heapq
import math
import os
import re
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, BinaryIO

from xxhash import xxh3_128_digest as xxh3

if TYPE_CHECKING:
    from dvlite.records.checks import Bounds, Expectation

SHOWN = 5  # offending rows a message names
SPILL = 250_000  # keys of a unique rule kept in memory before they go to bucket files
_PATTERNS = {
    "int": r"[+-]?[0-9]+",
    "float": r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:nan|inf|infinity)",
    "date": r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
}
_ONE = {k: re.compile(p, re.I) for k, p in _PATTERNS.items()}
# a batch of values joined by NUL matched at once: one call into C for thousands of values
_ALL = {k: re.compile(f"(?:(?:{p})\x00)*(?:{p})", re.I) for k, p in _PATTERNS.items()}
_INT, _FLOAT, _DATE = _ONE["int"], _ONE["float"], _ONE["date"]
BOOLS = frozenset(("true", "false", "True", "False", "TRUE", "FALSE", "1", "0"))


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def shown(value: object) -> str:
    """A value as a message quotes it: repr, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class Offenders:
    """Rows that break one rule: how many, and the first few (number, note)."""

    def __init__(self, what: tuple[str, str], unit: str = "line") -> None:
        self.what, self.unit = what, unit  # ("empty value", "empty values"), ...
        self.count = 0
        self.first: list[tuple[int, str | None]] = []

    def add(self, at: int, note: str | None = None) -> None:
        self.count += 1
        if len(self.first) < SHOWN:
            self.first.append((at, note))

    def merge(self, count: int, first: Iterable[tuple[int, str | None]]) -> None:
        """Rows found out of order (another pass): keep the lowest numbers."""
        self.count += count
        self.first = heapq.nsmallest(SHOWN, [*self.first, *first])

    def message(self, head: str) -> str | None:
        """``head: 3 values ...: line 4 ('-1'), line 9 ('-2') and 1 more``; None when clean."""
        if not self.count:
            return None
        if all(note is None for _, note in self.first):
            where = (f"{self.unit}s " if len(self.first) > 1 else f"{self.unit} ") + ", ".join(
                f"{at:,}" for at, _ in self.first
            )
        else:
            where = ", ".join(
                f"{self.unit} {at:,}" + (f" ({note})" if note else "") for at, note in self.first
            )
        more = self.count - len(self.first)
        tail = f" and {more:,} more" if more else ""
        what = self.what[0] if self.count == 1 else self.what[1]
        return f"{head}: {self.count:,} {what}: {where}{tail}"


def dup_what(key: tuple[str, ...]) -> tuple[str, str]:
    return (
        ("duplicate value", "duplicate values")
        if len(key) == 1
        else ("duplicate key", "duplicate keys")
    )


def is_not(what: str) -> tuple[str, str]:
    return (f"value is not {what}", f"values are not {what}")


def out_of_range(bounds: object) -> tuple[str, str]:
    return (f"value out of range ({bounds})", f"values out of range ({bounds})")


EMPTY = ("empty value", "empty values")


def key_name(key: tuple[str, ...]) -> str:
    return f"column {key[0]!r}" if len(key) == 1 else f"columns ({', '.join(key)})"


def missing_columns(exp: Expectation, names: list[str]) -> str | None:
    """The finding for the columns ``exp`` names that the file (its ``names``) lacks."""
    missing = [c for c in exp.used if c not in set(names)]
    if not missing:
        return None
    has = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
    word = "columns" if len(missing) > 1 else "column"
    return f"{exp.path}: no {word} {', '.join(map(repr, missing))} (it has: {has or 'none'})"


def rows_problem(name: str, rows: int, exp: Expectation) -> str | None:
    b = exp.rows
    if b is None:
        return None
    if b.min is not None and b.min == b.max and rows != b.min:
        return f"{name}: {rows:,} rows, expected {b.min:,}"
    if b.min is not None and rows < b.min:  # type: ignore[operator]
        return f"{name}: {rows:,} rows, fewer than the min {b.min:,}"
    if b.max is not None and rows > b.max:  # type: ignore[operator]
        return f"{name}: {rows:,} rows, more than the max {b.max:,}"
    return None


def _is_date(value: str) -> bool:
    return to_date(value) is not None


def to_date(value: str) -> datetime.date | None:
    """An ISO date (YYYY-MM-DD) that exists, else None."""
    if not _DATE.fullmatch(value):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def to_number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


# a text value's test for each type of checks.TYPES (str: any text passes)
TESTS: dict[str, Callable[[str], object] | None] = {
    "int": _INT.fullmatch,
    "float": _FLOAT.fullmatch,
    "bool": BOOLS.__contains__,
    "date": _is_date,
    "str": None,
}


def outside(value: object, low: object, high: object) -> bool:
    """Whether ``value`` is below ``low`` or above ``high`` (NaN is always outside)."""
    if value != value:  # NaN
        return True
    return (low is not None and value < low) or (high is not None and value > high)  # type: ignore[operator]


def composite(values: Iterable[str]) -> str:
    """One text for a key of several columns, unambiguous whatever the values hold; empty
    when a part is (a key with an empty part is no key, as with SQL's NULL)."""
    parts = list(values)
    return "".join(f"{len(v)}:{v}" for v in parts) if all(parts) else ""


# -- rules on a batch of text values (CSV): values[k] is in row rows[k] -----------------------
def empties(values: list[str], rows: Sequence[int], off: Offenders) -> None:
    if "" in values:
        for v, at in zip(values, rows, strict=True):
            if not v:
                off.add(at)


def _all_of(kind: str, present: list[str]) -> bool:
    """Whether every value is of ``kind`` (quickly: False sends the caller to each value)."""
    if not present:
        return True
    if kind == "bool":
        return set(present) <= BOOLS
    if "\x00" in "".join(present) or not _ALL[kind].fullmatch("\x00".join(present)):
        return False
    if kind == "date":
        try:
            list(map(datetime.date.fromisoformat, present))
        except ValueError:
            return False
    return True


def types(kind: str, values: list[str], rows: Sequence[int], off: Offenders) -> None:
    if _all_of(kind, list(filter(None, values))):
        return
    test = TESTS[kind]
    assert test is not None
    for v, at in zip(values, rows, strict=True):
        if v and not test(v):
            off.add(at, shown(v))


def unparsed(b: Bounds, typed: bool) -> Offenders | None:
    """What counts the values a range cannot compare; None when the column's type says."""
    if typed:
        return None
    if _dates(b):
        return Offenders(("value is not a date", "values are not dates"))
    return Offenders(("value is not a number", "values are not numbers"))


def _dates(b: Bounds) -> bool:
    return isinstance(b.min if b.min is not None else b.max, datetime.date)


def bounds(
    b: Bounds, values: list[str], rows: Sequence[int], off: Offenders, bad: Offenders | None
) -> None:
    present = list(filter(None, values))
    dates = _dates(b)
    try:
        if dates and not _all_of("date", present):
            raise ValueError
        xs: list[Any] = list(map(datetime.date.fromisoformat if dates else float, present))
    except ValueError:
        pass
    else:
        if not xs:
            return
        if dates or not any(map(math.isnan, xs)):  # min and max skip NaN: look at each
            low, high = min(xs), max(xs)
            if (b.min is None or low >= b.min) and (b.max is None or high <= b.max):
                return
    conv = to_date if dates else to_number
    for v, at in zip(values, rows, strict=True):
        if v:
            x = conv(v)
            if x is None:
                if bad is not None:
                    bad.add(at, shown(v))
            elif outside(x, b.min, b.max):
                off.add(at, shown(v))


def add_keys(keys: Keys, values: list[str], rows: Sequence[int]) -> None:
    if "" in values:
        pairs = [(v, at) for v, at in zip(values, rows, strict=True) if v]
        values, rows = [v for v, _ in pairs], [at for _, at in pairs]
    keys.add(values, rows)


class Keys:
    """Duplicate keys among rows. Each key is kept as its 16-byte hash with the row where it
    was first seen: in a dict while there are fewer than ``spill``, then in 256 bucket files
    (by the hash's first byte) checked one at a time at the end, so memory stays bounded by a
    bucket (rows / 256) whatever the file's size. Keys come in batches: the common case, no
    duplicate, costs a few set operations in C per batch."""

    _BUCKETS = 256
    _RECORD = struct.Struct(">16sQ")  # hash, row: sorting records sorts by (hash, row)

    def __init__(
        self,
        what: tuple[str, str],
        unit: str = "line",
        tmp_dir: str | None = None,
        spill: int | None = None,
    ) -> None:
        self.dups = Offenders(what, unit)
        self._seen: dict[bytes, int] = {}
        self._spill_at, self._tmp = spill or SPILL, tmp_dir
        self._dir: str | None = None
        self._files: list[BinaryIO] = []

    def add(self, keys: Sequence[str], rows: Sequence[int]) -> None:
        """``keys[i]`` is the key of row ``rows[i]`` (rows ascending)."""
        hashes = list(map(xxh3, map(str.encode, keys)))  # values decoded strictly: no surrogates
        if self._files:
            self._write(hashes, rows)
            return
        seen = self._seen
        if len(set(hashes)) == len(hashes) and seen.keys().isdisjoint(hashes):
            seen.update(zip(hashes, rows, strict=True))
        else:
            for h, at in zip(hashes, rows, strict=True):
                first = seen.setdefault(h, at)
                if first != at:
                    self.dups.add(at, f"same as {self.dups.unit} {first:,}")
        if len(seen) >= self._spill_at:
            self._spill()

    def _spill(self) -> None:
        if self._tmp:
            os.makedirs(self._tmp, exist_ok=True)
        self._dir = tempfile.mkdtemp(prefix="unique-", dir=self._tmp)
        self._files = [
            open(os.path.join(self._dir, f"{i:02x}"), "wb", buffering=1 << 15)  # noqa: SIM115
            for i in range(self._BUCKETS)
        ]
        self._write(list(self._seen), list(self._seen.values()))
        self._seen = {}

    def _write(self, hashes: Sequence[bytes], rows: Sequence[int]) -> None:
        """Each (hash, row) to the bucket of the hash's first byte: packed and sorted (by
        hash, the first bytes), then cut where the first byte changes."""
        records = sorted(map(self._RECORD.pack, hashes, rows))
        start = 0
        while start < len(records):
            bucket = records[start][0]
            end = (
                bisect.bisect_left(records, bytes([bucket + 1]), start)
                if bucket < 255
                else len(records)
            )
            self._files[bucket].write(b"".join(records[start:end]))
            start = end

    def finish(self) -> Offenders:
        """The duplicates; checks the buckets when the keys spilled."""
        if not self._files:
            return self.dups
        try:
            for f in self._files:
                f.close()
            assert self._dir is not None
            for i in range(self._BUCKETS):
                with open(os.path.join(self._dir, f"{i:02x}"), "rb") as f:
                    pairs = list(self._RECORD.iter_unpack(f.read()))
                if len(set(map(itemgetter(0), pairs))) == len(pairs):
                    continue
                pairs.sort()  # by hash, then row: a run's first row is where its key was seen
                runs: dict[bytes, int] = {}
                found: list[tuple[int, str | None]] = []
                for h, at in pairs:
                    first = runs.setdefault(h, at)
                    if first != at:
                        found.append((at, f"same as {self.dups.unit} {first:,}"))
                self.dups.merge(len(found), heapq.nsmallest(SHOWN, found))
        finally:
            self.close()
        return self.dups

    def close(self) -> None:
        for f in self._files:
            f.close()
        self._files = []
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
