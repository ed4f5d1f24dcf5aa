"""Remote workloads (issue 3): push, no-op push, push after one changed file, `status
--remote` and pull into a fresh clone of the 20k-file data set, against a folder remote and
against S3 on a moto server in this process; push and pull of the big file to a folder.

Every S3 request the tools send is counted by the server (a WSGI wrapper around moto): on real
S3 each costs tens of milliseconds, so requests per step is the figure that carries over. The
floor of the S3 steps is a plain s3fs bulk ``put``/``get`` of the same files (bench/s3copy.py);
the floor of the big-file steps is ``cat a > b``.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import threading
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bench.data import big_file, copy_in, files_dir
from bench.harness import WORK, Results, Run, Verdict, scenario, target

FOLDER, S3, BIGREMOTE = "folder", "s3", "bigremote"
PUSH, STATUS, NOOP, CHANGED, PULL = (
    "push (all)",
    "status --remote",
    "push (nothing new)",
    "push (1 changed)",
    "pull (fresh clone)",
)
S3COPY = Path(__file__).with_name("s3copy.py")


# -- the S3 server ----------------------------------------------------------------------------
class S3Server:
    """moto's S3 on 127.0.0.1 in a thread of this process, counting the requests it serves."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log on the console
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        wsgi = self._server._server  # werkzeug's server: every request goes through .app
        wsgi.app = self._counting(wsgi.app)
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def _counting(self, app: Callable[..., Any]) -> Callable[..., Any]:
        def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            path = environ.get("PATH_INFO", "")
            if not path.startswith("/moto-api"):
                kind = _kind(environ["REQUEST_METHOD"], path, environ.get("QUERY_STRING", ""))
                with self._lock:
                    self._counts[kind] += 1
            return app(environ, start_response)

        return counted

    def take(self) -> dict[str, int]:
        """The requests served since the last call, by kind."""
        with self._lock:
            counts, self._counts = dict(self._counts), Counter()
        return counts

    def create_bucket(self, name: str) -> None:
        req = urllib.request.Request(f"{self.endpoint}/{name}", method="PUT")
        urllib.request.urlopen(req).close()
        self.take()

    def reset(self) -> None:
        """Forget every bucket (the objects are held in this process's memory)."""
        req = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(req).close()
        self.take()

    def stop(self) -> None:
        self._server.stop()


def _kind(method: str, path: str, query: str) -> str:
    key = path.strip("/").partition("/")[2]  # path-style: /bucket/key
    if method == "GET" and (not key or "list-type" in query or "prefix=" in query):
        return "LIST"
    if method == "POST" and "delete" in query:
        return "DELETE"
    return method


_server: S3Server | None = None


def server(run: Run) -> S3Server:
    """The one server of this bench process, started on first use; fake credentials in the
    environment of every command."""
    global _server
    if _server is None:
        _server = S3Server()
        empty = WORK / "aws-empty-config"  # no profile of the user's can get in the way
        empty.parent.mkdir(parents=True, exist_ok=True)
        empty.write_text("")
        run.harness.env.update(
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_CONFIG_FILE=str(empty),
            AWS_SHARED_CREDENTIALS_FILE=str(empty),
        )
        run.harness.env.pop("AWS_PROFILE", None)
        run.harness.env.pop("AWS_SESSION_TOKEN", None)
    return _server


# -- setting up -------------------------------------------------------------------------------
def _remote(run: Run, repo: Path, url: str, endpoint: str = "") -> None:
    """Make ``url`` the default remote of the repository, committed like a user would."""
    run.sh(run.tool.argv("remote", "add", "-d", "store", url), cwd=repo)
    if endpoint:
        key = "endpoint_url" if run.tool.name == "dvlite" else "endpointurl"
        run.sh(run.tool.argv("remote", "modify", "store", key, endpoint), cwd=repo)
    _commit(run, repo, "remote")


def _commit(run: Run, repo: Path, message: str) -> None:
    run.sh(["git", "add", "-A"], cwd=repo)
    run.sh(["git", "commit", "-q", "-m", message], cwd=repo)


def _status_remote(run: Run) -> list[str]:
    if run.tool.name == "dvlite":
        return run.tool.argv("status", "--remote")
    return run.tool.argv("status", "-c")


def _count_files(top: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(top))


