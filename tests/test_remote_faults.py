"""Faults on the way to S3: a proxy on 127.0.0.1 forwards each request to the moto server and
answers some with an error (503 SlowDown, 500, 403) or a reset connection, by rules the test
sets. Transient faults are retried (and counted through the proxy); faults that outlast the
retries, and permanent ones, stop the command with one line naming the remote."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import TmpDir, git, invoke, ok, one_line_error
from remote_helpers import BOTH_FORMATS, S3Store, lose_object, make_bucket, stored_oids

from dvlite.objects.hashing import hex_of, oid_of_bytes
from dvlite.records.repo import Repo
from dvlite.remote import retry
from dvlite.remote.fsspec_remote import EXISTS_MAX

URL = "s3://bucket/store"
LABEL = f"remote 'store' ({URL})"
SLOWDOWN = (503, "SlowDown", "Please reduce your request rate.")
INTERNAL = (500, "InternalError", "We encountered an internal error. Please try again.")
DENIED = (403, "AccessDenied", "Access Denied")
RESET = (0, "", "")  # close the connection without an answer


@dataclass
class Rule:
    method: str | None  # None: any request
    times: int | None  # None: every matching request, for ever
    fault: tuple[int, str, str]
    where: str = ""  # only requests whose path (with the query) contains this


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    fault: int | None  # the status injected (0: reset), None when forwarded


class FaultProxy:
    """A threaded HTTP proxy in front of the moto server, injecting faults by rule."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.rules: list[Rule] = []
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.conns: set[socket.socket] = set()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = False  # server_close() joins every handler thread
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,))

    def fail(
        self, method: str | None, times: int | None, fault: tuple[int, str, str], where: str = ""
    ) -> None:
        """Answer the next ``times`` requests of ``method`` (None: every request) whose path
        contains ``where`` with ``fault``; ``times=None``: every one from now on."""
        with self.lock:
            self.rules.append(Rule(method, times, fault, where))

    def count(self, method: str | None = None, *, faulted: bool | None = None) -> int:
        with self.lock:
            return sum(
                1
                for s in self.seen
                if (method is None or s.method == method)
                and (faulted is None or (s.fault is not None) == faulted)
            )

    def reset_log(self) -> None:
        with self.lock:
            self.seen.clear()

    def decide(self, method: str, path: str) -> tuple[int, str, str] | None:
        with self.lock:
            fault = None
            for rule in self.rules:
                if rule.method in (None, method) and rule.times != 0 and rule.where in path:
                    if rule.times is not None:
                        rule.times -= 1
                    fault = rule.fault
                    break
            self.seen.append(Seen(method, path, None if fault is None else fault[0]))
            return fault

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join()
        with self.lock:
            conns = list(self.conns)
        for conn in conns:  # kept-alive client connections: wake their handler threads
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.server.server_close()


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as clients expect
        timeout = 30  # an idle connection never holds a thread for long

        def setup(self) -> None:
            super().setup()
            with proxy.lock:
                proxy.conns.add(self.connection)

        def finish(self) -> None:
            with proxy.lock:
                proxy.conns.discard(self.connection)
            super().finish()

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0] or b"0", 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _handle(self) -> None:
            body = self._body()
            fault = proxy.decide(self.command, self.path)
            if fault is None:
                self._forward(body)
            elif fault[0] == 0:
                # a reset: RST instead of an answer
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
            else:
                status, code, message = fault
                xml = (
                    '<?xml version="1.0" encoding="UTF-8"?>\n'
                    f"<Error><Code>{code}</Code><Message>{message}</Message>"
                    "<RequestId>fault</RequestId></Error>"
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(xml)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(xml)

        def _forward(self, body: bytes) -> None:
            conn = http.client.HTTPConnection(*proxy.upstream, timeout=30)
            try:
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("transfer-encoding", "connection")
                }
                if body or self.command in ("PUT", "POST"):
                    headers["Content-Length"] = str(len(body))
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                self.send_response(response.status, response.reason)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                if self.command == "HEAD":
                    length = response.getheader("Content-Length") or "0"
                else:
                    length = str(len(data))
                self.send_header("Content-Length", length)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
            finally:
                conn.close()

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle

    return Handler


@pytest.fixture
def proxy(s3: str) -> Iterator[FaultProxy]:
    p = FaultProxy(s3)
    p.start()
    try:
        yield p
    finally:
        p.stop()
    assert not p.thread.is_alive()
    assert not [t for t in threading.enumerate() if "process_request" in t.name]


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "BACKOFF", 0.001)


