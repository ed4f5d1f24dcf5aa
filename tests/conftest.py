"""Shared fixtures: a tmp_dir that can write file trees, real git repositories, a dvlite
repository, and a CLI runner. The S3 server fixture lives in tests/s3.py."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from dvlite.cli import main
from dvlite.ops.init import init
from dvlite.records.repo import Repo

pytest_plugins = ["s3"]  # the S3 server fixtures (tests/s3.py)


class TmpDir(type(Path())):  # type: ignore[misc]
    """A pathlib.Path with ``gen({...})``: nested dicts are folders, str/bytes are files."""

    def gen(self, tree: dict[str, object]) -> TmpDir:
        for name, content in tree.items():
            path = self / name
            if isinstance(content, dict):
                path.mkdir(parents=True, exist_ok=True)
                TmpDir(path).gen(content)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, bytes):
                    path.write_bytes(content)
                else:
                    path.write_text(str(content), encoding="utf-8")
        return self


@pytest.fixture(autouse=True)
def _isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the real user's git or dvlite config."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{var}_NAME", "dvlite tests")
        monkeypatch.setenv(f"GIT_{var}_EMAIL", "tests@dvlite.invalid")
    monkeypatch.setenv("DVLITE_LOCK_TIMEOUT", "1")
    monkeypatch.delenv("CI", raising=False)


@pytest.fixture
def tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TmpDir:
    """A temporary folder that is also the current directory."""
    monkeypatch.chdir(tmp_path)
    return TmpDir(tmp_path)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def scm(tmp_dir: TmpDir) -> TmpDir:
    """tmp_dir as a real git repository on branch main."""
    git(tmp_dir, "init", "-q", "-b", "main")
    return tmp_dir


@pytest.fixture
def repo(scm: TmpDir) -> Repo:
    """A git repository with dvlite initialised at its root."""
    return init(scm)


@dataclass
class RunResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def invoke(*args: str, input: str | None = None) -> RunResult:
    """Run dvlite in-process through its real error boundary (``dvlite.cli.main``)."""
    with CliRunner().isolation(input=input) as (out, err, _):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        return RunResult(code, out.getvalue().decode(), err.getvalue().decode())


@pytest.fixture
def dvlite() -> Callable[..., RunResult]:
    """``dvlite("add", "data")`` -> RunResult(exit_code, stdout, stderr)."""
    return invoke


def run_main(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real ``python -m dvlite`` in a subprocess (exit codes, stderr, lazy imports)."""
    import sys

    return subprocess.run(
        [sys.executable, "-m", "dvlite", *args],
        cwd=cwd or os.getcwd(),
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
