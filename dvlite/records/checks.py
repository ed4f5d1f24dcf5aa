"""A stage's ``checks:``: data-quality gates run after its command and before its outputs are
recorded. Each item is a shell command (it passes when it exits 0) or a built-in expectation
about a CSV, TSV or Parquet file::

    checks:
      - python -m pytest tests/data
      - expect: data/prepared/train.csv
        columns: [id, label, amount]
        types: {id: int, amount: float}
        not_null: [id, label]
        range: {amount: {min: 0}}
        rows: {min: 1000}
        unique: [id, [user, day]]     # a column, or several that form one key

Only the declaration lives here, with the two records of results: ``CheckRecord`` (dvlite.lock,
a stage whose checks passed) and the failure record (``.dvlite/tmp/checks.json``, not
committed). Evaluating an expectation is ``records.expectations``; running checks is
``ops.check``.
"""

from __future__ import annotations

import datetime
import json
import os
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import xxhash

from dvlite.errors import PipelineError
from dvlite.objects import fsutil

TYPES = ("int", "float", "str", "bool", "date")
FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
KEYS = (
    "expect", "format", "delimiter", "encoding", "columns", "types", "not_null", "range", "rows",
    "unique",
)  # fmt: skip
FAILURES_FILE = "checks.json"  # in .dvlite/tmp/
Normalise = Callable[[str, str], str]  # (path, where) -> the repository-relative path
Bound = int | float | datetime.date


@dataclass(frozen=True, slots=True)
class Command:
    """A check that is a shell command: it passes when it exits 0."""

    cmd: str

    @property
    def label(self) -> str:
        return self.cmd

    def to_yaml(self, relative: Callable[[str], str] = str) -> object:
        return self.cmd


@dataclass(frozen=True, slots=True)
class Bounds:
    min: Bound | None = None
    max: Bound | None = None

    def __str__(self) -> str:
        parts = [
            f"{k} {_text(v)}" for k, v in (("min", self.min), ("max", self.max)) if v is not None
        ]
        return ", ".join(parts)

    def to_yaml(self) -> dict[str, object]:
        return {k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None}


@dataclass(frozen=True, slots=True)
class Expectation:
    """A built-in check of one data file (``format``: csv, tsv or parquet)."""

    path: str  # repository-relative
    format: str
    delimiter: str = ","
    encoding: str = "utf-8"
    columns: tuple[str, ...] = ()
    types: tuple[tuple[str, str], ...] = ()  # (column, one of TYPES)
    not_null: tuple[str, ...] = ()
    ranges: tuple[tuple[str, Bounds], ...] = ()
    rows: Bounds | None = None
    unique: tuple[tuple[str, ...], ...] = ()  # each a key of one or more columns

    @property
    def label(self) -> str:
        return f"expect {self.path}"

    @property
    def used(self) -> tuple[str, ...]:
        """Every column the expectation names, each once."""
        names = [*self.columns, *(c for c, _ in self.types), *self.not_null]
        names += [c for c, _ in self.ranges] + [c for key in self.unique for c in key]
        return tuple(dict.fromkeys(names))

    def to_yaml(self, relative: Callable[[str], str] = str) -> object:
        d: dict[str, object] = {"expect": relative(self.path)}
        if self.format != FORMATS.get(posixpath.splitext(self.path)[1].lower()):
            d["format"] = self.format
        if self.delimiter != ("\t" if self.format == "tsv" else ","):
            d["delimiter"] = self.delimiter
        if self.encoding != "utf-8":
            d["encoding"] = self.encoding
        d |= {"columns": list(self.columns), "types": dict(self.types)}
        d |= {"not_null": list(self.not_null)}
        d["range"] = {c: b.to_yaml() for c, b in self.ranges}
        if self.rows is not None:
            d["rows"] = self.rows.to_yaml()
        d["unique"] = [key[0] if len(key) == 1 else list(key) for key in self.unique]
        return {k: v for k, v in d.items() if v or k == "expect"}


Check = Command | Expectation