DATA = {
    "data": {
        "a.txt": "alpha",
        "b.txt": "bravo",
        "sub": {"c.bin": os.urandom(2048), "d.txt": "delta"},
    },
}


@pytest.fixture
def project(
    repo: Repo, tmp_dir: TmpDir, s3: str, proxy: FaultProxy, fast_backoff: None, fmt: int | None
) -> Repo:
    """A committed repository tracking a small folder, its S3 remote reached via the proxy."""
    make_bucket(s3, "bucket")  # directly on moto
    tmp_dir.gen(DATA)
    ok(invoke("add", "data"))
    ok(invoke("remote", "add", "-d", "store", URL))
    ok(invoke("remote", "modify", "store", "endpoint_url", proxy.url))
    if fmt is not None:
        ok(invoke("remote", "modify", "store", "format", str(fmt)))
    git(tmp_dir, "add", "-A")
    git(tmp_dir, "commit", "-q", "-m", "v1")
    proxy.reset_log()
    return repo


def files_under(root: Path) -> dict[str, bytes]:
    base = Path(root) / "data"
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in base.rglob("*") if p.is_file()}


def clone(project: Repo, monkeypatch: pytest.MonkeyPatch) -> Path:
    dest = project.root.parent / (project.root.name + "-clone")
    git(project.root.parent, "clone", "-q", str(project.root), str(dest))
    monkeypatch.chdir(dest)
    return dest


def clone_and_pull(project: Repo, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    dest = clone(project, monkeypatch)
    ok(invoke("pull"))
    return files_under(dest)


OBJECTS = 6  # 4 files and 2 trees


@BOTH_FORMATS
@pytest.mark.parametrize("fault", [SLOWDOWN, INTERNAL, RESET], ids=["503", "500", "reset"])
def test_transient_faults_are_retried(
    project: Repo, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch, fault: tuple, fmt: int
) -> None:
    proxy.fail("PUT", 3, fault)
    assert ok(invoke("push")).stdout.startswith(f"{OBJECTS} objects pushed")
    assert proxy.count("PUT", faulted=True) == 3
    # every file arrived once, after the three failed attempts: each object whole (format
    # 1), or one pack of them all and its index file (format 2)
    files = OBJECTS if fmt == 1 else 2
    assert proxy.count("PUT", faulted=False) == files
    proxy.reset_log()
    proxy.fail("GET", 3, fault)
    assert clone_and_pull(project, monkeypatch) == files_under(project.root)
    assert proxy.count("GET", faulted=True) == 3
    assert proxy.count("GET", faulted=False) >= files


GAVE_UP = f"; gave up after {1 + retry.RETRIES} attempts, try again later"


def attempts_of(fault: tuple) -> tuple[int, int]:
    """How many requests ``1 + RETRIES`` attempts cost: aiohttp itself resends an idempotent
    request once when the connection drops (RFC 9112), so a reset may cost two requests."""
    n = 1 + retry.RETRIES
    return (n, 2 * n) if fault is RESET else (n, n)


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        (SLOWDOWN, f"{LABEL}: Please reduce your request rate"),
        (INTERNAL, f"{LABEL}: We encountered an internal error. Please try again"),
        (RESET, f"{LABEL} at {{proxy}} dropped the connection before answering"),
    ],
    ids=["503", "500", "reset"],
)
def test_a_fault_that_outlasts_the_retries_stops_with_one_line(
    project: Repo, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch, fault: tuple, says: str
) -> None:
    proxy.fail("PUT", None, fault)
    line = one_line_error(invoke("push", "-j", "1"))
    assert line == "Error: " + says.format(proxy=proxy.url) + GAVE_UP
    # one file at a time: the first (format 2: the first pack) is tried 1 + RETRIES times, then
    # the push stops (no retries of s3fs or botocore multiply them)
    low, high = attempts_of(fault)
    assert low <= proxy.count("PUT") <= high
    assert proxy.count("PUT", faulted=False) == 0
    # the same for a pull whose downloads keep failing
    proxy.rules.clear()
    ok(invoke("push"))
    proxy.reset_log()
    proxy.fail("GET", None, fault)
    dest = clone(project, monkeypatch)
    line = one_line_error(invoke("pull", "-j", "1"))
    assert line == "Error: " + says.format(proxy=proxy.url) + GAVE_UP
    assert low <= proxy.count("GET") <= high
    assert not (dest / "data").exists()


