"""The renderer on its own: plot files read into series, charts drawn as SVG, the page. Every
string drawn comes from someone's file, so the hostile cases are the normal ones here."""

from __future__ import annotations

import base64
import re

import pytest
from plots_helpers import png

from dvlite.errors import PlotError
from dvlite.render import page, svg
from dvlite.render.charts import MAX_POINTS, Chart, thin
from dvlite.render.table import Series, Table, columns_for, number, read, series


def _table(data: bytes, fmt: str = "csv", x: str | None = None, y: str | None = None) -> Table:
    return read(data, fmt, "f", lambda cols: [c for c in columns_for(x, y, "line", cols, "f") if c])


def test_csv_tsv_and_json_records() -> None:
    csv_table = _table(b"\xef\xbb\xbfstep,loss\n0,1.5\n\n1,0.5\n", y="loss")
    assert csv_table == Table(("step", "loss"), {"loss": ["1.5", "0.5"]}, rows=2)
    tsv = read(b"a\tb\n1\t2\n", "tsv", "f", lambda cols: ["b"])
    assert tsv.values == {"b": ["2"]}
    records = b'[{"step": 0, "loss": 2}, {"step": 1, "loss": 1, "extra": true}]'
    table = _table(records, "json", x="step", y="loss")
    assert table.columns == ("step", "loss", "extra")
    assert table.values == {"step": [0, 1], "loss": [2, 1]}
    assert table.ragged == 1
    dvc_style = b'{"train": [{"x": 1, "y": 2}]}'
    assert _table(dvc_style, "json").values == {"y": [2]}
    assert read(b"", "csv", "f", lambda cols: []) == Table((), {}, 0)


@pytest.mark.parametrize(
    ("data", "fmt", "message"),
    [
        (b"{nope", "json", "f is not valid JSON: "),
        (b"[1, 2]", "json", "f must hold a list of records"),
        (b'{"a": 1}', "json", "f must hold a list of records"),
        (b"\xff\xfe,x\n", "csv", "f is not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "json", "f is not valid JSON"),
    ],
)
def test_malformed_files_are_plot_errors(data: bytes, fmt: str, message: str) -> None:
    with pytest.raises(PlotError) as exc:
        read(data, fmt, "f", lambda cols: list(cols[-1:]))
    assert str(exc.value).startswith(message)


def test_columns_defaults_and_a_missing_column() -> None:
    cols = ("step", "loss", "acc")
    assert columns_for(None, None, "line", cols, "f") == (None, "acc")
    assert columns_for("loss", None, "scatter", cols, "f") == ("loss", "acc")
    assert columns_for(None, None, "confusion", ("actual", "predicted"), "f") == (
        "actual",
        "predicted",
    )
    with pytest.raises(PlotError) as exc:
        columns_for("step", "nope", "line", cols, "loss.csv at v1")
    assert str(exc.value) == "loss.csv at v1 has no column 'nope' (columns: step, loss, acc)"
    with pytest.raises(PlotError, match="only the column 'a'"):
        columns_for("a", None, "line", ("a",), "f")


def test_ragged_rows_and_values_that_are_not_numbers() -> None:
    data = b"step,loss\n0,1\n1\n2,abc\n3,nan\n4,inf,9\n5,0.5\n"
    table = _table(data, x="step", y="loss")
    got = series(table, "HEAD", "step", "loss", "line")
    assert (got.xs, got.ys) == ((0.0, 5.0), (1.0, 0.5))
    assert got.notes == (
        "2 rows have a different number of cells than the header",
        "4 of 6 rows left out: each needs a number in 'loss' and a number in 'step'",
    )
    words = series(_table(b"day,v\nmon,1\ntue,2\n", x="day", y="v"), "w", "day", "v", "line")
    assert words.xs == ("mon", "tue")  # categories, in order
    assert number(True) is None and number(" 2.5 ") == 2.5 and number([1]) is None


def test_thinning_keeps_peaks_and_limits_points() -> None:
    ys = [0.0] * 100_000
    ys[54_321] = 9.0
    keep = thin(ys, MAX_POINTS, keep_peaks=True)
    assert len(keep) <= MAX_POINTS and 54_321 in keep and keep == sorted(keep)
    assert len(thin(ys, MAX_POINTS, keep_peaks=False)) <= MAX_POINTS
    assert thin(ys[:10], MAX_POINTS, keep_peaks=True) == list(range(10))


def _chart(kind: str, *series_: Series, title: str = "T") -> Chart:
    return Chart("p.csv", kind, title, "x", "y", series_, tuple(s.label for s in series_))


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        ("line", Series("v1", (0.0, 1.0), (1.0, 0.5)), Series("ws", (0.0, 1.0), (1.0, 0.2))),
        ("scatter", Series("v1", (0.0, 1.0), (1.0, 0.5)), Series("ws", (0.0,), (3.0,))),
        ("bar", Series("v1", ("a", "b"), (1.0, -2.0)), Series("ws", ("a", "c"), (3.0, 1.0))),
        ("bar_horizontal", Series("v1", (1.0,), ("a",)), Series("ws", (2.0,), ("b",))),
        ("confusion", Series("v1", ("a", "b"), ("a", "a")), Series("ws", ("a",), ("b",))),
        ("confusion_normalized", Series("v1", ("1", "2"), ("2", "2")), Series("ws", (), ())),
    ],
)
def test_each_kind_draws_one_element_per_series(kind: str, a: Series, b: Series) -> None:
    drawn = page.draw(_chart(kind, a, b))
    assert drawn.svg.startswith("<svg ") and drawn.svg.endswith("</svg>")
    groups = re.findall(r'<g class="series [a-z]+" data-series="([^"]+)"', drawn.svg)
    assert groups == ["v1", "ws"]
    assert "<title>" in drawn.svg
    assert page.draw(_chart(kind, a, b)).svg == drawn.svg  # deterministic


