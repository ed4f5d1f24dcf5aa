"""repro on a real pipeline in a real git repository, with real subprocess commands."""

from __future__ import annotations

import json
import shlex
import sys

from helpers import git
from pipeline_helpers import PARAMS, PY, make_pipeline, runs

from dvlite.ops.repro import repro
from dvlite.records import lockfile
from dvlite.records.pipeline import Pipeline, Stage, load, save
from dvlite.records.repo import Repo


def test_repro_runs_everything_once_then_nothing(repo: Repo, dvlite) -> None:
    make_pipeline(repo)
    result = dvlite("repro")
    assert result.exit_code == 0, result.output
    assert sorted(runs(repo.root)) == ["evaluate", "prepare", "stats", "train"]
    assert "[train] train" not in result.stdout  # tool.py prints nothing
    assert "Stages: 4 ran." in result.stdout
    lock = lockfile.load(repo.root)
    assert sorted(lock.stages) == ["evaluate", "prepare", "stats", "train"]
    assert lock.stages["train"].params == {"params.yaml": {"train.lr": 0.1}}
    assert [o.path for o in lock.stages["prepare"].outs] == ["data/prepared"]
    assert lock.stages["prepare"].outs[0].kind == "dir"
    # outputs are git-ignored, the metric is not; the lock is staged
    assert "/model.bin" in (repo.root / ".gitignore").read_text()
    assert "/prepared" in (repo.root / "data" / ".gitignore").read_text()
    assert "metrics.json" not in (repo.root / ".gitignore").read_text()
    assert "dvlite.lock" in git(repo.root, "diff", "--cached", "--name-only")

    again = dvlite("repro")
    assert (again.exit_code, again.stdout) == (0, "Everything is up to date.\n")
    assert runs(repo.root) == []


def test_param_change_reruns_only_its_stage_and_downstream(repo: Repo, dvlite) -> None:
    make_pipeline(repo)
    assert dvlite("repro").exit_code == 0
    runs(repo.root)
    (repo.root / "params.yaml").write_text(PARAMS.replace('"lr": 0.1', '"lr": 0.5'))
    dry = dvlite("repro", "--dry")
    assert dry.stdout.splitlines() == [
        "up to date  prepare",
        "would run  train  (param train.lr changed (0.1 -> 0.5))",
        "would run  evaluate  (upstream stage 'train' runs)",
        "up to date  stats",
    ]
    assert runs(repo.root) == []  # --dry runs nothing
    # a param the stage does not name changes nothing
    (repo.root / "params.yaml").write_text(
        PARAMS.replace('"lr": 0.1', '"lr": 0.5').replace('"layers": 2', '"layers": 3')
    )
    assert dvlite("repro").exit_code == 0
    assert runs(repo.root) == ["train", "evaluate"]
    assert "train.lr=0.5" in (repo.root / "model.bin").read_text()


def test_dep_change_reruns_downstream(repo: Repo, dvlite) -> None:
    make_pipeline(repo)
    assert dvlite("repro").exit_code == 0
    runs(repo.root)
    (repo.root / "data" / "raw.txt").write_text("raw-2")
    status = dvlite("status")
    assert "prepare (dep data/raw.txt changed)" in status.stdout
    assert dvlite("status", "-q").exit_code == 1
    assert dvlite("repro", "-j", "2").exit_code == 0
    assert sorted(runs(repo.root)) == ["evaluate", "prepare", "stats", "train"]
    assert "raw-2" in (repo.root / "model.bin").read_text()


def test_upstream_rerun_with_identical_output_skips_downstream(repo: Repo) -> None:
    make_pipeline(repo)
    repro(repo)
    runs(repo.root)
    (repo.root / "model.bin").write_text("tampered")  # train reruns and rewrites the same bytes
    result = repro(repo, use_run_cache=False)
    assert (result.ran, result.skipped) == (["train"], ["evaluate"])
    assert runs(repo.root) == ["train"]
    (repo.root / "model.bin").write_text("tampered")  # now the run cache has the answer
    result = repro(repo)
    assert (result.ran, result.restored, result.skipped) == ([], ["train"], ["evaluate"])
    assert runs(repo.root) == []
    assert "train.lr=0.1" in (repo.root / "model.bin").read_text()


