"""lineage, dag, metrics and params on a real pipeline with real git history."""

from __future__ import annotations

import json

import pytest
from helpers import git
from pipeline_helpers import PARAMS, make_pipeline

from dvlite.records.repo import Repo


def _two_versions(repo: Repo, dvlite) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    """base: the pipeline and raw-1, not run; v1: its results (lr 0.1); v2: raw-2, lr 0.2."""
    make_pipeline(repo)
    base = git(repo.root, "rev-parse", "HEAD").strip()
    assert dvlite("repro").exit_code == 0
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "-m", "v1")
    git(repo.root, "tag", "v1.0")
    v1 = git(repo.root, "rev-parse", "HEAD").strip()
    (repo.root / "data" / "raw.txt").write_text("raw-2")
    assert dvlite("add", "data/raw.txt").exit_code == 0
    (repo.root / "params.yaml").write_text(PARAMS.replace('"lr": 0.1', '"lr": 0.2'))
    assert dvlite("repro").exit_code == 0
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "-m", "v2")
    return base, v1, git(repo.root, "rev-parse", "HEAD").strip()


def test_lineage_goes_back_to_added_data_with_commits(repo: Repo, dvlite) -> None:
    base, _v1, v2 = _two_versions(repo, dvlite)
    result = dvlite("lineage", "model.bin", "--json")
    assert result.exit_code == 0, result.output
    node = json.loads(result.stdout)
    assert (node["stage"], node["kind"], node["commit"]) == ("train", "stage", v2)
    assert node["params"] == {"params.yaml": {"train.lr": 0.2}}
    inputs = {n["path"]: n for n in node["inputs"]}
    assert set(inputs) == {"tool.py", "data/prepared"}
    assert (inputs["tool.py"]["kind"], inputs["tool.py"]["commit"]) == ("file", base)
    prepared = inputs["data/prepared"]
    assert (prepared["stage"], prepared["commit"]) == ("prepare", v2)
    raw = {n["path"]: n for n in prepared["inputs"]}["data/raw.txt"]
    assert (raw["kind"], raw["source"], raw["commit"]) == ("data", "data/raw.txt.dvl", v2)
    assert raw["oid"] == json.loads(dvlite("lineage", "data/raw.txt", "--json").stdout)["oid"]


def test_lineage_at_an_old_tag(repo: Repo, dvlite) -> None:
    base, v1, _v2 = _two_versions(repo, dvlite)
    node = json.loads(dvlite("lineage", "model.bin", "--rev", "v1.0", "--json").stdout)
    assert node["params"] == {"params.yaml": {"train.lr": 0.1}}
    assert node["commit"] == v1
    prepared = next(n for n in node["inputs"] if n["path"] == "data/prepared")
    raw = {n["path"]: n for n in prepared["inputs"]}["data/raw.txt"]
    assert (raw["commit"], prepared["commit"]) == (base, v1)
    now = json.loads(dvlite("lineage", "model.bin", "--json").stdout)
    assert now["oid"] != node["oid"]
    human = dvlite("lineage", "model.bin", "--rev", "v1.0")
    assert human.exit_code == 0
    assert "stage train" in human.stdout and "params: train.lr=0.1" in human.stdout
    assert "tracked by data/raw.txt.dvl" in human.stdout
    bad = dvlite("lineage", "model.bin", "--rev", "nope")
    assert (bad.exit_code, bad.stderr) == (1, "Error: unknown git revision 'nope'\n")


@pytest.mark.usefixtures("pipeline")
def test_lineage_of_uncommitted_results(repo: Repo, dvlite) -> None:
    assert dvlite("repro").exit_code == 0
    node = json.loads(dvlite("lineage", "metrics.json", "--json").stdout)
    assert (node["stage"], node["commit"]) == ("evaluate", "uncommitted")
    assert node["inputs"][0]["path"] == "model.bin"
    missing = dvlite("lineage", "nothing.txt")
    assert (missing.exit_code, missing.stderr) == (
        1,
        "Error: nothing.txt: no such file, pointer or stage output at workspace\n",
    )


@pytest.mark.usefixtures("pipeline")
def test_lineage_downstream(repo: Repo, dvlite) -> None:
    result = dvlite("lineage", "data/raw.txt", "--downstream", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert [d["stage"] for d in found] == ["prepare", "train", "evaluate", "stats"]
    assert found[0]["via"] == ["data/raw.txt"]
    assert found[1]["via"] == ["stage prepare"]
    assert (
        dvlite("lineage", "metrics.json", "--downstream").stdout
        == "No stage depends on metrics.json.\n"
    )


@pytest.mark.usefixtures("pipeline")
def test_dag_formats(repo: Repo, dvlite) -> None:
    assert dvlite("dag").stdout == "prepare\n└── train\n    └── evaluate\nstats\n"
    mermaid = dvlite("dag", "--format", "mermaid").stdout
    assert mermaid.startswith("flowchart TD\n") and "s0 --> s1" in mermaid
    dot = dvlite("dag", "--format", "dot").stdout
    assert '"prepare" -> "train";' in dot and '"train" -> "evaluate";' in dot
    data = json.loads(dvlite("dag", "--format", "json").stdout)
    assert data["edges"] == [["prepare", "train"], ["train", "evaluate"]]


def test_metrics_and_params_across_revisions(repo: Repo, dvlite) -> None:
    base, v1, v2 = _two_versions(repo, dvlite)
    shown = json.loads(dvlite("metrics", "show", "--json").stdout)
    assert list(shown) == ["workspace"]
    assert shown["workspace"]["metrics.json"]["score"] > 0
    every = json.loads(dvlite("metrics", "show", "--all-commits", "--json").stdout)
    assert list(every) == [v2[:12], v1[:12], base[:12]]
    assert every[base[:12]] == {}
    diff = json.loads(dvlite("metrics", "diff", "v1.0", "HEAD", "--json").stdout)
    assert diff == [] or diff[0]["key"] == "score"
    assert dvlite("metrics", "diff", "v1.0", "HEAD", "--all").exit_code == 0
    params = json.loads(dvlite("params", "diff", "v1.0", "--json").stdout)
    assert params == [
        {"path": "params.yaml", "key": "train.lr", "old": 0.1, "new": 0.2, "change": 0.1}
    ]
    table = dvlite("params", "diff", "v1.0")
    assert "train.lr" in table.stdout and "+0.1" in table.stdout
    assert dvlite("params", "diff").stdout == "No param changed.\n"
