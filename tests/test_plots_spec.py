"""A stage's ``plots:`` in DVC's syntax, and how repro records the plots it makes: a plot that
is not an out is kept in git beside the metrics; one that is an out stays cached."""

from __future__ import annotations

import pytest
from helpers import git, ok, one_line_error
from pipeline_helpers import PY

from dvlite.errors import PipelineError
from dvlite.records import lockfile
from dvlite.records.pipeline import Pipeline, Stage, load
from dvlite.records.plotspec import Plot
from dvlite.records.repo import Repo


def _stage(plots: object, **extra: object) -> Stage:
    return Stage.from_dict("s", {"cmd": "true", "plots": plots, **extra})


def test_dvc_syntax_paths_and_mappings() -> None:
    stage = _stage(
        [
            "logs/loss.csv",
            {"./eval/../roc.json": {"x": "fpr", "y": "tpr", "template": "scatter"}},
            {"cm.json": {"template": "confusion", "x": "actual", "y": "predicted", "cache": False}},
            {"logs/loss.csv": {"y": "acc"}},  # the same path again: the first one wins
            {"bars.tsv": None},
        ]
    )
    assert stage.plots == (
        Plot("logs/loss.csv"),
        Plot("roc.json", x="fpr", y="tpr", template="scatter"),
        Plot("cm.json", x="actual", y="predicted", template="confusion"),
        Plot("bars.tsv"),
    )
    assert [p.kind for p in stage.plots] == ["line", "scatter", "confusion", "line"]
    assert _stage({"a.csv": {"x": 1, "title": "Loss"}}).plots == (
        Plot("a.csv", x="1", title="Loss"),
    )
    assert _stage("one.csv").plots == (Plot("one.csv"),)


def test_round_trip_through_dvlite_yaml() -> None:
    stage = _stage(["a.csv", {"b.json": {"x": "step", "y": "loss", "y_label": "loss (nats)"}}])
    again = Pipeline.loads(Pipeline({"s": stage}).dumps()).stages["s"]
    assert again == stage
    assert stage.to_dict()["plots"] == [
        "a.csv",
        {"b.json": {"x": "step", "y": "loss", "y_label": "loss (nats)"}},
    ]


def test_plots_kept_in_git_unless_they_are_outs() -> None:
    stage = _stage(
        ["loss.csv", "model.png", "eval/cm.json", "metrics.json"],
        outs=["model.png", "eval"],
        metrics=["metrics.json"],
    )
    assert stage.kept == ("metrics.json", "loss.csv")
    assert stage.produces == ("model.png", "eval", "metrics.json", "loss.csv")


@pytest.mark.parametrize(
    ("plots", "message"),
    [
        (
            {"a.csv": {"colour": "red"}},
            "plot a.csv has an unknown key 'colour' (known: x, y, template, title, x_label, "
            "y_label, cache)",
        ),
        (
            {"a.csv": {"template": "pie"}},
            "plot a.csv: unknown template 'pie' (known: line, linear, simple, scatter, bar, "
            "bar_horizontal, confusion, confusion_normalized)",
        ),
        ({"a.csv": {"cache": True}}, "plot a.csv: 'cache' can only be false"),
        ({"a.csv": {"x": ["a", "b"]}}, "plot a.csv: 'x' must be text, not ['a', 'b']"),
        ({"a.csv": "x"}, "plot a.csv: its settings must be a mapping"),
        ([{"a.csv": {}, "b.csv": {}}], "each plot must be a path or a one-key mapping"),
        (["../../etc/passwd"], "'../../etc/passwd' is outside the repository"),
        (7, "'plots' must be a list of paths"),
    ],
)
def test_bad_plots_are_clear_errors(plots: object, message: str) -> None:
    with pytest.raises(PipelineError) as exc:
        _stage(plots)
    assert message in str(exc.value)
    assert str(exc.value).startswith("dvlite.yaml: stage 's'")


# a stage that writes a CSV series (kept in git) and a PNG (a cached out), from its param
TRAIN = (
    "import json; lr = json.load(open('params.yaml'))['lr']; "
    "open('loss.csv', 'w').write('step,loss\\n' + ''.join(f'{i},{1 / (1 + i * lr)}\\n' "
    "for i in range(5))); open('curve.png', 'wb').write(b'PNG' + str(lr).encode())"
)


def test_run_records_plots_like_metrics_and_outs(repo: Repo, dvlite) -> None:
    (repo.root / "params.yaml").write_text('{"lr": 0.5}\n')
    cmd = f'{PY} -c "{TRAIN}"'
    ok(dvlite("run", "-n", "train", "-p", "lr", "-o", "curve.png", "--plots", "loss.csv",
              "--plots", "curve.png", cmd))  # fmt: skip
    stage = load(repo.root).stages["train"]
    assert stage.plots == (Plot("loss.csv"), Plot("curve.png"))
    entry = lockfile.load(repo.root).stages["train"]
    assert [m.path for m in entry.metrics] == ["loss.csv"]  # kept in git, as a metric is
    assert [o.path for o in entry.outs] == ["curve.png"]  # cached
    staged = git(repo.root, "diff", "--cached", "--name-only").split()
    assert "loss.csv" in staged and "curve.png" not in staged
    assert "curve.png" in (repo.root / ".gitignore").read_text()
    assert ok(dvlite("repro")).stdout == "Everything is up to date.\n"
    (repo.root / "loss.csv").write_text("step,loss\n0,9\n")
    assert "loss.csv" in ok(dvlite("repro", "--dry")).stdout
    # metrics show reads metrics files only: a CSV plot is not one
    assert ok(dvlite("metrics", "show")).stdout.startswith("No metrics")


def test_stage_add_plots_option(repo: Repo, dvlite) -> None:
    ok(dvlite("stage", "add", "-n", "p", "--plots", "sub/../a.csv", "true"))
    assert "plots:\n    - a.csv\n" in (repo.root / "dvlite.yaml").read_text()
    line = one_line_error(dvlite("stage", "add", "-n", "q", "--plots", "dvlite.lock", "true"))
    assert line == (
        "Error: dvlite.yaml: stage 'q' cannot have dvlite.lock as an output: it would replace "
        "dvlite.lock, a file the pipeline itself reads"
    )
