"""Shared fixtures (and only fixtures): a tmp_dir that writes file trees, real git repositories,
a dvlite repository, the CLI, a moto S3 server and a remote of each kind. Plain helpers live in
helpers.py, pipeline_helpers.py and remote_helpers.py; tests import those, never this file."""

from __future__ import annotations

import os
import socket
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import RunResult, TmpDir, git, invoke
from pipeline_helpers import make_pipeline
from remote_helpers import CREDENTIALS, FolderStore, S3Store, Store

from dvlite.ops.init import init
from dvlite.records.repo import Repo


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


@pytest.fixture
def scm(tmp_dir: TmpDir) -> TmpDir:
    """tmp_dir as a real git repository on branch main."""
    git(tmp_dir, "init", "-q", "-b", "main")
    return tmp_dir


@pytest.fixture
def repo(scm: TmpDir) -> Repo:
    """A git repository with dvlite initialised at its root."""
    return init(scm)


@pytest.fixture
def pipeline(repo: Repo) -> Repo:
    """``repo`` with the pipeline of pipeline_helpers.py committed, not yet run."""
    make_pipeline(repo)
    return repo


@pytest.fixture
def dvlite() -> Callable[..., RunResult]:
    """``dvlite("add", "data")`` -> RunResult(exit_code, stdout, stderr)."""
    return invoke


@pytest.fixture
def on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Git hooks and scripts find the dvlite of this virtual environment."""
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])


# -- DVC itself, for the tests of migrate-dvc: the one `make test` installs from the bench extra
DVC = Path(__file__).resolve().parents[1] / ".venv-bench" / "bin" / "dvc"


@pytest.fixture(scope="session")
def dvc() -> Path:
    """The real DVC's executable (``.venv-bench/bin/dvc``); `make test` installs it first."""
    if not os.access(DVC, os.X_OK):
        pytest.fail(f"{DVC} is missing: run `make .venv-bench/.installed-stamp` (make test does)")
    return DVC


# -- S3: moto's server mode on 127.0.0.1, one per session (so one per pytest-xdist worker, each
# on its own free port), reset between tests, as s3fs's own tests do ----------------------------
@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """The endpoint URL of a moto S3 server running for the whole session."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A clean S3 server (fake credentials in the environment); yields its endpoint URL."""
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield s3_server
    request = urllib.request.Request(f"{s3_server}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()


# -- a remote of each kind (remote_helpers.py) ----------------------------------------------------
@pytest.fixture
def folder_store(tmp_path_factory: pytest.TempPathFactory) -> FolderStore:
    """A folder remote outside every repository."""
    return FolderStore(tmp_path_factory.mktemp("remote") / "store")


@pytest.fixture
def s3_store(s3: str) -> S3Store:
    return S3Store(s3)


@pytest.fixture(params=["folder", "s3"])
def store(request: pytest.FixtureRequest) -> Store:
    """Each kind of remote in turn: a test that takes ``store`` runs once on each."""
    return request.getfixturevalue(f"{request.param}_store")  # type: ignore[no-any-return]


@pytest.fixture
def fmt(request: pytest.FixtureRequest) -> int | None:
    """The storage format a test pins its remote to (``BOTH_FORMATS`` in remote_helpers.py
    runs it on each); None: the one ``remote add`` writes."""
    return getattr(request, "param", None)
