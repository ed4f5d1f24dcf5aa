"""An expectation on a Parquet file, through pyarrow (the optional extra ``dvlite[parquet]``):
columns and types from the schema, the row count from the footer, and only the columns the
rules need read, one batch at a time (memory stays flat). Rows are numbered from 1."""

from __future__ import annotations

import datetime
from typing import Any

from dvlite.errors import PipelineError
from dvlite.records import tally
from dvlite.records.checks import Expectation
from dvlite.records.tally import Keys, Offenders, shown

BATCH = 64 * 1024  # rows read at a time
INSTALL = "install it with `pip install 'dvlite[parquet]'`"


def _arrow() -> tuple[Any, Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
    except ImportError:
        raise PipelineError(
            f"reading Parquet files needs pyarrow, which is not installed; {INSTALL}"
        ) from None
    return pa, pc, pq


def _fits(pa: Any, kind: str, t: Any) -> bool:
    """Whether the arrow type ``t`` is a column of checks type ``kind``."""
    is_str = pa.types.is_string(t) or pa.types.is_large_string(t)
    numeric = pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
    return {
        "int": pa.types.is_integer(t),
        "float": numeric,  # a whole number is a float, as "3" is in a CSV
        "str": is_str,
        "bool": pa.types.is_boolean(t),
        "date": pa.types.is_date(t),
    }[kind]


def scan(path: str, exp: Expectation, tmp_dir: str | None = None) -> list[str]:
    pa, pc, pq = _arrow()
    name = exp.path
    try:
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
    except (pa.ArrowException, OSError) as exc:
        return [f"{name}: not a Parquet file pyarrow can read ({exc})"]
    findings: list[str] = []

    def say(finding: str | None) -> None:
        if finding:
            findings.append(finding)

    names = list(schema.names)
    say(tally.missing_columns(exp, names))
    types = {n: schema.field(n).type for n in names}
    for col, kind in exp.types:
        if col in types and not _fits(pa, kind, types[col]):
            say(f"{name}: column {col!r} has type {types[col]}, not {kind}")
    nonnull = [(c, Offenders(tally.EMPTY, "row")) for c in exp.not_null if c in types]
    ranged = []
    for col, b in exp.ranges:
        if col not in types:
            continue
        t = types[col]
        dates = isinstance(b.min if b.min is not None else b.max, datetime.date)
        numeric = _fits(pa, "float", t)
        if (dates and not pa.types.is_date(t)) or (not dates and not numeric):
            need = "dates" if dates else "numbers"
            say(f"{name}: column {col!r} has type {t}; its range needs {need}")
            continue
        ranged.append((col, b, Offenders(tally.out_of_range(b), "row")))
    uniq = [
        (key, Keys(tally.dup_what(key), "row", tmp_dir))
        for key in exp.unique
        if all(c in types for c in key)
    ]
    needed = list(dict.fromkeys([c for c, _ in nonnull] + [c for c, *_ in ranged]))
    needed += [c for key, _ in uniq for c in key if c not in needed]
    try:
        if needed:
            base = 0
            for batch in pf.iter_batches(batch_size=BATCH, columns=needed):
                _batch(pa, pc, batch, base, nonnull, ranged, uniq)
                base += batch.num_rows
        for c, off in nonnull:
            say(off.message(f"{name}: column {c!r}"))
        for c, _, off in ranged:
            say(off.message(f"{name}: column {c!r}"))
        for key, keys in uniq:
            say(keys.finish().message(f"{name}: {tally.key_name(key)}"))
    except (pa.ArrowException, OSError) as exc:
        return [f"{name}: cannot read its rows ({exc})"]
    finally:
        for _, keys in uniq:
            keys.close()
    say(tally.rows_problem(name, pf.metadata.num_rows, exp))
    return findings


def _batch(pa: Any, pc: Any, batch: Any, base: int, nonnull: Any, ranged: Any, uniq: Any) -> None:
    def column(name: str) -> Any:
        return batch.column(batch.schema.get_field_index(name))

    def note(rows: Any, off: Offenders, values: Any = None) -> None:
        first = rows.slice(0, tally.SHOWN).to_pylist()
        shown_values = values.take(first).to_pylist() if values is not None else None
        notes = [shown(v) for v in shown_values] if shown_values is not None else None
        off.merge(
            len(rows), [(base + r + 1, notes[n] if notes else None) for n, r in enumerate(first)]
        )

    for c, off in nonnull:
        arr = column(c)
        if arr.null_count:
            note(pc.indices_nonzero(pc.is_null(arr)), off)
    for c, b, off in ranged:
        arr = column(c)
        masks = []
        if b.min is not None:
            masks.append(pc.less(arr, pa.scalar(b.min)))
        if b.max is not None:
            masks.append(pc.greater(arr, pa.scalar(b.max)))
        if pa.types.is_floating(arr.type):
            masks.append(pc.is_nan(arr))
        mask = masks[0]
        for m in masks[1:]:
            mask = pc.or_(mask, m)
        rows = pc.indices_nonzero(pc.fill_null(mask, False))
        if len(rows):
            note(rows, off, arr)
    for key, keys in uniq:
        values = [column(c).to_pylist() for c in key]
        texts, rows = [], []
        for r, parts in enumerate(zip(*values, strict=True)):
            if any(p is None for p in parts):
                continue  # a key with a null part is no key (as SQL's NULL)
            texts.append(repr(parts[0]) if len(parts) == 1 else tally.composite(map(repr, parts)))
            rows.append(base + r + 1)
        keys.add(texts, rows)
