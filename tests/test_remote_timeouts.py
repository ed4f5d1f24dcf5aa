"""A remote that accepts connections and never answers: each request waits at most
``remote.NAME.timeout`` seconds, a timed-out request is retried, but no retry starts later than
``retry.DEADLINE`` seconds after the first attempt, so the command gives up in bounded time
with one line naming the remote, its endpoint and the setting to raise."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from helpers import RunResult, TmpDir, git, invoke, ok

from dvlite.records.repo import Repo
from dvlite.remote import retry
from dvlite.remote.config import parse_timeout

URL = "s3://bucket/store"
LABEL = f"remote 'store' ({URL})"


class Silent:
    """A TCP server on 127.0.0.1 that accepts every connection and never writes a byte."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)  # the accept loop looks at ``stopped`` this often
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.accepted.append(conn)

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        for conn in self.accepted:
            with contextlib.suppress(OSError):
                conn.close()
        self.sock.close()


@pytest.fixture
def silent() -> Iterator[Silent]:
    server = Silent()
    server.thread.start()
    try:
        yield server
    finally:
        server.stop()
    assert not server.thread.is_alive()


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "BACKOFF", 0.001)


@pytest.fixture
def project(repo: Repo, tmp_dir: TmpDir, silent: Silent, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """A committed repository tracking one file, its S3 remote the silent server, timeout 1 s."""
    from remote_helpers import CREDENTIALS

    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    tmp_dir.gen({"data.txt": "some data"})
    ok(invoke("add", "data.txt"))
    ok(invoke("remote", "add", "-d", "store", URL))
    ok(invoke("remote", "modify", "store", "endpoint_url", silent.url))
    ok(invoke("remote", "modify", "store", "timeout", "1"))
    git(tmp_dir, "add", "-A")
    git(tmp_dir, "commit", "-q", "-m", "v1")
    return repo


def one_line_error(result: RunResult) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def gave_up(silent: Silent, timeout: str, attempts: str) -> str:
    return (
        f"Error: {LABEL} at {silent.url} did not answer within {timeout} s "
        f"(gave up after {attempts}); check that the server is up, "
        "or raise remote.store.timeout"
    )


def test_push_to_a_silent_endpoint_gives_up_within_the_bound(
    project: Repo, silent: Silent, fast_backoff: None
) -> None:
    attempts = 1 + retry.RETRIES
    # each attempt waits 1 s; the backoff between them is ~0 here: 6 s, plus start-up
    bound = attempts * 1 + 9
    started = time.monotonic()
    line = one_line_error(invoke("push"))
    elapsed = time.monotonic() - started
    assert line == gave_up(silent, "1", f"{attempts} attempts")
    assert elapsed < bound
    assert len(silent.accepted) == attempts  # one connection per attempt, no hidden retries


def test_no_retry_starts_past_the_deadline(
    project: Repo, silent: Silent, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retry, "DEADLINE", 0.0)
    line = one_line_error(invoke("push"))
    assert line == gave_up(silent, "1", "1 attempt")
    assert len(silent.accepted) == 1


@pytest.mark.parametrize(
    "command",
    [
        ("fetch",),
        ("pull",),
        ("status", "--remote"),
        ("fsck", "--remote"),
        ("gc", "-w", "--cloud"),
    ],
    ids=lambda c: " ".join(c),
)
def test_every_command_through_the_remote_gives_up_the_same_way(
    project: Repo, silent: Silent, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    monkeypatch.setattr(retry, "DEADLINE", 0.0)  # one attempt of 1 s each
    (project.root / "data.txt").unlink()  # so that fetch and pull have something to get
    started = time.monotonic()
    line = one_line_error(invoke(*command))
    assert time.monotonic() - started < 10
    assert line == gave_up(silent, "1", "1 attempt")


def test_a_fractional_timeout_is_named_as_set(
    project: Repo, silent: Silent, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retry, "DEADLINE", 0.0)
    ok(invoke("remote", "modify", "store", "timeout", "0.5"))
    assert one_line_error(invoke("push")) == gave_up(silent, "0.5", "1 attempt")


def hang(timeout: float) -> tuple[float, int]:
    """How long one operation against a server that never answers lasts, and how many
    attempts it makes, under the retry policy, with the longest backoff jitter."""
    elapsed, attempts = 0.0, 0
    while True:
        elapsed += timeout  # the attempt waits its whole timeout
        attempts += 1
        delay = retry.retry_delay(attempts - 1, time.monotonic() - elapsed)
        if delay is None:
            return elapsed, attempts
        elapsed += delay


def test_the_default_bound_is_about_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry.random, "random", lambda: 1.0)  # the longest backoff
    assert retry.DEADLINE + retry.TIMEOUT <= 60  # the last attempt starts by DEADLINE
    elapsed, attempts = hang(retry.TIMEOUT)
    assert elapsed <= retry.DEADLINE + retry.TIMEOUT
    assert attempts == 3  # a hang is retried, by default (the table in docs/remotes.md)
    # a shorter timeout keeps every retry; a bigger one gives each attempt longer, and the
    # deadline still bounds the retries
    assert hang(5) == (pytest.approx(5 * 6 + 4.65), 1 + retry.RETRIES)
    assert hang(60) == (60, 1)
    # a quick transient error (503, reset) keeps all its retries within the deadline
    assert hang(0.01)[1] == 1 + retry.RETRIES


def test_retry_delay_stops_at_the_retries_or_the_deadline() -> None:
    now = time.monotonic()
    assert retry.retry_delay(0, now) is not None
    assert retry.retry_delay(retry.RETRIES, now) is None
    assert retry.retry_delay(0, now - retry.DEADLINE) is None


@pytest.mark.parametrize("value", ["0", "-1", "abc", "nan", "inf", ""])
def test_an_invalid_timeout_is_refused(project: Repo, value: str) -> None:
    line = one_line_error(invoke("remote", "modify", "--", "store", "timeout", value))
    assert line == (
        f"Error: remote.store.timeout must be a number of seconds above 0, not {value!r}"
    )


def test_an_invalid_timeout_in_the_config_is_refused_when_the_remote_is_opened(
    project: Repo, silent: Silent
) -> None:
    config = project.root / ".dvlite" / "config"
    config.write_text(config.read_text().replace("timeout = 1", "timeout = soon"))
    line = one_line_error(invoke("push"))
    assert line == "Error: remote.store.timeout must be a number of seconds above 0, not 'soon'"
    assert not silent.accepted


def test_parse_timeout() -> None:
    assert parse_timeout("store", None) == retry.TIMEOUT
    assert parse_timeout("store", "2.5") == 2.5


def test_http_remotes_get_the_timeout_as_aiohttp_socket_timeouts(tmp_dir: TmpDir) -> None:
    from dvlite.remote import RemoteConfig, from_config
    from dvlite.remote.fsspec_async import AsyncFsspecRemote

    def timeouts(options: dict[str, str]) -> tuple[float, float]:
        remote = from_config(RemoteConfig("web", "https://example.invalid/x", options), tmp_dir)
        assert isinstance(remote, AsyncFsspecRemote)  # http is async: aiohttp
        timeout = remote.fs.client_kwargs["timeout"]
        return timeout.sock_connect, timeout.sock_read

    assert timeouts({}) == (retry.TIMEOUT, retry.TIMEOUT)
    assert timeouts({"timeout": "2"}) == (2, 2)
