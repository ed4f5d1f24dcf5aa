"""``dvlite plots show`` and ``plots diff`` on real repositories: plots kept in git, a PNG out
read from the cache at an old revision, and files someone may have crafted."""

from __future__ import annotations

import base64
import json
import os
import re
import time
from pathlib import Path

import pytest
from helpers import clone, git, ok, one_line_error
from plots_helpers import png, train_two_versions

from dvlite.api import plots_show
from dvlite.records.repo import Repo

PAGE = "dvlite_plots/index.html"


def _series(html: str, path: str) -> list[str]:
    """The data-series of the section that draws ``path``."""
    section = html.split(f'data-plot="{path}"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'class="series [a-z]+" data-series="([^"]*)"', section)


@pytest.fixture
def trained(repo: Repo) -> Repo:
    """The plots pipeline run at lr 0.1 and committed as tag v1, then run at lr 0.3."""
    train_two_versions(repo)
    return repo


def test_show_draws_every_plot_of_the_workspace(trained: Repo, dvlite) -> None:
    result = ok(dvlite("plots", "show"))
    assert result.stdout == f"Wrote {PAGE}: 4 plots (workspace)\n"
    html = (trained.root / PAGE).read_text()
    for path in ("loss.csv", "confusion.json", "importance.tsv", "curve.png"):
        assert _series(html, path) == ["workspace"], path
    assert "<h2>Training loss</h2>" in html
    image = base64.b64encode((trained.root / "curve.png").read_bytes()).decode()
    assert f'src="data:image/png;base64,{image}"' in html
    assert len(html) < 40_000  # a few KB per chart


def test_diff_overlays_a_tag_and_the_workspace(trained: Repo, dvlite) -> None:
    v1_png = png(8, 8, (25, 40, 200))  # what the stage wrote at lr 0.1
    ok(dvlite("plots", "diff", "v1"))
    html = (trained.root / PAGE).read_text()
    for path in ("loss.csv", "confusion.json", "importance.tsv", "curve.png"):
        assert _series(html, path) == ["v1", "workspace"], path
    # the PNG is a cached out: at v1 it comes from the cache by the oid v1's lock records
    assert base64.b64encode(v1_png).decode() in html
    out = trained.root / "elsewhere" / "p.html"
    result = ok(
        dvlite("plots", "diff", "v1", "HEAD", "workspace", "-t", "loss.csv", "-o", str(out))
    )
    assert result.stdout == "Wrote elsewhere/p.html: 1 plot (v1, HEAD, workspace)\n"
    assert _series(out.read_text(), "loss.csv") == ["v1", "HEAD", "workspace"]


def test_json_has_the_series_and_templates(trained: Repo, dvlite) -> None:
    data = json.loads(ok(dvlite("plots", "diff", "--json")).stdout)
    assert data["revisions"] == ["HEAD", "workspace"]
    loss, confusion, bars, image = data["plots"]
    assert (loss["kind"], loss["template"], loss["x"], loss["y"]) == (
        "line",
        "linear",
        "step",
        "loss",
    )
    assert [s["rev"] for s in loss["series"]] == ["HEAD", "workspace"]
    assert loss["series"][0]["x"][:3] == [0.0, 1.0, 2.0]
    assert loss["series"][0]["y"][1] == pytest.approx(1 / 1.1, abs=1e-4)
    assert confusion["template"] == "confusion"
    assert confusion["series"][1]["x"][:3] == ["cat", "dog", "bird"]
    assert bars["series"][1]["x"] == [0.3, 0.2] and bars["series"][1]["y"] == ["age", "size"]
    assert image["kind"] == "image" and image["images"][0]["format"] == "png"
    assert not (trained.root / PAGE).exists()  # --json writes no page


def test_targets_by_path_folder_and_stage(trained: Repo, dvlite) -> None:
    assert ok(dvlite("plots", "show", "loss.csv")).stdout.endswith(": 1 plot (workspace)\n")
    assert ok(dvlite("plots", "show", "train")).stdout.endswith(": 4 plots (workspace)\n")
    (trained.root / "extra.csv").write_text("a,b\n1,2\n")  # no stage declares it
    ok(dvlite("plots", "show", "extra.csv"))
    assert _series((trained.root / PAGE).read_text(), "extra.csv") == ["workspace"]
    assert one_line_error(dvlite("plots", "show", "model.pkl")) == (
        "Error: model.pkl is not a plot: give a plot file, a folder of them or a stage name "
        "(plots: loss.csv, confusion.json, importance.tsv, curve.png); a file no stage declares "
        "must be CSV, TSV, JSON, PNG, JPEG or SVG (.csv, .tsv, .json, .png, .jpg, .svg)"
    )
    assert one_line_error(dvlite("plots", "show", "nowhere.csv")) == (
        "Error: nowhere.csv does not exist at workspace"
    )
    assert one_line_error(dvlite("plots", "diff", "no-such-rev")) == (
        "Error: unknown git revision 'no-such-rev'"
    )


def test_diff_takes_experiment_names(trained: Repo, dvlite) -> None:
    ok(dvlite("exp", "run", "-S", "lr=0.7", "-n", "fast"))
    data = json.loads(ok(dvlite("plots", "diff", "HEAD", "fast", "--json")).stdout)
    assert data["revisions"] == ["HEAD", "fast"]
    loss, *_, image = data["plots"]
    assert [s["rev"] for s in loss["series"]] == ["HEAD", "fast"]
    assert loss["series"][1]["y"][1] == pytest.approx(1 / 1.7, abs=1e-4)
    assert [i["size"] is not None for i in image["images"]] == [True, True]  # from the cache
    assert "template" not in image