def test_targets_and_downstream_selection(repo: Repo, dvlite) -> None:
    make_pipeline(repo)
    assert dvlite("repro", "train").exit_code == 0
    assert runs(repo.root) == ["prepare", "train"]
    assert dvlite("repro", "--downstream", "train", "--force").exit_code == 0
    assert runs(repo.root) == ["train", "evaluate"]
    assert (
        dvlite("repro", "model.bin", "--force", "--no-run-cache").exit_code == 0
    )  # an output names its stage
    assert runs(repo.root) == ["prepare", "train"]


def test_independent_stages_overlap_with_jobs(repo: Repo, dvlite) -> None:
    stamp = (
        "import sys, time; s = time.time(); time.sleep(1); "
        "open(sys.argv[1], 'w').write(f'{s} {time.time()}')"
    )
    stages = {
        name: Stage(name, f"{PY} -c {shlex.quote(stamp)} {name}.txt", outs=(f"{name}.txt",))
        for name in ("a", "b")
    }
    save(repo.root, Pipeline(stages))
    result = dvlite("repro", "-j", "2")
    assert result.exit_code == 0, result.output
    a0, a1 = map(float, (repo.root / "a.txt").read_text().split())
    b0, b1 = map(float, (repo.root / "b.txt").read_text().split())
    assert a0 < b1 and b0 < a1  # the two runs overlapped in time


def test_stage_output_is_prefixed_with_its_name(repo: Repo, dvlite) -> None:
    save(repo.root, Pipeline({"hello": Stage("hello", f"{PY} -c \"print('hi'); print('there')\"")}))
    result = dvlite("repro")
    assert result.exit_code == 0, result.output
    assert "[hello] hi\n[hello] there\n" in result.stdout


def test_run_cache_restores_without_running(repo: Repo, dvlite) -> None:
    make_pipeline(repo)
    assert dvlite("repro", "train").exit_code == 0
    first = (repo.root / "model.bin").read_text()
    runs(repo.root)
    params = repo.root / "params.yaml"
    params.write_text(PARAMS.replace('"lr": 0.1', '"lr": 0.9'))
    assert dvlite("repro", "train").exit_code == 0
    assert runs(repo.root) == ["train"]
    params.write_text(PARAMS)
    result = dvlite("repro", "train")
    assert result.exit_code == 0, result.output
    assert "[train] restored from the run cache" in result.stdout
    assert runs(repo.root) == []  # the command did not run
    assert (repo.root / "model.bin").read_text() == first
    assert lockfile.load(repo.root).stages["train"].params == {"params.yaml": {"train.lr": 0.1}}
    assert list((repo.cache_dir / "runs").iterdir())


def test_stage_outputs_checkout_and_status(repo: Repo, dvlite) -> None:
    make_pipeline(repo)
    assert dvlite("repro").exit_code == 0
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "-m", "results")
    git(repo.root, "tag", "v1")
    v1_model = (repo.root / "model.bin").read_text()
    assert dvlite("status").stdout == ""
    from dvlite.git.history import tracked_at

    at_v1 = {t.rel: t.source for t in tracked_at(repo, "v1")}
    assert at_v1["model.bin"] == "dvlite.lock:train"
    assert at_v1["data/prepared"] == "dvlite.lock:prepare"
    assert at_v1["data/raw.txt"] == "data/raw.txt.dvl"
    assert "metrics.json" not in at_v1  # metrics live in git

    (repo.root / "model.bin").unlink()
    status = dvlite("status")
    assert status.exit_code == 0
    assert "dvlite.lock:train\n    deleted:      model.bin" in status.stdout
    assert dvlite("checkout").exit_code == 0
    assert (repo.root / "model.bin").read_text() == v1_model

    (repo.root / "params.yaml").write_text(PARAMS.replace('"lr": 0.1', '"lr": 0.7'))
    assert dvlite("repro").exit_code == 0
    git(repo.root, "commit", "-q", "-am", "lr 0.7")
    assert (repo.root / "model.bin").read_text() != v1_model
    git(repo.root, "checkout", "-q", "v1")
    assert dvlite("checkout").exit_code == 0
    assert (repo.root / "model.bin").read_text() == v1_model
    assert dvlite("status", "-q").exit_code == 0