def test_confusion_counts_and_normalises_by_the_x_class() -> None:
    s = Series("v1", ("cat", "cat", "cat", "dog"), ("cat", "dog", "dog", "dog"))
    counts = page.draw(_chart("confusion", s)).svg
    assert "<title>v1: x=cat, y=dog: 2</title>" in counts
    share = page.draw(_chart("confusion_normalized", s)).svg
    assert "<title>v1: x=cat, y=dog: 0.67</title>" in share
    assert "<title>v1: x=dog, y=dog: 1.00</title>" in share


def test_a_million_points_are_thinned_and_the_chart_says_so() -> None:
    n = 1_000_000
    big = Series("HEAD", tuple(float(i) for i in range(n)), tuple(float(i % 977) for i in range(n)))
    drawn = page.draw(_chart("line", big))
    assert drawn.notes == [
        "HEAD: drew 2,000 of 1,000,000 points (the lowest and highest of each stretch)"
    ]
    assert len(drawn.svg) < 40_000  # one path, no marker per point


def test_every_string_from_a_file_is_escaped() -> None:
    evil = "<script>alert(1)</script>"
    s = Series(evil, (evil,), (1.0,))
    chart = Chart(f"{evil}.csv", "bar", evil, evil, evil, (s,), (evil,), (evil,))
    html = page.document(evil, [page.chart_section(chart)], evil)
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert svg.esc('a"b') == "a&quot;b"


def test_the_page_loads_nothing_from_anywhere() -> None:
    html = page.document("t", [page.chart_section(_chart("line", Series("a", (0.0,), (1.0,))))])
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert "<script" not in html


def test_images_become_data_uris_only_when_their_bytes_match() -> None:
    data = png(2, 2, (255, 0, 0))
    assert page.image_uri(data, "png") == "data:image/png;base64," + base64.b64encode(data).decode()
    jpeg = page.image_uri(b"\xff\xd8\xff\xe0rest", "jpeg")
    assert jpeg is not None and jpeg.startswith("data:image/jpeg;base64,")
    assert page.image_uri(b"GIF89a", "png") is None
    assert page.image_uri(b"<html><script>x</script>", "svg") is None
    evil_svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    section = page.image_section("a.svg", "A", [page.Image("HEAD", "svg", evil_svg)])
    assert '<img src="data:image/svg+xml;base64,' in section  # never inlined: no script runs
    assert "<script" not in section and "<svg" not in section
    wrong = page.image_section("a.png", "A", [page.Image("v1", "png", b"not a png")])
    assert "a.png at v1 is not a PNG file" in wrong


def test_nice_ticks() -> None:
    assert svg.nice_ticks(0, 1) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert svg.nice_ticks(0.1, 0.3) == [0.1, 0.15, 0.2, 0.25, 0.3]
    assert svg.nice_ticks(5, 5)[0] < 5 < svg.nice_ticks(5, 5)[-1]
    assert svg.fmt(3.0) == "3" and svg.fmt(-0.0) == "0" and svg.num(-0.04) == "0"