def parse(raw: object, where: str, normpath: Normalise) -> tuple[Check, ...]:
    """The checks of a stage's ``checks:`` value; PipelineError naming what is wrong."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PipelineError(f"{where}: 'checks' must be a list of commands and expectations")
    return tuple(_one(item, f"{where} check {i}", normpath) for i, item in enumerate(raw, 1))


def _one(item: object, here: str, normpath: Normalise) -> Check:
    if isinstance(item, str):
        if not item.strip():
            raise PipelineError(f"{here}: a command must not be empty")
        return Command(item)
    if not isinstance(item, dict) or "expect" not in item:
        raise PipelineError(
            f"{here}: must be a command (a string) or a mapping with 'expect: PATH', not {item!r}"
        )
    unknown = sorted(str(k) for k in item if k not in KEYS)
    if unknown:
        raise PipelineError(f"{here} has an unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
    path = normpath(item["expect"], here)
    fmt = item.get("format", FORMATS.get(posixpath.splitext(path)[1].lower()))
    if fmt not in FORMATS.values():
        raise PipelineError(
            f"{here}: cannot tell the format of {path}; add 'format: csv', 'tsv' or 'parquet'"
        )
    delimiter = item.get("delimiter", "\t" if fmt == "tsv" else ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '\r\n"':
        raise PipelineError(f"{here}: 'delimiter' must be one character, not {delimiter!r}")
    encoding = item.get("encoding", "utf-8")
    if not isinstance(encoding, str) or not _known_encoding(encoding):
        raise PipelineError(f"{here}: unknown 'encoding' {encoding!r}")
    types = _mapping(item, "types", here)
    for col, kind in types.items():
        if kind not in TYPES:
            raise PipelineError(
                f"{here}: column {col!r} has the unknown type {kind!r} (known: {', '.join(TYPES)})"
            )
    ranges = {
        c: _bounds(b, f"{here} range of {c!r}") for c, b in _mapping(item, "range", here).items()
    }
    rows = _rows(item.get("rows"), f"{here} rows")
    kinds = {c: str(k) for c, k in types.items()}
    columns = _columns(item.get("columns"), f"{here} columns")
    not_null = _columns(item.get("not_null"), f"{here} not_null")
    unique = _keys(item.get("unique"), f"{here} unique")
    return Expectation(
        path, str(fmt), delimiter, _codec(encoding), columns, tuple(kinds.items()), not_null,
        tuple(ranges.items()), rows, unique,
    )  # fmt: skip


def _rows(raw: object, here: str) -> Bounds | None:
    """``rows: N`` (exactly N) or ``rows: {min: N, max: M}``."""
    if raw is None:
        return None
    rows = _bounds(raw if isinstance(raw, dict) else {"min": raw, "max": raw}, here)
    for v in (rows.min, rows.max):
        if v is not None and (not isinstance(v, int) or v < 0):
            raise PipelineError(f"{here}: must be whole numbers, 0 or more, not {v!r}")
    return rows


def _column(value: object, here: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value):
        raise PipelineError(f"{here}: a column name must be a string, not {value!r}")
    return str(value)


def _columns(raw: object, here: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PipelineError(f"{here}: must be a list of column names")
    return tuple(dict.fromkeys(_column(c, here) for c in raw))


def _keys(raw: object, here: str) -> tuple[tuple[str, ...], ...]:
    """``[id, [user, day]]``: each item a column, or a list of columns forming one key."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PipelineError(f"{here}: must be a list of columns (or of lists of columns)")
    keys = [_columns(k, here) if isinstance(k, list) else (_column(k, here),) for k in raw]
    if not all(keys):
        raise PipelineError(f"{here}: a key needs at least one column")
    return tuple(dict.fromkeys(keys))


def _mapping(item: dict[object, object], key: str, here: str) -> dict[str, object]:
    raw = item.get(key) or {}
    if not isinstance(raw, dict):
        raise PipelineError(f"{here}: '{key}' must map column names to values")
    return {_column(c, f"{here} {key}"): v for c, v in raw.items()}