def test_status_reports_a_lock_that_differs_from_the_commit(repo: Repo, dvlite) -> None:
    make_pipeline(repo)
    assert dvlite("repro").exit_code == 0
    result = dvlite("status")
    assert result.stdout == "dvlite.lock\n    uncommitted:  dvlite.lock\n"
    git(repo.root, "commit", "-q", "-m", "results")
    assert dvlite("status", "-q").exit_code == 0


def test_run_declares_and_runs(repo: Repo, dvlite) -> None:
    (repo.root / "in.txt").write_text("x")
    cmd = f"{PY} -c \"open('out.txt','w').write(open('in.txt').read()*2)\""
    result = dvlite("run", "-n", "double", "-d", "in.txt", "-o", "out.txt", cmd)
    assert result.exit_code == 0, result.output
    assert (repo.root / "out.txt").read_text() == "xx"
    assert load(repo.root).stages["double"] == Stage("double", cmd, ("in.txt",), (), ("out.txt",))
    assert lockfile.load(repo.root).stages["double"].outs[0].size == 2


def test_stage_add_keeps_other_stages_and_takes_unquoted_commands(repo: Repo, dvlite) -> None:
    assert (
        dvlite("stage", "add", "-n", "one", "-o", "a.txt", "echo", "a", ">", "a.txt").exit_code == 0
    )
    result = dvlite(
        "stage",
        "add",
        "-n",
        "two",
        "-d",
        "a.txt",
        "-p",
        "x.yaml:k",
        sys.executable,
        "-c",
        "print(1)",
    )
    assert result.exit_code == 0, result.output
    pipeline = load(repo.root)
    assert list(pipeline.stages) == ["one", "two"]
    assert pipeline.stages["one"].cmd == "echo a '>' a.txt"
    assert pipeline.stages["two"].params == ("x.yaml:k",)
    assert pipeline.stages["two"].cmd == shlex.join([sys.executable, "-c", "print(1)"])
    again = dvlite("stage", "add", "-n", "one", "-o", "b.txt", "true")
    assert again.exit_code == 1
    assert (
        again.stderr
        == "Error: stage 'one' already exists in dvlite.yaml; use --force to replace it\n"
    )
    assert dvlite("stage", "add", "-f", "-n", "one", "-o", "b.txt", "true").exit_code == 0
    assert load(repo.root).stages["one"].outs == ("b.txt",)


def test_params_from_another_file(repo: Repo, dvlite) -> None:
    (repo.root / "conf.yaml").write_text("model:\n  depth: 3\n")
    cmd = f"{PY} -c \"open('d.txt','w').write('d')\""
    save(
        repo.root,
        Pipeline({"s": Stage("s", cmd, params=("conf.yaml:model.depth",), outs=("d.txt",))}),
    )
    assert dvlite("repro").exit_code == 0
    assert lockfile.load(repo.root).stages["s"].params == {"conf.yaml": {"model.depth": 3}}
    (repo.root / "conf.yaml").write_text("model:\n  depth: 4\n")
    assert dvlite("repro", "--dry").stdout == "would run  s  (param model.depth changed (3 -> 4))\n"


def test_lock_is_deterministic(repo: Repo) -> None:
    make_pipeline(repo)
    repro(repo)
    first = (repo.root / "dvlite.lock").read_bytes()
    repro(repo, force=True, use_run_cache=False)
    assert (repo.root / "dvlite.lock").read_bytes() == first
    assert first.startswith(b"version: 1\nstages:\n  evaluate:\n")
    assert json.loads((repo.root / "metrics.json").read_text())["score"] > 0
