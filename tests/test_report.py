"""``dvlite report``: a page per revision with the stage graph, each stage's deps and outs
with the oids that revision's lock records, params, metrics, plots and the model registry."""

from __future__ import annotations

import json
import re

import pytest
from helpers import git, ok, one_line_error
from pipeline_helpers import make_pipeline
from plots_helpers import train_two_versions

from dvlite.git.revision import Snapshot
from dvlite.records.repo import Repo
from dvlite.render.graph import _through, dag_svg, layers


def _stage(html: str, name: str) -> str:
    """A stage's section, the plot sections inside it included."""
    rest = html.split(f'<section class="stage" data-stage="{name}"', 1)[1]
    return re.split(r'<section class="(stage|registry)"', rest, maxsplit=1)[0]


@pytest.fixture
def registered(repo: Repo, dvlite) -> Repo:
    """Two trained versions, v1 registered as model curve v0.1.0 and promoted to prod."""
    train_two_versions(repo)
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "-m", "v2")
    ok(dvlite("model", "register", "curve", "curve.png", "--rev", "v1"))
    ok(dvlite("model", "promote", "curve", "v0.1.0", "prod"))
    return repo


def test_a_page_per_revision(registered: Repo, dvlite) -> None:
    result = ok(dvlite("report", "v1", "workspace"))
    assert result.stdout == "Wrote dvlite_report/index.html: 2 pages (v1, workspace)\n"
    folder = registered.root / "dvlite_report"
    assert sorted(p.name for p in folder.iterdir()) == ["index.html", "v1.html", "workspace.html"]
    index = (folder / "index.html").read_text()
    assert '<a href="v1.html">v1</a>' in index and '<a href="workspace.html">' in index

    html = (folder / "v1.html").read_text()
    lock = Snapshot(registered, "v1").lock.stages["train"]
    train = _stage(html, "train")
    for recorded in (*lock.deps, *lock.outs, *lock.metrics):  # the oids v1's lock records
        assert f'<code class="oid" title="{recorded.oid}">' in train, recorded.path
    assert "<td>params.yaml</td><td>lr</td><td>0.1</td>" in train
    assert "<td>metrics.json</td><td>acc</td><td>0.6</td>" in train
    assert "<td>model curve v0.1.0</td>" in train  # curve.png at v1 is that version
    assert re.findall(r'class="series line" data-series="([^"]+)"', train) == ["v1"]
    assert train.count('<img src="data:image/png;base64,') == 1
    registry = html.split('<section class="registry">', 1)[1]
    assert "<td>curve</td><td><b>v0.1.0</b></td>" in registry  # registered at this commit
    assert "<td>prod</td>" in registry
    assert '<g class="stage" data-stage="train">' in html

    now = (folder / "workspace.html").read_text()
    assert "<td>params.yaml</td><td>lr</td><td>0.3</td>" in now
    assert "<td>curve</td><td>v0.1.0</td>" in now  # not registered at the workspace


def test_the_graph_and_a_stage_that_never_ran(repo: Repo, dvlite) -> None:
    make_pipeline(repo)
    ok(dvlite("repro", "train"))
    ok(dvlite("report"))
    html = (repo.root / "dvlite_report" / "workspace.html").read_text()
    stages = re.findall(r'<g class="stage" data-stage="([^"]+)">', html)
    assert stages == ["prepare", "train", "evaluate", "stats"]
    edges = re.findall(r'data-from="([^"]+)" data-to="([^"]+)"', html)
    assert sorted(edges) == [("prepare", "train"), ("train", "evaluate")]
    evaluate = _stage(html, "evaluate")
    assert "(dvlite.lock records no run)" in evaluate
    assert '<code>model.bin</code></td><td><span class="absent">not run</span>' in evaluate


def test_layers_route_long_arrows_around_boxes() -> None:
    edges = {"a": [], "b": ["a"], "c": ["b", "a"]}
    nodes, linked, chains = _through(["a", "b", "c"], edges)
    assert chains == [["a", "b"], ["b", "c"], ["a", "\0a\0c\x001", "c"]]
    assert [row for row in layers(nodes, linked)] == [["a"], ["b", "\0a\0c\x001"], ["c"]]
    drawn = dag_svg(["a", "b", "c"], edges, {"a": "<script>x</script>"})
    assert drawn.count('<g class="stage"') == 3 and drawn.count('class="edge"') == 3
    assert "<script" not in drawn and "&lt;script&gt;" in drawn
    assert "\0" not in drawn


def test_hostile_and_odd_input(repo: Repo, dvlite) -> None:
    (repo.root / "dvlite.yaml").write_text(
        "stages:\n  s:\n    cmd: echo '<script>alert(1)</script>'\n"
        "    plots:\n      - {p.csv: {y: nope}}\n"
    )
    (repo.root / "p.csv").write_text("a,b\n1,2\n")
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "-m", "odd")
    git(repo.root, "branch", "feature/x")
    ok(dvlite("report", "feature/x", "-o", "out"))
    html = (repo.root / "out" / "feature_x.html").read_text()
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # a plot that cannot be drawn is said on the page; the rest of the report is written
    assert "p.csv at feature/x has no column &#x27;nope&#x27; (columns: a, b)" in html
    assert one_line_error(dvlite("report", "nope")) == "Error: unknown git revision 'nope'"


def test_json_and_no_registry_without_git(tmp_dir, dvlite) -> None:
    ok(dvlite("init", "--no-scm"))
    data = json.loads(ok(dvlite("report", "--json")).stdout)
    assert [p["rev"] for p in data["pages"]] == ["workspace"]
    html = (tmp_dir / "dvlite_report" / "workspace.html").read_text()
    assert "No model registry: it keeps its records in git tags, and there is no git." in html
    assert "No stages in dvlite.yaml." in html