def _timed(
    run: Run, step: str, argv: list[str], s3: S3Server | None, cwd: Path | None = None
) -> None:
    if s3 is not None:
        s3.take()
    run.timed(step, argv, cwd=cwd)
    if s3 is not None:
        run.count(step, s3.take())


# -- the 20k files ----------------------------------------------------------------------------
def _many_files(run: Run, s3: S3Server | None) -> None:
    s = run.sizes
    src = files_dir(s.files, s.folders, s.file_size)
    if run.is_baseline:  # the same files moved without a tool: the medium's own limit
        if s3 is None:
            _folder_floor(run, src)
        else:
            _s3_floor(run, src, s3)
        return
    repo = run.fresh_repo()
    data = repo / "data"
    copy_in(src, data)
    run.sh(run.tool.argv("add", "data"))
    _commit(run, repo, "data")
    if s3 is None:
        store = run.dir / "remote"
        store.mkdir()
        _remote(run, repo, str(store))
    else:
        bucket = _bucket(run)
        s3.create_bucket(bucket)
        _remote(run, repo, f"s3://{bucket}/store", s3.endpoint)

    _timed(run, PUSH, run.tool.argv("push"), s3)
    _timed(run, STATUS, _status_remote(run), s3)
    _timed(run, NOOP, run.tool.argv("push"), s3)
    victim = next(p for p in sorted((data / "part-0000").iterdir()))
    os.chmod(victim, 0o644)  # a copy checked out read-only by a tool is still the user's file
    victim.write_bytes(os.urandom(s.file_size))
    run.sh(run.tool.argv("add", "data"))
    _commit(run, repo, "one file changed")
    _timed(run, CHANGED, run.tool.argv("push"), s3)

    clone = run.dir / "clone"
    run.sh(["git", "clone", "-q", str(repo), str(clone)])
    _timed(run, PULL, run.tool.argv("pull"), s3, cwd=clone)
    pulled = _count_files(clone / "data")
    if pulled != s.files:
        raise AssertionError(f"{run.tool.name} pull restored {pulled} of {s.files} files")
    if (clone / "data" / victim.relative_to(data)).read_bytes() != victim.read_bytes():
        raise AssertionError(f"{run.tool.name} pull did not restore the changed file")


def _bucket(run: Run) -> str:
    return f"bench-{run.scenario.name}-{run.tool.name}-{run.index}".lower()


def _folder_floor(run: Run, src: Path) -> None:
    run.dir.mkdir(parents=True, exist_ok=True)
    run.timed(PUSH, ["cp", "-r", str(src), "remote"])
    run.timed(PULL, ["cp", "-r", "remote", "got"])
    got = _count_files(run.dir / "got")
    if got != run.sizes.files:
        raise AssertionError(f"cp -r copied {got} of {run.sizes.files} files")


def _s3_floor(run: Run, src: Path, s3: S3Server | None) -> None:
    assert s3 is not None
    run.dir.mkdir(parents=True, exist_ok=True)
    bucket = _bucket(run)
    s3.create_bucket(bucket)
    url = f"s3://{bucket}/files"
    _timed(run, PUSH, [sys.executable, str(S3COPY), "put", str(src), url, s3.endpoint], s3)
    dest = run.dir / "got"
    dest.mkdir()
    get = [sys.executable, str(S3COPY), "get", str(dest), url, s3.endpoint, str(src)]
    _timed(run, PULL, get, s3)
    got = _count_files(dest)
    if got != run.sizes.files:
        raise AssertionError(f"s3fs get fetched {got} of {run.sizes.files} files")


@scenario(
    FOLDER,
    "{files:,} files of {file_size} B to a folder remote; floor: `cp -r`",
    "{files:,} files, folder",
    (PUSH, STATUS, NOOP, CHANGED, PULL),
    tools=("dvlite", "dvc", "cp"),
)
def folder_remote(run: Run) -> None:
    _many_files(run, None)


@scenario(
    S3,
    "{files:,} files of {file_size} B to S3 (moto on 127.0.0.1); floor: s3fs bulk put/get",
    "{files:,} files, S3",
    (PUSH, STATUS, NOOP, CHANGED, PULL),
    tools=("dvlite", "dvc", "cp"),
    max_runs=1,  # moto serves about 150-200 requests a second: 20k objects take minutes
)
def s3_remote(run: Run) -> None:
    s3 = server(run)
    try:
        _many_files(run, s3)
    finally:
        s3.reset()