def test_a_permanent_error_is_not_retried(project: Repo, proxy: FaultProxy) -> None:
    proxy.fail(None, None, DENIED)
    line = one_line_error(invoke("push", "-j", "1"))
    assert line == (
        f"Error: access denied by {LABEL}: Access Denied; check the credentials "
        "(AWS_* variables, profile, or remote.store.access_key_id) and the permissions"
    )
    # push first lists the remote's index files, and stops at that first refusal
    assert proxy.count() == 1


# -- exists() by listing: more than EXISTS_MAX objects asked about at once ------------------------
def listings(proxy: FaultProxy) -> list[str]:
    """The prefixes of the store's objects that were listed (each GET ...?list-type=2&prefix=...);
    push's one listing of the gc marks (``gc/``) is left out."""
    from urllib.parse import parse_qs, urlsplit

    with proxy.lock:
        queries = [parse_qs(urlsplit(s.path).query) for s in proxy.seen if s.method == "GET"]
    prefixes = [q.get("prefix", [""])[0] for q in queries if "list-type" in q]
    return [p for p in prefixes if not p.endswith("/gc/")]


def contents(n: int, prefixes: tuple[str, ...] = ()) -> dict[str, bytes]:
    """``n`` file contents (by name), with object ids starting with ``prefixes`` when given."""
    found: dict[str, bytes] = {}
    i = 0
    while len(found) < n:
        data = f"object {i}\n".encode()
        i += 1
        if not prefixes or hex_of(oid_of_bytes(data)).startswith(prefixes):
            found[f"f{len(found):03}.txt"] = data
    return found


def store_keys(s3: str) -> set[str]:
    import boto3

    client = boto3.client("s3", endpoint_url=s3, region_name="us-east-1")
    pages = client.get_paginator("list_objects_v2").paginate(Bucket="bucket", Prefix="store/")
    return {o["Key"].removeprefix("store/") for page in pages for o in page.get("Contents", [])}


def key(oid: str) -> str:
    return f"objects/{hex_of(oid)[:2]}/{hex_of(oid)[2:]}"


@pytest.fixture
def big(
    repo: Repo, tmp_dir: TmpDir, s3: str, proxy: FaultProxy, fast_backoff: None
) -> Callable[..., dict]:
    """A committed folder ``wide`` of files straight below it (asked about all at once), its
    remote of format 1 (objects stored whole, looked for by listing or one by one)."""

    def make(files: dict[str, bytes]) -> dict[str, bytes]:
        make_bucket(s3, "bucket")
        tmp_dir.gen({"wide": files})
        ok(invoke("add", "wide"))
        ok(invoke("remote", "add", "-d", "store", URL))
        ok(invoke("remote", "modify", "store", "endpoint_url", proxy.url))
        ok(invoke("remote", "modify", "store", "format", "1"))
        git(tmp_dir, "add", "-A")
        git(tmp_dir, "commit", "-q", "-m", "wide")
        return files

    return make


def test_exists_lists_an_empty_store_once(
    big: Callable[..., dict], proxy: FaultProxy, s3: str, repo: Repo
) -> None:
    files = big(contents(EXISTS_MAX + 36))
    oids = [oid_of_bytes(d) for d in files.values()]
    proxy.reset_log()
    ok(invoke("push"))
    # the root and its 100 entries, asked about in one batch: one prefix listed to estimate
    # the store's size, then the whole store in one listing, no HEAD per object
    oids.append(_root(repo))
    assert proxy.count("HEAD") == 0
    assert len(listings(proxy)) == 2
    assert listings(proxy) == [f"store/objects/{hex_of(min(oids))[:2]}/", "store/objects/"]
    assert proxy.count("PUT") == len(files) + 1  # every file, then the tree
    expected = {key(oid_of_bytes(d)) for d in files.values()}
    assert expected < store_keys(s3)
    assert len(store_keys(s3)) == len(files) + 1


def test_exists_lists_a_partly_filled_store(
    big: Callable[..., dict], proxy: FaultProxy, s3: str, repo: Repo
) -> None:
    files = big(contents(EXISTS_MAX + 36))
    names = sorted(files)
    ok(invoke("push", *(f"wide/{n}" for n in names[::3])))  # a third of the files
    before = store_keys(s3)
    assert len(before) == len(names[::3])
    proxy.reset_log()
    # the listing of the whole store fails twice (throttled), and is retried
    proxy.fail("GET", 2, SLOWDOWN, where="prefix=store%2Fobjects%2F&")
    ok(invoke("push"))
    assert len(listings(proxy)) == 2 + 2
    assert listings(proxy)[1:] == ["store/objects/"] * 3
    # exactly the missing files, then the tree
    missing = {key(oid_of_bytes(files[n])) for n in names if n not in names[::3]}
    assert proxy.count("PUT") == len(missing) + 1
    assert store_keys(s3) - before == missing | {key(_root(repo))}


