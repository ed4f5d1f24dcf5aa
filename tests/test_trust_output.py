"""Trust in daily use: output that is never cut, progress that moves, counts and units that
read right, settings that are checked, and docs whose commands work as written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dvlite.repo import Repo
from tests.conftest import git
from tests.pipeline_helpers import PARAMS, make_pipeline

ROOT = Path(__file__).resolve().parent.parent


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
    path = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return {**env, "PATH": path, **extra}


def piped(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """dvlite in a subprocess whose stdout and stderr are pipes: not a terminal."""
    return subprocess.run(
        [sys.executable, "-m", "dvlite", *args],
        cwd=cwd or os.getcwd(),
        capture_output=True,
        text=True,
        env=_env(**env),
    )


# -- 17: the docs' commands work as written ----------------------------------------------------
def test_ci_script_shows_how_the_lock_changed(repo: Repo, dvlite, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """repro stages dvlite.lock, so `git diff -- dvlite.lock` was empty: the script must diff
    against HEAD to show what changed."""
    store = tmp_path_factory.mktemp("store")
    make_pipeline(repo, git)
    assert dvlite("remote", "add", "-d", "store", str(store)).exit_code == 0
    assert dvlite("repro").exit_code == 0
    assert dvlite("push").exit_code == 0
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "-m", "results")
    (repo.root / "params.yaml").write_text(PARAMS.replace('"lr": 0.1', '"lr": 0.3'))
    git(repo.root, "commit", "-q", "-am", "lr 0.3, forgot to repro")
    script = ROOT / "docs" / "ci" / "reproduce.sh"
    result = subprocess.run(
        ["sh", str(script)], cwd=repo.root, env=_env(), capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "dvlite.lock | " in result.stderr, result.stderr
