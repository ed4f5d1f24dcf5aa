"""Experiments end to end, on the real pipeline of pipeline_helpers.py in a real git repository:
run with changed params without touching the workspace, the queue, show, diff, apply, branch,
remove, gc, and push/pull through a bare git remote and a folder remote."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helpers import git
from pipeline_helpers import PARAMS, PY, runs

from dvlite.records.repo import Repo


def _git(cwd: Path, *args: str) -> str:
    return git(cwd, *args).strip()


def _ref(root: Path, name: str) -> str:
    refs = _git(root, "for-each-ref", "--format=%(refname)", "refs/exps").split()
    return next(r for r in refs if r.endswith("/" + name))


def _at(root: Path, name: str, rel: str) -> str:
    """A file as experiment ``name`` holds it."""
    return _git(root, "show", f"{_ref(root, name)}:{rel}")


def _show(dvlite) -> list[dict]:
    result = dvlite("exp", "show", "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _row(rows: list[dict], name: str) -> dict:
    return next(r for r in rows if r["name"] == name)


@pytest.fixture
def ran(pipeline: Repo, dvlite) -> Repo:
    """The pipeline run once and committed: the baseline."""
    assert dvlite("repro").exit_code == 0
    _git(pipeline.root, "add", "-A")
    _git(pipeline.root, "commit", "-q", "-m", "baseline")
    runs(pipeline.root)
    return pipeline


def test_run_records_an_experiment_and_leaves_the_workspace_alone(ran: Repo, dvlite) -> None:
    root = ran.root
    head = _git(root, "rev-parse", "HEAD")
    model = (root / "model.bin").read_text()
    result = dvlite("exp", "run", "-S", "train.lr=0.25", "-n", "fast")
    assert result.exit_code == 0, result.stderr
    assert "Experiment fast done" in result.stdout
    assert "[fast:train] $" in result.stdout  # its stages' output, named
    # nothing of the workspace, the index or the branches changed
    assert (root / "params.yaml").read_text() == PARAMS
    assert (root / "model.bin").read_text() == model
    assert _git(root, "status", "--porcelain") == ""
    assert _git(root, "rev-parse", "HEAD") == head
    assert _git(root, "branch", "--format=%(refname:short)") == "main"
    refs = _git(root, "for-each-ref", "--format=%(refname)", "refs/exps").split()
    assert refs == [f"refs/exps/{head[:2]}/{head[2:]}/fast"]
    assert runs(root) == []  # its stages ran in the work tree, not here
    assert not list((ran.tmp_dir / "exps").iterdir())  # and that work tree is gone

    rows = _show(dvlite)
    assert [r["name"] for r in rows] == ["workspace", "main", "fast"]
    fast, main = _row(rows, "fast"), _row(rows, "main")
    assert fast["params"]["params.yaml:train.lr"] == 0.25
    assert main["params"]["params.yaml:train.lr"] == 0.1
    assert fast["metrics"]["metrics.json:score"] == main["metrics"]["metrics.json:score"] + 1
    assert set(fast["changed"]) == {"params.yaml:train.lr", "metrics.json:score"}
    assert fast["state"] == "done" and fast["baseline"] == head
    # its commit holds the params, the lock and the metrics it ran with
    assert json.loads(_at(root, "fast", "params.yaml"))["train"]["lr"] == 0.25
    assert "0.25" in _at(root, "fast", "dvlite.lock")


def test_a_repeated_setting_comes_from_the_run_cache(ran: Repo, dvlite) -> None:
    assert dvlite("exp", "run", "-S", "train.lr=0.3", "-n", "one").exit_code == 0
    again = dvlite("exp", "run", "-S", "train.lr=0.3", "-n", "two")
    assert again.exit_code == 0, again.stderr
    assert "restored from the run cache" in again.stdout
    assert "[two:train] $" not in again.stdout
    rows = _show(dvlite)
    assert _row(rows, "one")["metrics"] == _row(rows, "two")["metrics"]


def test_the_workspace_as_it_is_goes_into_the_experiment(ran: Repo, dvlite) -> None:
    """Uncommitted and untracked files are part of what an experiment starts from."""
    root = ran.root
    (root / "notes.txt").write_text("untracked\n")
    params = json.loads(PARAMS)
    params["prepare"]["seed"] = 7
    (root / "params.yaml").write_text(json.dumps(params))
    assert dvlite("exp", "run", "-n", "seven").exit_code == 0
    assert _at(root, "seven", "notes.txt") == "untracked"
    assert json.loads(_at(root, "seven", "params.yaml"))["prepare"]["seed"] == 7
    assert "notes.txt" in _git(root, "status", "--porcelain")  # still untracked, not staged


def test_queue_and_run_all_in_parallel(ran: Repo, dvlite) -> None:
    for lr in ("0.2", "0.35"):
        queued = dvlite("exp", "run", "--queue", "-S", f"train.lr={lr}", "-n", f"lr{lr}")
        assert queued.exit_code == 0, queued.stderr
        assert "Queued experiment" in queued.stdout
    rows = _show(dvlite)
    assert _row(rows, "lr0.2")["state"] == "queued"
    assert _row(rows, "lr0.2")["params"]["params.yaml:train.lr"] == 0.2
    result = dvlite("exp", "run", "--run-all", "-j", "2")
    assert result.exit_code == 0, result.stderr
    rows = _show(dvlite)
    assert {_row(rows, n)["state"] for n in ("lr0.2", "lr0.35")} == {"done"}
    assert _row(rows, "lr0.35")["metrics"]["metrics.json:score"] > 0
    assert "No experiment is queued." in dvlite("exp", "run", "--run-all").stdout
    ordered = dvlite("exp", "show", "--json", "--sort-by", "train.lr", "--desc")
    names = [r["name"] for r in json.loads(ordered.stdout) if r["kind"] == "experiment"]
    assert names == ["lr0.35", "lr0.2"]


def test_a_failing_queued_experiment_is_kept_as_failed(ran: Repo, dvlite) -> None:
    root = ran.root
    too_fast = "import json,sys; sys.exit(json.load(open('params.yaml'))['train']['lr'] > 1)"
    check = f'{PY} -c "{too_fast}"'
    assert dvlite("stage", "add", "-n", "check", "-p", "train.lr", check).exit_code == 0
    assert dvlite("exp", "run", "--queue", "-S", "train.lr=5", "-n", "bad").exit_code == 0
    assert dvlite("exp", "run", "--queue", "-S", "train.lr=0.5", "-n", "good").exit_code == 0
    result = dvlite("exp", "run", "--run-all")
    assert result.exit_code == 1
    assert "Error: 1 experiment failed: bad" in result.stderr
    rows = _show(dvlite)
    assert _row(rows, "bad")["state"] == "failed" and _row(rows, "good")["state"] == "done"
    assert "refs/exps/failed/bad" in _git(root, "for-each-ref", "refs/exps")
    applied = dvlite("exp", "apply", "bad")
    assert applied.exit_code == 1 and "is failed, not finished" in applied.stderr


def test_apply_brings_params_lock_metrics_and_outputs(ran: Repo, dvlite) -> None:
    root = ran.root
    assert dvlite("exp", "run", "-S", "train.lr=0.25", "-n", "fast").exit_code == 0
    result = dvlite("exp", "apply", "fast")
    assert result.exit_code == 0, result.stderr
    assert json.loads((root / "params.yaml").read_text())["train"]["lr"] == 0.25
    assert "train.lr=0.25" in (root / "model.bin").read_text()
    assert (root / "metrics.json").read_text() == _git(
        root, "show", _ref(root, "fast") + ":metrics.json"
    )
    assert dvlite("repro", "--dry").stdout.count("up to date") == 4  # data and records agree
    assert set(_git(root, "diff", "--name-only").split()) == {
        "dvlite.lock", "metrics.json", "params.yaml",
    }  # fmt: skip
    assert dvlite("exp", "apply", "fast").exit_code == 0  # a second time changes nothing


def test_apply_refuses_to_overwrite_uncommitted_work(ran: Repo, dvlite) -> None:
    root = ran.root
    assert dvlite("exp", "run", "-S", "train.lr=0.25", "-n", "fast").exit_code == 0
    (root / "params.yaml").write_text(PARAMS.replace("0.1", "0.9"))
    result = dvlite("exp", "apply", "fast")
    assert result.exit_code == 1
    assert "would overwrite changes that are not committed: params.yaml" in result.stderr
    assert "0.9" in (root / "params.yaml").read_text()
    assert "train.lr=0.1" in (root / "model.bin").read_text()  # nothing was written
    (root / "params.yaml").write_text(PARAMS)
    (root / "model.bin").chmod(0o644)
    (root / "model.bin").write_text("edited by hand")  # unsaved data: checkout's own refusal
    refused = dvlite("exp", "apply", "fast")
    assert refused.exit_code == 1 and "model.bin" in refused.stderr
    assert (root / "params.yaml").read_text() == PARAMS
    assert dvlite("exp", "apply", "fast", "--force").exit_code == 0
    assert "train.lr=0.25" in (root / "model.bin").read_text()


def test_diff_branch_remove_and_gc(ran: Repo, dvlite) -> None:
    root = ran.root
    assert dvlite("exp", "run", "-S", "train.lr=0.25", "-n", "fast").exit_code == 0
    assert dvlite("exp", "run", "-S", "train.lr=0.5", "-n", "slow").exit_code == 0
    diff = json.loads(dvlite("exp", "diff", "fast", "--json").stdout)
    assert [(r["key"], r["old"], r["new"]) for r in diff["params"]] == [("train.lr", 0.1, 0.25)]
    assert [r["key"] for r in diff["metrics"]] == ["score"]
    both = json.loads(dvlite("exp", "diff", "fast", "slow", "--json").stdout)
    assert [(r["old"], r["new"]) for r in both["params"]] == [(0.25, 0.5)]
    # an experiment's name is a revision everywhere dvlite takes one
    metrics = json.loads(dvlite("metrics", "diff", "main", "fast", "--json").stdout)
    assert metrics[0]["key"] == "score"

    assert dvlite("exp", "branch", "fast", "try-fast").exit_code == 0
    assert _git(root, "rev-parse", "try-fast") == _git(root, "rev-parse", _ref(root, "fast"))
    taken = dvlite("exp", "branch", "fast", "try-fast")
    assert taken.exit_code == 1 and "cannot make branch 'try-fast'" in taken.stderr

    assert dvlite("exp", "remove", "slow").stdout.startswith("Removed 1 experiment: slow")
    assert [r["name"] for r in _show(dvlite)] == ["workspace", "main", "fast"]
    missing = dvlite("exp", "remove", "slow")
    assert missing.exit_code == 1 and "no experiment called 'slow'" in missing.stderr

    _git(root, "commit", "-q", "--allow-empty", "-m", "next")  # fast's baseline is no longer HEAD
    assert "Would remove 1 experiment: fast" in dvlite("exp", "gc", "--dry").stdout
    assert dvlite("exp", "gc", "-A").stdout.startswith(
        "Removed 0 experiments"
    )  # -A keeps every commit's
    assert dvlite("exp", "gc").stdout.startswith("Removed 1 experiment: fast")
    assert _git(root, "for-each-ref", "refs/exps") == ""


def test_push_and_pull_through_git_and_a_folder_remote(
    ran: Repo, dvlite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = ran.root
    bare, store = tmp_path / "origin.git", tmp_path / "store"
    _git(root, "init", "-q", "--bare", "-b", "main", str(bare))
    _git(root, "remote", "add", "origin", str(bare))
    _git(root, "push", "-q", "origin", "main")
    assert dvlite("remote", "add", "-d", "store", str(store)).exit_code == 0
    _git(root, "commit", "-q", "-am", "remote")
    assert dvlite("push").exit_code == 0
    _git(root, "push", "-q", "origin", "main")
    assert dvlite("exp", "run", "-S", "train.lr=0.25", "-n", "fast").exit_code == 0
    pushed = dvlite("exp", "push", "origin", "fast")
    assert pushed.exit_code == 0, pushed.stderr
    assert "/fast" in _git(root, "ls-remote", str(bare), "refs/exps/*")

    other = tmp_path / "other"
    _git(tmp_path, "clone", "-q", str(bare), str(other))
    monkeypatch.chdir(other)
    unknown = dvlite("exp", "pull", "origin", "nope")
    assert unknown.exit_code == 1 and "has no experiment called 'nope'" in unknown.stderr
    pulled = dvlite("exp", "pull", "origin", "fast")
    assert pulled.exit_code == 0, pulled.stderr
    assert [r["name"] for r in _show(dvlite)] == ["workspace", "main", "fast"]
    applied = dvlite("exp", "apply", "fast")
    assert applied.exit_code == 0, applied.stderr
    assert "train.lr=0.25" in (other / "model.bin").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-S", "train.lr"], "write KEY=VALUE or FILE:KEY=VALUE"),
        (["-S", "../x.yaml:a=1"], "outside the repository"),
        (["-S", "train.lr.deeper=1"], "params.yaml: train.lr is a value, not a mapping"),
        (["-n", "no/slash"], "bad experiment name 'no/slash'"),
        (["-n", "-dash"], "bad experiment name"),
        (["-S", "train.lr=[unclosed"], "not valid YAML"),
    ],
)
def test_bad_run_arguments_say_what_is_wrong(ran: Repo, dvlite, args, message) -> None:
    result = dvlite("exp", "run", *args)
    assert result.exit_code == 1, result.stdout
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert _git(ran.root, "for-each-ref", "refs/exps") == ""
    assert not list((ran.tmp_dir / "exps").iterdir()) if (ran.tmp_dir / "exps").exists() else True


def test_other_refusals(ran: Repo, dvlite) -> None:
    assert dvlite("exp", "run", "-S", "train.lr=0.25", "-n", "fast").exit_code == 0
    twice = dvlite("exp", "run", "-n", "fast")
    assert twice.exit_code == 1 and "an experiment called 'fast' exists already" in twice.stderr
    unknown = dvlite("exp", "apply", "nope")
    assert unknown.exit_code == 1 and "no experiment called 'nope'" in unknown.stderr
    sort = dvlite("exp", "show", "--sort-by", "nope")
    assert sort.exit_code == 1 and "--sort-by 'nope': no such param or metric" in sort.stderr
    usage = dvlite("exp", "run", "--run-all", "-n", "x")
    assert usage.exit_code == 2
    assert dvlite("exp", "remove").exit_code == 2


def test_no_commit_yet(repo: Repo, dvlite) -> None:
    result = dvlite("exp", "run")
    assert result.exit_code == 1 and "make the first commit first" in result.stderr


def test_a_crafted_ref_is_left_alone(ran: Repo, dvlite) -> None:
    """Refs of another shape under refs/exps (from a hostile remote) are not experiments."""
    root = ran.root
    head = _git(root, "rev-parse", "HEAD")
    _git(root, "update-ref", "refs/exps/zz/not-a-sha/x", head)
    _git(root, "update-ref", f"refs/exps/{head[:2]}/{head[2:]}/-bad", head)
    assert [r["name"] for r in _show(dvlite)] == ["workspace", "main"]


def test_table_text_csv_and_markdown(ran: Repo, dvlite) -> None:
    assert dvlite("exp", "run", "-S", "train.lr=0.25", "-n", "fast").exit_code == 0
    text = dvlite("exp", "show")
    assert text.exit_code == 0
    assert "└── fast" in text.stdout and "0.25*" in text.stdout
    assert "* differs from its baseline" in text.stderr
    csv_out = dvlite("exp", "show", "--csv").stdout.splitlines()
    assert csv_out[0].startswith("Experiment,rev,state,created,metrics.json:score")
    assert csv_out[-1].startswith("fast,") and "*" not in csv_out[-1]
    md = dvlite("exp", "show", "--md").stdout
    assert md.splitlines()[1].startswith("| ---")


def test_gc_keeps_experiment_data_with_all_experiments(ran: Repo, dvlite) -> None:
    root = ran.root
    assert dvlite("exp", "run", "-S", "train.lr=0.25", "-n", "fast").exit_code == 0
    model = json.loads(dvlite("ls", "--rev", "fast", "--json").stdout)
    oid = next(e["oid"] for e in model if e["path"] == "model.bin")
    kept = dvlite("gc", "--all-experiments", "--force")
    assert kept.exit_code == 0, kept.stderr
    assert ran.cache.exists(oid)
    assert dvlite("gc", "-w", "--force").exit_code == 0
    assert not Repo(root).cache.exists(oid)
    gone = dvlite("exp", "apply", "fast")  # its model is gone: apply says so, and what to do
    assert gone.exit_code == 1
    assert "not in the cache, not checked out: model.bin; run `dvlite pull`" in gone.stderr


def test_git_hooks_do_not_run_in_the_work_tree(ran: Repo, dvlite, on_path) -> None:
    """dvlite's post-checkout hook would look for the data in the work tree's own cache."""
    assert dvlite("install").exit_code == 0
    result = dvlite("exp", "run", "-S", "train.lr=0.25", "-n", "hooked")
    assert result.exit_code == 0, result.stderr
    assert _row(_show(dvlite), "hooked")["state"] == "done"


def _crafted(root: Path, name: str, entry: str) -> None:
    """An experiment ref whose commit adds ``entry`` (an ls-tree line) to HEAD's tree, as a
    hostile git remote could send it (git mktree takes names git add never would)."""
    head = _git(root, "rev-parse", "HEAD")
    listing = _git(root, "ls-tree", "HEAD") + "\n" + entry + "\n"
    tree = subprocess.run(
        ["git", "mktree"], cwd=root, input=listing, capture_output=True, text=True, check=True
    ).stdout.strip()
    commit = subprocess.run(
        ["git", "commit-tree", tree, "-p", head, "-m", "crafted"],
        cwd=root, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    _git(root, "update-ref", f"refs/exps/{head[:2]}/{head[2:]}/{name}", commit)


@pytest.mark.parametrize("folder", [".git", ".GIT", "..", "git~1"])
def test_apply_refuses_a_crafted_path(ran: Repo, dvlite, folder: str) -> None:
    root = ran.root
    blob = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"], cwd=root, input="[core]\n\thooksPath = x\n",
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    sub = subprocess.run(
        ["git", "mktree"], cwd=root, input=f"100644 blob {blob}\tconfig\n",
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    _crafted(root, "evil", f"040000 tree {sub}\t{folder}")
    before = (root / ".git" / "config").read_text()
    result = dvlite("exp", "apply", "evil")
    assert result.exit_code == 1
    assert "Error: experiment 'evil' holds a path dvlite refuses" in result.stderr
    assert (root / ".git" / "config").read_text() == before
    assert not (root.parent / "config").exists()


def test_apply_leaves_dvlite_settings_alone(ran: Repo, dvlite, tmp_path: Path) -> None:
    root = ran.root
    config = (root / ".dvlite" / "config").read_text()
    (root / ".dvlite" / "config").write_text(config + '[remote "elsewhere"]\nurl = /tmp/x\n')
    assert dvlite("exp", "run", "-S", "train.lr=0.25", "-n", "fast").exit_code == 0
    (root / ".dvlite" / "config").write_text(config)
    result = dvlite("exp", "apply", "fast")
    assert result.exit_code == 0, result.stderr
    assert "Left alone: .dvlite/config" in result.stdout
    assert (root / ".dvlite" / "config").read_text() == config


def test_a_big_untracked_file_is_not_copied_into_git(
    ran: Repo, dvlite, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dvlite.ops import exp_run

    monkeypatch.setattr(exp_run, "UNTRACKED_MAX", 1000)
    (ran.root / "big.bin").write_bytes(b"x" * 2000)
    result = dvlite("exp", "run", "-n", "big")
    assert result.exit_code == 1
    assert "big.bin: untracked and over 0 MiB, so an experiment would copy it into git" in (
        result.stderr
    )
    assert _git(ran.root, "for-each-ref", "refs/exps") == ""
    (ran.root / ".gitignore").write_text("runs.log\nbig.bin\n")
    assert dvlite("exp", "run", "-n", "big").exit_code == 0  # ignored files are left out


def test_a_work_tree_left_by_a_killed_run_is_removed(ran: Repo, dvlite) -> None:
    stale = ran.tmp_dir / "exps" / "gone-4194303-abcdef"  # a pid above Linux's pid_max
    stale.parent.mkdir(parents=True, exist_ok=True)
    _git(ran.root, "worktree", "add", "--detach", "-q", str(stale), "HEAD")
    (stale / "tool.py").chmod(0o444)  # read-only, as files linked from the cache are
    assert dvlite("exp", "run", "-n", "after").exit_code == 0
    assert not stale.exists()
    assert str(stale) not in _git(ran.root, "worktree", "list")


def test_show_all_commits_lists_each_commit_once_and_no_experiment_as_a_baseline(
    ran: Repo, dvlite
) -> None:
    assert dvlite("exp", "run", "-S", "train.lr=0.25", "-n", "fast").exit_code == 0
    _git(ran.root, "commit", "-q", "--allow-empty", "-m", "next")
    rows = json.loads(dvlite("exp", "show", "-A", "--json").stdout)
    baselines = [r["commit"] for r in rows if r["kind"] == "baseline"]
    assert (
        len(baselines) == len(set(baselines)) == int(_git(ran.root, "rev-list", "--count", "HEAD"))
    )
    assert [r["name"] for r in rows if r["kind"] == "experiment"] == ["fast"]
