"""The built-in expectations of checks: (records/expectations.py): each rule passing and
failing with its exact message, on CSV, TSV and Parquet files, and hostile files (a huge line,
bytes that are not UTF-8, an empty file, ragged rows)."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import pytest

from dvlite.errors import PipelineError
from dvlite.records import csvscan, tally
from dvlite.records.checks import Expectation, parse
from dvlite.records.expectations import evaluate
from dvlite.records.pipeline import normpath

GOOD = "id,label,amount,day\n1,cat,3.5,2024-01-01\n2,dog,0,2024-01-02\n3,cat,99,2024-02-29\n"


def expect(path: str = "t.csv", **rules: object) -> Expectation:
    (found,) = parse([{"expect": path, **rules}], "dvlite.yaml: stage 's'", normpath)
    assert isinstance(found, Expectation)
    return found


def findings(tmp_path: Path, text: str | bytes, name: str = "t.csv", **rules: object) -> list[str]:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return evaluate(path, expect(name, **rules), str(tmp_path / "tmp"))


ALL_RULES: dict[str, object] = {
    "columns": ["id", "label", "amount", "day"],
    "types": {"id": "int", "amount": "float", "day": "date", "label": "str"},
    "not_null": ["id", "label"],
    "range": {"amount": {"min": 0, "max": 100}, "day": {"min": datetime.date(2024, 1, 1)}},
    "rows": {"min": 3, "max": 3},
    "unique": ["id", ["label", "day"]],
}


def test_a_good_file_passes_every_rule(tmp_path: Path) -> None:
    assert findings(tmp_path, GOOD, **ALL_RULES) == []
    assert findings(tmp_path, GOOD.replace(",", "\t"), "t.tsv", **ALL_RULES) == []


@pytest.mark.parametrize(
    ("text", "rules", "message"),
    [
        (
            GOOD,
            {"columns": ["id", "price"]},
            "t.csv: no column 'price' (it has: id, label, amount, day)",
        ),
        (
            GOOD,
            {"unique": [["id", "x"], "y"]},
            "t.csv: no columns 'x', 'y' (it has: id, label, amount, day)",
        ),
        (
            GOOD + "x,cat,1.5,2024-01-03\n4.0,cat,1,2024-01-04\n",
            {"types": {"id": "int"}},
            "t.csv: column 'id': 2 values are not int: line 5 ('x'), line 6 ('4.0')",
        ),
        (
            GOOD + "5,cat,1e,2024-01-03\n",
            {"types": {"amount": "float"}},
            "t.csv: column 'amount': 1 value is not float: line 5 ('1e')",
        ),
        (
            GOOD + "5,cat,1,2023-02-29\n6,cat,1,2024/01/01\n",
            {"types": {"day": "date"}},
            "t.csv: column 'day': 2 values are not date: line 5 ('2023-02-29'), "
            "line 6 ('2024/01/01')",
        ),
        (
            "a\ntrue\nyes\n",
            {"types": {"a": "bool"}},
            "t.csv: column 'a': 1 value is not bool: line 3 ('yes')",
        ),
        (
            GOOD + "5,,1,2024-01-03\n6,,1,2024-01-04\n",
            {"not_null": ["label"]},
            "t.csv: column 'label': 2 empty values: lines 5, 6",
        ),
        (
            GOOD + "5,cat,-1,2024-01-03\n6,cat,100.5,2024-01-04\n7,cat,nan,2024-01-05\n",
            {"range": {"amount": {"min": 0, "max": 100}}},
            "t.csv: column 'amount': 3 values out of range (min 0, max 100): line 5 ('-1'), "
            "line 6 ('100.5'), line 7 ('nan')",
        ),
        (
            GOOD + "5,cat,lots,2024-01-03\n",
            {"range": {"amount": {"min": 0}}},
            "t.csv: column 'amount': 1 value is not a number: line 5 ('lots')",
        ),
        (
            GOOD,
            {"range": {"day": {"max": datetime.date(2024, 1, 31)}}},
            "t.csv: column 'day': 1 value out of range (max 2024-01-31): line 4 ('2024-02-29')",
        ),
        (GOOD, {"rows": {"min": 1000}}, "t.csv: 3 rows, fewer than the min 1,000"),
        (GOOD, {"rows": {"max": 2}}, "t.csv: 3 rows, more than the max 2"),
        (GOOD, {"rows": 5}, "t.csv: 3 rows, expected 5"),
        (
            GOOD + "2,bird,1,2024-01-09\n1,fox,1,2024-01-10\n",
            {"unique": ["id"]},
            "t.csv: column 'id': 2 duplicate values: line 5 (same as line 3), "
            "line 6 (same as line 2)",
        ),
        (
            GOOD + "9,cat,1,2024-01-01\n",
            {"unique": [["label", "day"]]},
            "t.csv: columns (label, day): 1 duplicate key: line 5 (same as line 2)",
        ),
        (
            "id,x\n" + "".join(f"{i},{'' if i % 2 else 'v'}\n" for i in range(20)),
            {"not_null": ["x"]},
            "t.csv: column 'x': 10 empty values: lines 3, 5, 7, 9, 11 and 5 more",
        ),
        ("id,id\n1,2\n", {"unique": ["id"]}, "t.csv: the header names column 'id' twice"),
    ],
)
def test_each_rule_fails_with_its_message(
    tmp_path: Path, text: str, rules: dict[str, object], message: str
) -> None:
    assert findings(tmp_path, text, **rules) == [message]


def test_empty_values_are_no_key_and_no_type_error(tmp_path: Path) -> None:
    text = "id,n\n,1\n,2\n3,\n"
    assert findings(tmp_path, text, unique=["id"], types={"n": "int"}) == []


def test_rows_span_lines_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    text = 'id,note\n1,"two\nlines"\n\n2,"three\r\nmore\nlines"\nx,ok\n'
    assert findings(tmp_path, text, types={"id": "int"}) == [
        "t.csv: column 'id': 1 value is not int: line 8 ('x')"
    ]


def test_ragged_rows_are_named_with_their_field_counts(tmp_path: Path) -> None:
    text = "a,b,c\n1,2,3\n1,2\n\n1,2,3,4\n"
    assert findings(tmp_path, text, rows={"min": 1}) == [
        "t.csv: 2 rows without the header's 3 fields: line 3 (2 fields), line 5 (4 fields)"
    ]


def test_an_empty_file_has_no_header(tmp_path: Path) -> None:
    assert findings(tmp_path, "", columns=["id"]) == ["t.csv: the file is empty (no header row)"]
    assert findings(tmp_path, "id\n", rows={"min": 1}) == ["t.csv: 0 rows, fewer than the min 1"]


def test_bytes_that_are_not_utf8_name_their_line(tmp_path: Path) -> None:
    text = b"id,name\n1,ok\n" + b"2,caf\xe9\n" * 3
    assert findings(tmp_path, text, columns=["id"]) == [
        "t.csv: line 3 is not utf-8 text (byte 0xe9 at column 6); save it as utf-8, or set "
        "'encoding:' in the check"
    ]
    assert findings(tmp_path, text, columns=["id"], encoding="latin-1") == []


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    assert findings(tmp_path, "\ufeffid\n1\n".encode(), columns=["id"]) == []


def test_a_crafted_huge_line_ends_the_scan_without_filling_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csvscan, "MAX_LINE", 1 << 20)
    text = "id,x\n1,2\n" + "9" * (3 << 20) + "\n"
    assert findings(tmp_path, text, columns=["id"]) == [
        "t.csv: line 3 is longer than 1 MiB; is it a CSV file?"
    ]
    field = 'id,x\n1,"' + "y" * 200_000 + '"\n'  # under the line limit, over the csv module's
    assert findings(tmp_path, field, columns=["id"]) == [
        "t.csv: line 2: field larger than field limit (131072)"
    ]


def test_the_real_line_limit_is_32_mib(tmp_path: Path) -> None:
    text = "id\n" + "1" * ((32 << 20) + 10)
    assert findings(tmp_path, text, columns=["id"]) == [
        "t.csv: line 2 is longer than 32 MiB; is it a CSV file?"
    ]


def test_a_missing_file_and_a_folder(tmp_path: Path) -> None:
    assert evaluate(tmp_path / "t.csv", expect()) == ["t.csv: no such file"]
    (tmp_path / "d.csv").mkdir()
    assert evaluate(tmp_path / "d.csv", expect("d.csv")) == [
        "d.csv: is a folder; an expectation reads one CSV file"
    ]


def test_duplicates_are_found_after_the_keys_spill_to_bucket_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tally, "SPILL", 50)
    rows = [*range(1, 3001), 7, 2999, 1, 5000, 5000]
    text = "id\n" + "".join(f"{i}\n" for i in rows)
    assert findings(tmp_path, text, unique=["id"]) == [
        "t.csv: column 'id': 4 duplicate values: line 3,002 (same as line 8), line 3,003 (same as "
        "line 3,000), line 3,004 (same as line 2), line 3,006 (same as line 3,005)"
    ]
    assert list((tmp_path / "tmp").iterdir()) == []  # the bucket files are gone


def test_a_big_batch_with_one_bad_row_in_the_middle(tmp_path: Path) -> None:
    rows = [f"{i},{i % 7}\n" for i in range(20_000)]
    rows[12_345] = "12345,-3\n"
    text = "id,n\n" + "".join(rows)
    assert findings(
        tmp_path, text, range={"n": {"min": 0}}, unique=["id"], rows={"min": 20_000}
    ) == ["t.csv: column 'n': 1 value out of range (min 0): line 12,347 ('-3')"]


# -- Parquet --------------------------------------------------------------------------------
def _parquet(path: Path, **columns: list[object]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table(columns), path, row_group_size=3)


def test_parquet_passes_and_fails_each_rule(tmp_path: Path) -> None:
    days = [datetime.date(2024, 1, d) for d in (1, 2, 3, 4)]
    _parquet(
        tmp_path / "t.parquet",
        id=[1, 2, 3, 4],
        label=["a", "b", "c", "d"],
        amount=[0.5, 1.0, 2.0, 3.0],
        day=days,
    )
    good = {**ALL_RULES, "rows": {"min": 4}, "unique": ["id", ["label", "day"]]}
    assert evaluate(tmp_path / "t.parquet", expect("t.parquet", **good)) == []
    _parquet(
        tmp_path / "t.parquet",
        id=[1, 2, 2, 4, 5],
        label=["a", None, "c", None, "e"],
        amount=[0.5, -1.0, float("nan"), 3.0, 200.0],
    )
    rules = {
        "columns": ["id", "price"],
        "types": {"id": "str", "amount": "float"},
        "not_null": ["label"],
        "range": {"amount": {"min": 0, "max": 100}, "label": {"min": 0}},
        "rows": {"max": 4},
        "unique": ["id"],
    }
    assert evaluate(tmp_path / "t.parquet", expect("t.parquet", **rules), str(tmp_path)) == [
        "t.parquet: no column 'price' (it has: id, label, amount)",
        "t.parquet: column 'id' has type int64, not str",
        "t.parquet: column 'label' has type string; its range needs numbers",
        "t.parquet: column 'label': 2 empty values: rows 2, 4",
        "t.parquet: column 'amount': 3 values out of range (min 0, max 100): row 2 (-1.0), "
        "row 3 (nan), row 5 (200.0)",
        "t.parquet: column 'id': 1 duplicate value: row 3 (same as row 2)",
        "t.parquet: 5 rows, more than the max 4",
    ]


def test_a_file_that_is_not_parquet(tmp_path: Path) -> None:
    (tmp_path / "t.parquet").write_text("id\n1\n")
    (message,) = evaluate(tmp_path / "t.parquet", expect("t.parquet", columns=["id"]))
    assert message.startswith("t.parquet: not a Parquet file pyarrow can read (")


def test_parquet_without_pyarrow_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _parquet(tmp_path / "t.parquet", id=[1])
    for name in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # what `import pyarrow` sees uninstalled
    with pytest.raises(PipelineError) as err:
        evaluate(tmp_path / "t.parquet", expect("t.parquet", columns=["id"]))
    assert str(err.value) == (
        "reading Parquet files needs pyarrow, which is not installed; install it with "
        "`pip install 'dvlite[parquet]'`"
    )