def _bounds(raw: object, here: str) -> Bounds:
    if not isinstance(raw, dict) or not raw or set(raw) - {"min", "max"}:
        raise PipelineError(f"{here}: must be a mapping with 'min', 'max' or both")
    for v in raw.values():
        if isinstance(v, bool) or not isinstance(v, int | float | datetime.date):
            raise PipelineError(f"{here}: bounds must be numbers or dates, not {v!r}")
        if isinstance(v, datetime.datetime):
            raise PipelineError(f"{here}: bounds must be numbers or dates (no time), not {v!r}")
    low, high = raw.get("min"), raw.get("max")
    if low is not None and high is not None:
        if isinstance(low, datetime.date) != isinstance(high, datetime.date):
            raise PipelineError(f"{here}: 'min' and 'max' must both be numbers or both dates")
        if low > high:
            raise PipelineError(f"{here}: 'min' ({_text(low)}) is above 'max' ({_text(high)})")
    return Bounds(low, high)


def _known_encoding(name: str) -> bool:
    import codecs

    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def _codec(name: str) -> str:
    import codecs

    return "utf-8" if codecs.lookup(name).name == "utf-8" else name


def _text(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime.date) else repr(value)


def to_yaml(checks: tuple[Check, ...], relative: Callable[[str], str] = str) -> list[object]:
    return [c.to_yaml(relative) for c in checks]


def to_stage_yaml(checks: tuple[Check, ...], wdir: str) -> dict[str, object]:
    """``{"checks": [...]}`` as dvlite.yaml writes it for a stage in ``wdir`` (or nothing)."""
    if not checks:
        return {}
    return {"checks": to_yaml(checks, lambda p: posixpath.relpath(p, wdir) if wdir else p)}


def digest(checks: tuple[Check, ...]) -> str:
    """The checks' id: recorded with their results, so a changed check is run again."""
    raw = json.dumps(to_yaml(checks), sort_keys=True, separators=(",", ":"), default=_text)
    return "xxh128:" + xxhash.xxh3_128_hexdigest(raw.encode("utf-8"))


# -- records of results ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CheckRecord:
    """dvlite.lock's ``checks: {passed: N, digest: ...}``: these checks passed on the outputs
    the entry records."""

    passed: int
    digest: str

    def to_dict(self) -> dict[str, object]:
        return {"passed": self.passed, "digest": self.digest}

    @classmethod
    def of(cls, checks: tuple[Check, ...]) -> CheckRecord | None:
        return cls(len(checks), digest(checks)) if checks else None

    @classmethod
    def from_dict(cls, d: object, bad: Callable[[str], Exception]) -> CheckRecord:
        if not isinstance(d, dict) or set(d) != {"passed", "digest"}:
            raise bad("'checks' must be a mapping with 'passed' and 'digest'")
        passed, dig = d["passed"], d["digest"]
        if isinstance(passed, bool) or not isinstance(passed, int) or passed < 1:
            raise bad("checks 'passed' must be a whole number, 1 or more")
        if not isinstance(dig, str) or not dig.startswith("xxh128:") or len(dig) != 39:
            raise bad(f"checks 'digest' {dig!r} is not an xxh128 id")
        return cls(passed, dig)


def _failure_doc(tmp_dir: str | Path) -> dict[str, dict[str, object]]:
    try:
        doc = json.loads(Path(tmp_dir, FAILURES_FILE).read_bytes())
    except (OSError, ValueError):
        return {}
    stages = doc.get("stages") if isinstance(doc, dict) else None
    if not isinstance(stages, dict):
        return {}
    return {
        str(n): f
        for n, f in stages.items()
        if isinstance(f, dict) and isinstance(f.get("findings"), list)
    }


def failures(tmp_dir: str | Path) -> dict[str, list[str]]:
    """stage -> the findings of its last checks, when they failed (and have not passed since)."""
    return {n: [str(m) for m in f["findings"]] for n, f in _failure_doc(tmp_dir).items()}  # type: ignore[attr-defined]


def set_failure(tmp_dir: str | Path, stage: str, findings: list[str] | None) -> None:
    """Remember (or, with None, forget) that ``stage``'s checks failed; the caller holds the
    repository lock."""
    doc = _failure_doc(tmp_dir)
    if findings is None and stage not in doc:
        return
    if findings is None:
        del doc[stage]
    else:
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        doc[stage] = {"findings": findings, "at": now}
    os.makedirs(tmp_dir, exist_ok=True)
    data = json.dumps({"version": 1, "stages": doc}, indent=1, ensure_ascii=False)
    fsutil.atomic_write(Path(tmp_dir, FAILURES_FILE), data.encode("utf-8"), fsync=False)
