"""Trust in daily use, pipelines: what a trial run on a real project tripped over. Each test
names what it protects; real git, real files, real subprocesses."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import git
from pipeline_helpers import PARAMS, make_pipeline, runs

from dvlite.records import lockfile
from dvlite.records.pipeline import load
from dvlite.records.repo import Repo

REFUSED = (
    "dvlite: commit refused (to commit anyway: `git commit --no-verify`; to only warn: "
    "`dvlite config hooks.strict false`)\n"
)


def git_run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)


def ran(repo: Repo, dvlite) -> Path:  # type: ignore[no-untyped-def]
    """make_pipeline, run and committed."""
    make_pipeline(repo)
    assert dvlite("repro").exit_code == 0
    runs(repo.root)
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "ran")
    return repo.root


# -- 1. add and remove keep away from stage outputs -------------------------------------------
def test_add_refuses_a_stage_output_before_writing_anything(repo: Repo, dvlite) -> None:
    root = ran(repo, dvlite)
    ignore = (root / ".gitignore").read_text()
    result = dvlite("add", "model.bin")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: model.bin is an output of stage 'train'; dvlite.lock records stage outputs: "
        "run `dvlite repro train` to record a new version, or drop it from the stage's outs "
        "in dvlite.yaml to track it with `dvlite add`\n"
    )
    assert not (root / "model.bin.dvl").exists()
    assert (root / ".gitignore").read_text() == ignore
    assert dvlite("status", "-q").exit_code == 0
    assert dvlite("repro").stdout == "Everything is up to date.\n"


def test_add_refuses_a_path_inside_an_output_folder_and_leaves_it_untouched(
    repo: Repo, dvlite
) -> None:
    root = ran(repo, dvlite)
    result = dvlite("add", "data/prepared/part.txt")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: data/prepared/part.txt is inside data/prepared, an output of stage 'prepare'; "
        "dvlite.lock records stage outputs: run `dvlite repro prepare` to record a new "
        "version, or drop it from the stage's outs in dvlite.yaml to track it with "
        "`dvlite add`\n"
    )
    assert sorted(os.listdir(root / "data" / "prepared")) == ["part.txt"]
    assert dvlite("status", "-q").exit_code == 0


def test_add_refuses_a_metrics_file(repo: Repo, dvlite) -> None:
    ran(repo, dvlite)
    result = dvlite("add", "metrics.json")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: metrics.json is an output of stage 'evaluate'; dvlite.lock records"
    )


@pytest.mark.usefixtures("pipeline")
def test_remove_keeps_the_gitignore_line_a_stage_output_needs(repo: Repo, dvlite) -> None:
    # model.bin was added by hand before it became an output: the error says to remove the
    # pointer, and doing so must keep model.bin out of git
    root = repo.root
    pipeline_text = (root / "dvlite.yaml").read_text()
    (root / "dvlite.yaml").unlink()
    (root / "model.bin").write_text("old")
    assert dvlite("add", "model.bin").exit_code == 0
    (root / "dvlite.yaml").write_text(pipeline_text)
    assert dvlite("repro").stderr == (
        "Error: dvlite.yaml: model.bin, an output of stage 'train', is also tracked by "
        "model.bin.dvl; run `dvlite remove model.bin.dvl` or drop it from the stage's outs\n"
    )
    assert (root / ".gitignore").read_text() == "runs.log\n/model.bin\n"
    assert dvlite("remove", "model.bin.dvl").exit_code == 0
    assert (root / ".gitignore").read_text() == "runs.log\n/model.bin\n"
    assert dvlite("repro").exit_code == 0
    assert "model.bin" not in git(root, "status", "--porcelain", "--untracked-files=all")


# -- 2. a commit records a lock that agrees with its params and deps --------------------------
def test_repro_stages_the_params_file_a_changed_stage_read(repo: Repo, dvlite) -> None:
    root = ran(repo, dvlite)
    (root / "params.yaml").write_text(PARAMS.replace('"lr": 0.1', '"lr": 0.5'))
    assert dvlite("repro").exit_code == 0
    staged = git(root, "diff", "--cached", "--name-only").split()
    assert {"dvlite.lock", "params.yaml"} <= set(staged)


def test_pre_commit_refuses_a_lock_whose_params_are_not_staged(repo: Repo, dvlite, on_path) -> None:
    root = ran(repo, dvlite)
    assert dvlite("install").exit_code == 0
    (root / "params.yaml").write_text(PARAMS.replace('"lr": 0.1', '"lr": 0.5'))
    assert dvlite("repro").exit_code == 0
    git(root, "restore", "--staged", "params.yaml")
    commit = git_run(root, "commit", "-qm", "lr 0.5")
    assert commit.returncode == 1
    assert commit.stderr == (
        "dvlite: the staged dvlite.lock records train.lr = 0.5 for stage 'train', but the "
        "staged params.yaml has 0.1; stage params.yaml too (`git add params.yaml`)\n" + REFUSED
    )
    git(root, "add", "params.yaml")
    commit = git_run(root, "commit", "-qm", "lr 0.5")
    assert (commit.returncode, commit.stderr) == (0, "")


def test_pre_commit_refuses_a_lock_whose_code_dep_is_not_staged(
    repo: Repo, dvlite, on_path
) -> None:
    root = ran(repo, dvlite)
    assert dvlite("install").exit_code == 0
    with open(root / "tool.py", "a") as f:
        f.write("# faster\n")
    assert dvlite("repro").exit_code == 0
    assert "tool.py" not in git(root, "diff", "--cached", "--name-only").split()
    commit = git_run(root, "commit", "-qm", "faster tool")
    assert commit.returncode == 1
    assert commit.stderr == (
        "dvlite: the staged dvlite.lock records tool.py for stages 'prepare', 'stats', 'train' "
        "as it is in the workspace, but the staged tool.py differs; stage it too (`git add "
        "tool.py`)\n" + REFUSED
    )
    with open(root / "tool.py", "a") as f:  # staged now, but not what the lock recorded
        f.write("# and again\n")
    git(root, "add", "tool.py")
    commit = git_run(root, "commit", "-qm", "faster tool")
    assert commit.stderr == (
        "dvlite: the staged dvlite.lock records a version of tool.py for stages 'prepare', "
        "'stats', 'train' that is neither the staged one nor the one in the workspace; run "
        "`dvlite repro` and stage dvlite.lock again\n" + REFUSED
    )
    assert dvlite("config", "hooks.strict", "false").exit_code == 0
    commit = git_run(root, "commit", "-qm", "faster tool, lock only")
    assert commit.returncode == 0
    assert commit.stderr.startswith("dvlite: the staged dvlite.lock records a version of tool.py")
    assert REFUSED not in commit.stderr


# -- 3. YAML scalars, nan params, stage processes ---------------------------------------------
def test_cmd_that_yaml_reads_as_a_bool_or_number_is_the_text_written(repo: Repo, dvlite) -> None:
    root = repo.root
    (root / "dvlite.yaml").write_text(
        "stages:\n"
        "  f:\n    cmd: false\n"
        "  t:\n    cmd: true\n"
        "  y:\n    cmd: yes\n"
        "  n:\n    cmd: 1\n"
        "  x:\n    cmd: 0x10\n"
        "  e:\n    cmd: 1e3\n"
    )
    pipeline = load(root)
    assert {s.name: s.cmd for s in pipeline} == {
        "f": "false",
        "t": "true",
        "y": "yes",
        "n": "1",
        "x": "0x10",
        "e": "1e3",
    }
    assert dvlite("repro", "t").exit_code == 0
    assert lockfile.load(root).stages["t"].cmd == "true"
    assert dvlite("repro", "t").stdout == "Everything is up to date.\n"
    failed = dvlite("repro", "f")
    assert failed.exit_code == 1
    assert failed.stderr == "Error: stage 'f' failed: its command exited with code 1\n"


def test_nan_param_is_up_to_date_after_a_run(repo: Repo, dvlite) -> None:
    root = repo.root
    (root / "params.yaml").write_text("a: .nan\nb: [1, .nan]\n")
    result = dvlite("run", "-n", "s", "-p", "a", "-p", "b", "-o", "out", "echo x > out")
    assert result.exit_code == 0, result.output
    lock_bytes = (root / "dvlite.lock").read_bytes()
    assert b"a: .nan" in lock_bytes
    git(root, "commit", "-qm", "nan")
    assert dvlite("repro").stdout == "Everything is up to date.\n"
    assert dvlite("status", "-q").exit_code == 0
    assert dvlite("repro", "--force").exit_code == 0
    assert (root / "dvlite.lock").read_bytes() == lock_bytes


def _gone(pid: int) -> bool:
    """No such process, or a zombie nobody has reaped yet."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(
    "cmd",
    [
        "echo $$ > sleep.pid; exec sleep 30",  # the stage shell itself
        "sleep 30 & echo $! > sleep.pid; wait",  # a grandchild of dvlite
        'python3 -c \'import os,time; open("sleep.pid","w").write(str(os.getpid())); '
        "time.sleep(30)' | cat",  # in a pipeline
    ],
)
def test_stage_processes_end_when_dvlite_is_killed(repo: Repo, cmd: str) -> None:
    root = repo.root
    (root / "dvlite.yaml").write_text(f"stages:\n  slow:\n    cmd: {json.dumps(cmd)}\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dvlite", "repro"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pid_file = root / "sleep.pid"
    try:
        deadline = time.monotonic() + 20
        while not (pid_file.exists() and pid_file.read_text().strip()):
            assert time.monotonic() < deadline, "the stage never started"
            assert proc.poll() is None
            time.sleep(0.05)
        pid = int(pid_file.read_text())
        assert not _gone(pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 5
        while not _gone(pid):
            assert time.monotonic() < deadline, "the stage outlived dvlite"
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
        if pid_file.exists() and pid_file.read_text().strip():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_interrupted_repro_ends_its_stage_processes(repo: Repo) -> None:
    root = repo.root
    cmd = "sleep 30 & echo $! > sleep.pid; wait"
    (root / "dvlite.yaml").write_text(f"stages:\n  slow:\n    cmd: {json.dumps(cmd)}\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dvlite", "repro"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    pid_file = root / "sleep.pid"
    deadline = time.monotonic() + 20
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    pid = int(pid_file.read_text())
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 130
    deadline = time.monotonic() + 5
    while not _gone(pid):
        assert time.monotonic() < deadline, "the stage outlived an interrupted repro"
        time.sleep(0.05)


# -- 4. a fresh clone before pull ---------------------------------------------------------------
def fresh_clone(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    there = root.parent / (root.name + "-clone")
    git(root.parent, "clone", "-q", str(root), str(there))
    monkeypatch.chdir(there)
    return there


NOT_PULLED = (
    "data/raw.txt.dvl\n"
    "    not pulled:   data/raw.txt  (not in the workspace nor the cache: run `dvlite pull`)\n"
    "dvlite.lock:prepare\n"
    "    not pulled:   data/prepared  (not in the workspace nor the cache: run `dvlite pull`)\n"
    "dvlite.lock:stats\n"
    "    not pulled:   stats.txt  (not in the workspace nor the cache: run `dvlite pull`)\n"
    "dvlite.lock:train\n"
    "    not pulled:   model.bin  (not in the workspace nor the cache: run `dvlite pull`)\n"
)


def test_status_on_a_fresh_clone_says_what_to_pull(
    repo: Repo, dvlite, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh_clone(ran(repo, dvlite), monkeypatch)
    result = dvlite("status")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == NOT_PULLED
    as_json = dvlite("status", "--json")
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout)[0] == {
        "source": "data/raw.txt.dvl",
        "changes": [{"path": "data/raw.txt", "state": "not pulled"}],
    }
    assert len(json.loads(as_json.stdout)) == 4
    quiet = dvlite("status", "-q")  # CI's "is the workspace clean": data is missing, so no
    assert (quiet.exit_code, quiet.output) == (1, "")


def test_repro_dry_on_a_fresh_clone_says_what_to_pull(
    repo: Repo, dvlite, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh_clone(ran(repo, dvlite), monkeypatch)
    result = dvlite("repro", "--dry")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        "would run  prepare  (dep data/raw.txt is not in the workspace: run `dvlite pull`)",
        "would run  train  (upstream stage 'prepare' runs)",
        "would run  evaluate  (upstream stage 'train' runs)",
        "would run  stats  (dep data/raw.txt is not in the workspace: run `dvlite pull`)",
    ]
    real = dvlite("repro")
    assert real.exit_code == 1
    assert real.stderr == (
        "Error: stage 'prepare': its dep data/raw.txt is not in the workspace; run "
        "`dvlite pull` first (or `dvlite repro --pull`)\n"
    )


# -- 5. add of a folder that holds tracked things ------------------------------------------------
def test_add_folder_holding_pointers_advises_removing_them_not_untracking_them(
    repo: Repo, dvlite
) -> None:
    root = repo.root
    (root / "data" / "raw").mkdir(parents=True)
    (root / "data" / "raw" / "a.csv").write_text("a")
    (root / "data" / "b.csv").write_text("b")
    assert dvlite("add", "data/raw", "data/b.csv").exit_code == 0
    git(root, "commit", "-qm", "raw data")
    result = dvlite("add", "data")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: data holds the pointer files data/b.csv.dvl, data/raw.dvl; remove that "
        "tracking first (`dvlite remove data/b.csv.dvl data/raw.dvl`; the data stays), "
        "or add the files and folders inside data separately\n"
    )
    assert "git rm" not in result.stderr
    assert not (root / "data.dvl").exists()


def test_add_folder_holding_stage_outputs_refuses_to_track_them_twice(repo: Repo, dvlite) -> None:
    root = repo.root
    (root / "src").mkdir()
    (root / "src" / "a.txt").write_text("a")
    assert dvlite("run", "-n", "copy", "-d", "src/a.txt", "-o", "src/b.txt",
                  "cp src/a.txt src/b.txt").exit_code == 0  # fmt: skip
    git(root, "commit", "-qm", "copy")
    result = dvlite("add", "src")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: src holds src/b.txt, an output of stage 'copy'; adding src would track it "
        "twice (dvlite.lock records stage outputs): add the other files and folders inside "
        "src separately\n"
    )
    assert not (root / "src.dvl").exists()
    assert dvlite("status", "-q").exit_code == 0