def test_exists_lists_only_the_prefixes_asked_about(
    big: Callable[..., dict], proxy: FaultProxy, s3: str, repo: Repo
) -> None:
    # 80 objects in 4 prefixes; the first prefix already holds 20 (so the store looks like
    # 20 * 256 objects: listing 4 prefixes is cheaper than listing the whole store)
    files = big(contents(80, ("00", "01", "02", "03")))
    first = sorted(n for n, d in files.items() if hex_of(oid_of_bytes(d)).startswith("00"))
    assert len(first) >= 12  # enough to make the whole store look big
    ok(invoke("push", *(f"wide/{n}" for n in first)))
    for record in (repo.tmp_dir / "remotes").glob("*.json"):
        record.unlink()  # this is about exists(): the push must ask about every object
    before = store_keys(s3)
    proxy.reset_log()
    ok(invoke("push"))
    # the root is asked about with its entries: its prefix is listed too, no HEAD at all
    prefixes = sorted({"00", "01", "02", "03", hex_of(_root(repo))[:2]})
    assert sorted(listings(proxy)) == [f"store/objects/{p}/" for p in prefixes]
    assert proxy.count("HEAD") == 0
    missing = {key(oid_of_bytes(d)) for n, d in files.items() if n not in first}
    assert proxy.count("PUT") == len(missing) + 1
    assert store_keys(s3) - before == missing | {key(_root(repo))}


def _root(repo: Repo) -> str:
    from dvlite.records import pointer

    return pointer.load(repo.root / "wide.dvl").oid


# -- what a clone verified on the remote: trusted until a gc of the remote starts ------------------
def _drop_by_hand(s3: str, oid: str) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=s3, region_name="us-east-1")
    client.delete_object(Bucket="bucket", Key=f"store/{key(oid)}")


@pytest.mark.parametrize("fmt", [1], indirect=True)  # format 2 lists its index files instead
def test_a_push_after_a_verified_push_asks_only_for_the_gc_marks(
    project: Repo, proxy: FaultProxy
) -> None:
    ok(invoke("push"))
    proxy.reset_log()
    assert "Everything is up to date" in ok(invoke("push")).output
    assert proxy.count() == 1  # one listing of gc/, nothing about the objects
    assert listings(proxy) == []


@pytest.mark.parametrize("fmt", [1], indirect=True)  # gc marks are a format-1 record
def test_a_gc_of_the_remote_voids_what_push_verified(
    project: Repo, proxy: FaultProxy, s3: str, tmp_dir: TmpDir
) -> None:
    """gc --cloud writes a new mark before deleting anything, so after a gc (finished or
    killed, from any clone) push looks for every object again and repairs what is gone."""
    ok(invoke("push"))
    tmp_dir.gen({"old.txt": "old"})
    ok(invoke("add", "old.txt"))
    ok(invoke("push", "old.txt"))
    old = oid_of_bytes(b"old")
    ok(invoke("remove", "old.txt.dvl"))
    ok(invoke("gc", "-w", "--cloud", "-f"))  # drops old.txt's object: a mark is written first
    kept = oid_of_bytes(b"alpha")
    _drop_by_hand(s3, kept)  # as if that gc had been killed with data/a.txt half gone

    result = ok(invoke("push"))

    assert "Everything is up to date" not in result.output
    assert key(kept) in store_keys(s3)
    assert key(old) not in store_keys(s3)


@BOTH_FORMATS
def test_status_remote_finds_what_the_remote_lost_and_push_then_repairs_it(
    project: Repo, proxy: FaultProxy, s3: str
) -> None:
    """Objects removed behind dvlite's back (no gc mark; on format 2, no index file naming
    them) are found by status --remote, which looks for every object; it voids the record
    (format 1), so the next push sends them again."""
    ok(invoke("push"))
    lost = oid_of_bytes(b"bravo")
    store = S3Store(s3, create=False)
    lose_object(store, lost)
    assert invoke("status", "--remote", "-q").exit_code == 1
    ok(invoke("push"))
    assert invoke("status", "--remote", "-q").exit_code == 0
    assert lost in stored_oids(store)
