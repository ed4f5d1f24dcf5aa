"""The CI recipe of docs/ci.md, run for real on a fresh clone against a folder remote."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import git
from pipeline_helpers import PARAMS, runs

from dvlite.records.repo import Repo

SCRIPT = Path(__file__).resolve().parent.parent / "docs" / "ci" / "reproduce.sh"


def _ci(clone: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["sh", str(SCRIPT)], cwd=clone, env=env, capture_output=True, text=True)


def test_docs_show_the_script_verbatim() -> None:
    doc = (SCRIPT.parent.parent / "ci.md").read_text()
    assert SCRIPT.read_text() in doc


@pytest.mark.usefixtures("pipeline")
def test_ci_script_on_a_fresh_clone(repo: Repo, dvlite, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path_factory.mktemp("store")
    assert dvlite("remote", "add", "-d", "store", str(store)).exit_code == 0
    assert dvlite("repro").exit_code == 0
    runs(repo.root)
    assert dvlite("push").exit_code == 0
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "-m", "results")

    clone = tmp_path_factory.mktemp("ci") / "clone"
    git(repo.root.parent, "clone", "-q", str(repo.root), str(clone))
    result = _ci(clone)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Reproduced: every stage is up to date and matches the commit." in result.stdout
    assert runs(clone) == []  # everything came from the remote; nothing ran
    assert (clone / "model.bin").read_text() == (repo.root / "model.bin").read_text()

    # a commit whose dvlite.lock is stale (a param changed, repro not run) fails the check
    (repo.root / "params.yaml").write_text(PARAMS.replace('"lr": 0.1', '"lr": 0.3'))
    git(repo.root, "commit", "-q", "-am", "lr 0.3, forgot to repro")
    git(clone, "pull", "-q")
    result = _ci(clone)
    assert result.returncode == 1
    assert "not reproducible, or dvlite.lock is out of date" in result.stderr
    assert "uncommitted:  dvlite.lock" in result.stderr
    assert sorted(runs(clone)) == ["evaluate", "train"]
