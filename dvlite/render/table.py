"""Plot files read into columns (CSV, TSV, JSON records), and one revision's series of a plot
picked from them. Everything here comes from a file someone committed: a ragged row, a value
that is not a number, a missing column or a malformed file is a note or a ``PlotError``,
never a traceback."""

from __future__ import annotations

import csv
import io
import json
import math
import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dvlite.errors import PlotError

DATA_FORMATS = {".csv": "csv", ".tsv": "tsv", ".json": "json"}
IMAGE_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".svg": "svg"}
STEP = "step"  # the x of a plot that names none: the row index, as DVC calls it
# which series is the value (a number) and which the category, per kind of chart
_NUMERIC = {
    "line": ("x?", "y"),
    "scatter": ("x?", "y"),
    "bar": ("y",),
    "bar_horizontal": ("x",),
    "confusion": (),
    "confusion_normalized": (),
}

Value = float | str


def file_format(path: str) -> str | None:
    """``csv``, ``tsv``, ``json``, ``png``, ``jpeg`` or ``svg``, by the file's suffix."""
    ext = posixpath.splitext(path)[1].lower()
    return DATA_FORMATS.get(ext) or IMAGE_FORMATS.get(ext)


@dataclass(frozen=True)
class Table:
    """A file's columns, and the values of those that were kept (None where a row has none)."""

    columns: tuple[str, ...]
    values: dict[str, list[object]]
    rows: int
    ragged: int = 0  # rows whose number of cells is not the header's


Pick = Callable[[tuple[str, ...]], Sequence[str]]  # the columns -> those to keep


def read(data: bytes, fmt: str, where: str, pick: Pick) -> Table:
    """The table in ``data``; ``pick`` chooses the columns kept (and may raise PlotError)."""
    if fmt == "json":
        return _read_json(data, where, pick)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PlotError(f"{where} is not UTF-8 text") from None
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t" if fmt == "tsv" else ",")
        header = next(reader, None)
        if header is None:
            return Table((), {}, 0)
        columns = tuple(name.strip() for name in header)
        keep = {name: columns.index(name) for name in pick(columns)}
        values: dict[str, list[object]] = {name: [] for name in keep}
        rows = ragged = 0
        for row in reader:
            if not row:
                continue  # a blank line
            rows += 1
            ragged += len(row) != len(columns)
            for name, i in keep.items():
                values[name].append(row[i] if i < len(row) else None)
    except csv.Error as exc:
        raise PlotError(f"{where} is not a readable {fmt.upper()} file: {exc}") from None
    return Table(columns, values, rows, ragged)


def _read_json(data: bytes, where: str, pick: Pick) -> Table:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise PlotError(f"{where} is not valid JSON: {exc}") from None
    if isinstance(doc, dict):  # DVC's {"name": [records]}: the first list in it
        doc = next((v for v in doc.values() if isinstance(v, list)), None)
    if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
        raise PlotError(
            f'{where} must hold a list of records ([{{"step": 0, "loss": 1.5}}, ...]), '
            'or {"name": [records]}'
        )
    columns = tuple(dict.fromkeys(str(k) for record in doc for k in record))
    keep = list(pick(columns))
    values: dict[str, list[object]] = {name: [] for name in keep}
    ragged = 0
    for record in doc:
        ragged += len(record) != len(columns)
        cells = {str(k): v for k, v in record.items()}
        for name in keep:
            values[name].append(cells.get(name))
    return Table(columns, values, len(doc), ragged)


def columns_for(
    x: str | None, y: str | None, kind: str, columns: tuple[str, ...], where: str
) -> tuple[str | None, str]:
    """The x (None: the row index) and y columns a plot reads; PlotError naming a missing one.
    Defaults: x the row index (a confusion matrix: the first column), y the last column."""
    if not columns:
        raise PlotError(f"{where} has no columns: it needs a header row (CSV, TSV) or records")
    for name in (x, y):
        if name is not None and name not in columns:
            raise PlotError(f"{where} has no column {name!r} (columns: {', '.join(columns)})")
    if x is None and kind.startswith("confusion"):
        x = columns[0]
    if y is None:
        rest = [c for c in columns if c != x]
        if not rest:
            raise PlotError(f"{where} has only the column {x!r}: a plot needs a y column too")
        y = rest[-1]
    return x, y


@dataclass(frozen=True)
class Series:
    """One revision's points of one plot, as read; a chart thins them for drawing."""

    label: str  # the revision: a git revision as the user named it, or "workspace"
    xs: tuple[Value, ...]
    ys: tuple[Value, ...]
    notes: tuple[str, ...] = ()  # rows left out, and why

    def to_dict(self) -> dict[str, object]:
        xy = {"x": list(self.xs), "y": list(self.ys)}
        return {"rev": self.label, **xy, "notes": list(self.notes)}


def number(value: object) -> float | None:
    """A finite number from a cell or a JSON value; None for anything else (bools included)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        f = float(value)
    elif isinstance(value, str):
        try:
            f = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return f if math.isfinite(f) else None


def _label(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value.strip() if isinstance(value, str) else json.dumps(value, sort_keys=True)


def series(table: Table, label: str, x: str | None, y: str, kind: str) -> Series:
    """The points of ``x`` (None: the row index) against ``y``, as the chart ``kind`` reads them:
    numbers where it draws a length or a position, text where it draws a category."""
    numeric = _NUMERIC[kind]
    raw_y = table.values[y]
    raw_x: list[object] = list(range(len(raw_y))) if x is None else table.values[x]
    as_x: Callable[[object], Value | None] = number if "x" in numeric else _label
    if "x?" in numeric:  # numbers when every x is one, else categories in order
        given = [v for v in raw_x if v is not None]
        as_x = number if all(number(v) is not None for v in given) else _label
    as_y: Callable[[object], Value | None] = number if "y" in numeric else _label
    xs: list[Value] = []
    ys: list[Value] = []
    dropped = 0
    for rx, ry in zip(raw_x, raw_y, strict=True):
        vx, vy = as_x(rx), as_y(ry)
        if vx is None or vy is None:
            dropped += 1
            continue
        xs.append(vx)
        ys.append(vy)
    notes = []
    if table.ragged:
        notes.append(f"{table.ragged:,} rows have a different number of cells than the header")
    if dropped:
        need = f"{'a number' if as_y is number else 'a value'} in {y!r}"
        if x is not None:
            need += f" and {'a number' if as_x is number else 'a value'} in {x!r}"
        notes.append(f"{dropped:,} of {len(raw_y):,} rows left out: each needs {need}")
    return Series(label, tuple(xs), tuple(ys), tuple(notes))
