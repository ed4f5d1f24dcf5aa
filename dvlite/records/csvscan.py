"""An expectation on a CSV or TSV file, read as a stream: one pass with the csv module, the
header on the first line, a row at a time, so memory stays flat however large the file is
(lines are bounded too: a crafted file without line ends cannot fill memory). Line numbers in
the findings are the file's own (the header is line 1; a row spanning lines counts from its
first); blank lines are skipped."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from itertools import islice
from operator import itemgetter
from typing import Any

from dvlite.records import tally
from dvlite.records.checks import Expectation
from dvlite.records.tally import Keys, Offenders

MAX_LINE = 32 << 20  # characters; a longer line ends the scan with a finding
_BUFFER = 1 << 20
BATCH = 4096  # rows checked at a time


class LineTooLong(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


class _Bounded(io.RawIOBase):
    """A raw file that counts line ends and refuses a line longer than ``limit`` bytes."""

    def __init__(self, raw: io.RawIOBase, limit: int) -> None:
        self.raw, self.limit = raw, limit
        self.lines = 0  # line ends read so far
        self._run = 0  # bytes since the last line end

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.raw.read(len(b))
        if not data:
            return 0
        n = len(data)
        b[:n] = data
        last = data.rfind(b"\n")
        if last < 0:
            self._run += n
        else:
            self.lines += data.count(b"\n")
            self._run = n - last - 1
        if self._run > self.limit:
            raise LineTooLong(self.lines + 1)
        return n


def scan(path: str, exp: Expectation, tmp_dir: str | None = None) -> list[str]:
    """The findings of ``exp`` on the CSV file at ``path`` (named ``exp.path`` in them)."""
    name = exp.path
    encoding = "utf-8-sig" if exp.encoding == "utf-8" else exp.encoding  # a BOM is no column
    with open(path, "rb", buffering=0) as raw:
        bounded = _Bounded(raw, MAX_LINE)
        text = io.TextIOWrapper(io.BufferedReader(bounded, _BUFFER), encoding, newline="")
        reader = csv.reader(text, delimiter=exp.delimiter, strict=False)
        try:
            return _Rules(exp, tmp_dir).run(reader)
        except LineTooLong as exc:
            return [
                f"{name}: line {exc.line:,} is longer than {MAX_LINE >> 20} MiB; is it a CSV file?"
            ]
        except UnicodeDecodeError as exc:
            return [_not_text(path, name, exp.encoding, exc)]
        except csv.Error as exc:
            return [f"{name}: line {reader.line_num:,}: {exc}"]


def _not_text(path: str, name: str, encoding: str, exc: UnicodeDecodeError) -> str:
    """Which line is not ``encoding`` text (the decoder reads ahead, so look again)."""
    with open(path, "rb") as f:
        for number, line in enumerate(iter(lambda: f.readline(MAX_LINE), b""), 1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError as bad:
                byte = line[bad.start : bad.start + 1].hex()
                return (
                    f"{name}: line {number:,} is not {encoding} text (byte 0x{byte} at column "
                    f"{bad.start + 1}); save it as {encoding}, or set 'encoding:' in the check"
                )
    return f"{name}: not {encoding} text ({exc.reason}); set 'encoding:' in the check"


class _Rules:
    """Each rule of an expectation as a list the row loop goes through, with its column."""

    def __init__(self, exp: Expectation, tmp_dir: str | None) -> None:
        self.exp, self.tmp_dir = exp, tmp_dir
        self.findings: list[str] = []

    def run(self, reader: Any) -> list[str]:
        exp, name = self.exp, self.exp.path
        header = next(reader, None)
        if header is None:
            return [f"{name}: the file is empty (no header row)"]
        index = self._columns(header)
        kinds = dict(exp.types)
        self.nonnull = [(c, index[c], Offenders(tally.EMPTY)) for c in exp.not_null if c in index]
        self.typed = [
            (c, index[c], kind, Offenders(tally.is_not(kind)))
            for c, kind in exp.types
            if c in index and kind != "str"
        ]
        self.ranged = [
            (c, index[c], b, Offenders(tally.out_of_range(b)), tally.unparsed(b, c in kinds))
            for c, b in exp.ranges
            if c in index
        ]
        self.uniq = [
            (key, [index[c] for c in key], Keys(tally.dup_what(key), tmp_dir=self.tmp_dir))
            for key in exp.unique
            if all(c in index for c in key)
        ]
        width = len(header)
        ragged = Offenders(
            (
                f"row without the header's {width} fields",
                f"rows without the header's {width} fields",
            )
        )
        rows = 0
        try:
            while True:
                before = reader.line_num
                batch = list(islice(reader, BATCH))
                if not batch:
                    break
                lines: Sequence[int] = range(before + 1, reader.line_num + 1)
                if len(lines) != len(batch) or set(map(len, batch)) != {width}:
                    batch, lines = _sort_out(batch, before, width, ragged)
                rows += self._batch(batch, lines)
            dups = [(key, keys.finish()) for key, _, keys in self.uniq]
        finally:
            for *_, keys in self.uniq:
                keys.close()
        self._say(ragged.message(name))
        for c, *_, off in self.nonnull + self.typed:
            self._say(off.message(f"{name}: column {c!r}"))
        for c, _, _, off, bad in self.ranged:
            self._say(bad.message(f"{name}: column {c!r}") if bad else None)
            self._say(off.message(f"{name}: column {c!r}"))
        for key, off in dups:
            self._say(off.message(f"{name}: {tally.key_name(key)}"))
        self._say(tally.rows_problem(name, rows, exp))
        return self.findings

    def _batch(self, batch: list[list[str]], lines: Sequence[int]) -> int:
        """Check a batch of rows column by column (each rule a few calls into C when the
        batch holds nothing wrong); returns its size."""
        if not batch:
            return 0
        cols: dict[int, list[str]] = {}

        def column(i: int) -> list[str]:
            if i not in cols:
                cols[i] = list(map(itemgetter(i), batch))
            return cols[i]

        for _, i, off in self.nonnull:
            tally.empties(column(i), lines, off)
        for _, i, kind, off in self.typed:
            tally.types(kind, column(i), lines, off)
        for _, i, b, off, bad in self.ranged:
            tally.bounds(b, column(i), lines, off, bad)
        for _, idx, keys in self.uniq:
            if len(idx) == 1:
                tally.add_keys(keys, column(idx[0]), lines)
            else:
                parts = [column(i) for i in idx]
                tally.add_keys(keys, list(map(tally.composite, zip(*parts, strict=True))), lines)
        return len(batch)

    def _columns(self, header: list[str]) -> dict[str, int]:
        """column -> its position; the columns the expectation needs and the header lacks, or
        names twice, are findings."""
        index: dict[str, int] = {}
        twice = []
        for i, col in enumerate(header):
            if col in index:
                twice.append(col)
            index.setdefault(col, i)
        self._say(tally.missing_columns(self.exp, header))
        for col in dict.fromkeys(c for c in twice if c in self.exp.used):
            self._say(f"{self.exp.path}: the header names column {col!r} twice")
            index.pop(col)
        return index

    def _say(self, finding: str | None) -> None:
        if finding:
            self.findings.append(finding)


def _sort_out(
    batch: list[list[str]], before: int, width: int, ragged: Offenders
) -> tuple[list[list[str]], list[int]]:
    """A batch with blank lines, ragged rows or rows spanning lines: its good rows and the
    line where each starts (a row spans one line more than the line breaks in its fields)."""
    good, lines = [], []
    at = before + 1
    for row in batch:
        if len(row) == width:
            good.append(row)
            lines.append(at)
        elif row:  # not a blank line
            ragged.add(at, f"{len(row)} fields")
        at += 1 + sum(f.count("\n") + f.count("\r") - f.count("\r\n") for f in row)
    return good, lines