# -- the big file -----------------------------------------------------------------------------
@scenario(
    BIGREMOTE,
    "one file of {big_size} to a folder remote; floor: `cat a > b`",
    "1 file of {big_size}, folder",
    ("push", "pull (fresh clone)"),
    tools=("dvlite", "dvc", "cp"),
)
def big_remote(run: Run) -> None:
    src = big_file(run.sizes.big)
    repo = run.fresh_repo() if not run.is_baseline else _plain_dir(run)
    copy_in(src, repo / "model.bin")
    store = run.dir / "remote"
    store.mkdir()
    clone = run.dir / "clone"
    if run.is_baseline:  # the floor: the same bytes read and written once, each way
        run.timed("push", ["sh", "-c", f"cat model.bin > {store}/model.bin"])
        clone.mkdir()
        run.timed("pull (fresh clone)", ["sh", "-c", f"cat {store}/model.bin > model.bin"], clone)
        return
    if run.tool.name == "dvc":  # what dvlite's default reflink,copy is on a non-reflink fs
        run.sh(run.tool.argv("config", "cache.type", "copy"))
    run.sh(run.tool.argv("add", "model.bin"))
    _commit(run, repo, "model")
    _remote(run, repo, str(store))
    run.timed("push", run.tool.argv("push"))
    run.sh(["git", "clone", "-q", str(repo), str(clone)])
    run.timed("pull (fresh clone)", run.tool.argv("pull"), cwd=clone)
    if (clone / "model.bin").stat().st_size != run.sizes.big:
        raise AssertionError(f"{run.tool.name} pull did not restore the big file")


def _plain_dir(run: Run) -> Path:
    if run.dir.exists():
        shutil.rmtree(run.dir)
    run.dir.mkdir(parents=True)
    return run.dir


# -- targets ----------------------------------------------------------------------------------
def _faster(results: Results, sc: str, steps: Iterable[str], want: float) -> Verdict:
    parts, ok = [], True
    for step in steps:
        r = results.ratio(sc, step)
        if r is None:
            return Verdict(None, "not measured")
        parts.append(f"{step} {r:.1f}×")
        ok = ok and r >= want
    return Verdict(ok, f"{', '.join(parts)} faster than DVC (target ≥ {want:g}×)")


def _floor(results: Results, sc: str, steps: Iterable[str], within: float, floor: str) -> Verdict:
    parts, ok = [], True
    for step in steps:
        r = results.ratio(sc, step, slow="dvlite", fast="cp")
        if r is None:
            return Verdict(None, "not measured")
        parts.append(f"{step} {r:.2f}×")
        ok = ok and r <= within
    return Verdict(ok, f"{', '.join(parts)} the time of {floor} (target ≤ {within:g}×)")


@target("folder remote: push and pull of 20k files ≥ 5× faster than DVC")
def _folder_transfer(results: Results) -> Verdict:
    return _faster(results, FOLDER, (PUSH, PULL), 5)


@target("S3: push and pull of 20k files within 1.25× of a plain s3fs bulk put/get")
def _s3_transfer(results: Results) -> Verdict:
    return _floor(results, S3, (PUSH, PULL), 1.25, "s3fs put/get")


@target("folder remote: no-op push and push of 1 changed file ≥ 10× faster than DVC")
def _folder_small(results: Results) -> Verdict:
    return _faster(results, FOLDER, (NOOP, CHANGED), 10)


@target("S3: no-op push and push of 1 changed file ≥ 5× faster than DVC")
def _s3_small(results: Results) -> Verdict:
    return _faster(results, S3, (NOOP, CHANGED), 5)


HANDFUL = 10


@target(f"S3: no-op push and push of 1 changed file in ≤ {HANDFUL} requests")
def _s3_requests(results: Results) -> Verdict:
    parts, ok = [], True
    for step in (NOOP, CHANGED):
        mine, theirs = (results.requests_total(S3, step, t) for t in ("dvlite", "dvc"))
        if mine is None:
            return Verdict(None, "not measured")
        parts.append(f"{step} {mine:,}" + ("" if theirs is None else f" (DVC {theirs:,})"))
        ok = ok and mine <= HANDFUL
    return Verdict(ok, f"{', '.join(parts)} requests (target ≤ {HANDFUL})")


@target("2 GiB push and pull to a folder remote within 1.5× of a plain copy")
def _big(results: Results) -> Verdict:
    return _floor(results, BIGREMOTE, ("push", "pull (fresh clone)"), 1.5, "`cat a > b`")