def test_a_plot_absent_at_a_revision_is_a_note(trained: Repo, dvlite) -> None:
    with (trained.root / "dvlite.yaml").open("a") as f:
        f.write("      - new.csv\n")
    (trained.root / "new.csv").write_text("step,v\n0,1\n1,2\n")
    ok(dvlite("plots", "diff", "v1"))
    html = (trained.root / PAGE).read_text()
    assert _series(html, "new.csv") == ["workspace"]
    assert "<li>new.csv is absent at v1</li>" in html


def test_an_image_missing_from_the_cache_is_a_note(trained: Repo, dvlite, monkeypatch) -> None:
    git(trained.root, "add", "-A")
    git(trained.root, "commit", "-q", "-m", "v2")
    clone(trained.root, monkeypatch)  # a fresh clone: nothing in its cache
    ok(dvlite("plots", "diff", "v1", "HEAD"))
    html = Path(PAGE).read_text()
    assert "curve.png at v1 is not in the cache; `dvlite pull --rev v1` brings it" in html
    assert _series(html, "loss.csv") == ["v1", "HEAD"]  # kept in git: there without a pull


def test_a_missing_column_is_one_clear_error(trained: Repo, dvlite) -> None:
    text = (trained.root / "dvlite.yaml").read_text().replace("y: loss", "y: nope")
    (trained.root / "dvlite.yaml").write_text(text)
    assert one_line_error(dvlite("plots", "show")) == (
        "Error: loss.csv has no column 'nope' (columns: step, loss, acc)"
    )
    # renamed since v1: drawn where it exists, a note where it does not
    (trained.root / "loss.csv").write_text("step,nope\n0,1\n1,0.5\n")
    ok(dvlite("plots", "diff", "v1"))
    html = (trained.root / PAGE).read_text()
    assert _series(html, "loss.csv") == ["workspace"]
    assert "loss.csv at v1 has no column &#x27;nope&#x27; (columns: step, loss, acc)" in html


def _declare(repo: Repo, *plots: str) -> None:
    items = "".join(f"      - {p}\n" for p in plots)
    (repo.root / "dvlite.yaml").write_text(f"stages:\n  s:\n    cmd: 'true'\n    plots:\n{items}")


def test_hostile_files(repo: Repo, dvlite) -> None:
    root = repo.root
    _declare(repo, "ragged.csv", "words.csv", "evil.csv", "fake.png", "evil.svg", "photo.jpg")
    (root / "ragged.csv").write_text("step,loss\n0,1\n1\n2,0.5,extra\n3,0.25\n")
    (root / "words.csv").write_text("step,loss\n0,one\n1,two\n")
    (root / "evil.csv").write_text("step,<script>alert(1)</script>\n0,1\n1,2\n")
    (root / "fake.png").write_text("<html><script>alert(1)</script></html>")
    evil_svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    (root / "evil.svg").write_text(evil_svg)
    (root / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 64)
    ok(dvlite("plots", "show"))
    html = (root / PAGE).read_text()
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the column name, escaped
    assert "workspace: 2 rows have a different number of cells than the header" in html
    assert "workspace: 1 of 4 rows left out: each needs a number in &#x27;loss&#x27;" in html
    assert "workspace: 2 of 2 rows left out" in html and "no points to draw" in html
    assert "fake.png at workspace is not a PNG file" in html
    assert 'src="data:image/svg+xml;base64,' in html and 'src="data:image/jpeg;base64,' in html


def test_crafted_paths(repo: Repo, dvlite, tmp_path_factory) -> None:
    _declare(repo, "../../etc/passwd")
    assert one_line_error(dvlite("plots", "show")) == (
        "Error: dvlite.yaml: stage 's' plots: '../../etc/passwd' is outside the repository; "
        "paths are relative to its root"
    )
    secret = tmp_path_factory.mktemp("outside") / "secret.csv"
    secret.write_text("a,b\n1,2\n")
    os.symlink(secret, repo.root / "link.csv")
    _declare(repo, "link.csv", "model.yaml")
    assert one_line_error(dvlite("plots", "show")) == (
        "Error: cannot draw plot model.yaml: a plot file must be CSV, TSV, JSON, PNG, JPEG or "
        "SVG (.csv, .tsv, .json, .png, .jpg, .svg)"
    )
    _declare(repo, "link.csv")
    ok(dvlite("plots", "show"))
    html = (repo.root / PAGE).read_text()
    assert "link.csv in the workspace is a link to outside the repository: not shown" in html
    assert _series(html, "link.csv") == []


def test_a_million_rows(repo: Repo, dvlite) -> None:
    _declare(repo, "big.csv")
    rows = "".join(f"{i},{(i * 7919) % 1000 / 1000}\n" for i in range(1_000_000))
    (repo.root / "big.csv").write_text("step,loss\n" + rows)
    started = time.perf_counter()
    ok(dvlite("plots", "show"))
    took = time.perf_counter() - started
    html = (repo.root / PAGE).read_text()
    assert (
        "workspace: drew 2,000 of 1,000,000 points (the lowest and highest of each stretch)" in html
    )
    assert len(html) < 60_000
    print(f"plots show, 1,000,000 rows: {took:.2f} s, page {len(html):,} bytes")


def test_no_plots_and_the_api(repo: Repo, dvlite) -> None:
    assert ok(dvlite("plots", "show")).stdout == (
        "No plots: declare them with `dvlite stage add --plots FILE` (or `plots:`).\n"
    )
    _declare(repo, "a.csv")
    (repo.root / "a.csv").write_text("x,y\n1,2\n")
    result = plots_show(write=False, repo=repo.root)
    assert result.path is None and result.plots[0].chart is not None
    assert result.plots[0].chart.series[0].ys == (2.0,)
    written = plots_show(["a.csv"], out="p/x.html", repo=repo.root)
    assert written.path == (repo.root / "p" / "x.html").resolve()
