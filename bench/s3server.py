"""The S3 the remote workloads talk to: moto on 127.0.0.1 in a thread of the bench process,
counting the requests it serves by kind and the bytes of their bodies; and the latency proxy
(bench/latency.py, its own process) that puts 20 ms in front of every request."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from bench.harness import WORK, BenchError, Run

LATENCY_PY = Path(__file__).with_name("latency.py")
# dvlite's index files (storage format 2): their reads are told apart from the data's
_INDEX_KEY = re.compile(r"/index/[0-9a-f]{32}\.idx$")


class _CountingInput:
    """A request body stream that counts the bytes the server reads from it."""

    def __init__(self, stream: Any, add: Callable[[int], None]) -> None:
        self._stream, self._add = stream, add

    def read(self, *args: Any) -> bytes:
        data: bytes = self._stream.read(*args)
        self._add(len(data))
        return data

    def readinto(self, b: bytearray) -> int | None:
        n: int | None = self._stream.readinto(b)
        self._add(n or 0)
        return n

    def readline(self, *args: Any) -> bytes:
        data: bytes = self._stream.readline(*args)
        self._add(len(data))
        return data

    def readlines(self, *args: Any) -> list[bytes]:
        lines: list[bytes] = self._stream.readlines(*args)
        self._add(sum(map(len, lines)))
        return lines

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


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
        self._bytes = [0, 0]  # request bodies read, response bodies written

    def _add(self, which: int, n: int) -> None:
        with self._lock:
            self._bytes[which] += n

    def _counting(self, app: Callable[..., Any]) -> Callable[..., Any]:
        def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            path = environ.get("PATH_INFO", "")
            if path.startswith("/moto-api"):
                return app(environ, start_response)
            kind = _kind(
                environ["REQUEST_METHOD"],
                path,
                environ.get("QUERY_STRING", ""),
                bool(environ.get("HTTP_RANGE")),
            )
            with self._lock:
                self._counts[kind] += 1
            environ["wsgi.input"] = _CountingInput(environ["wsgi.input"], lambda n: self._add(0, n))
            body = app(environ, start_response)
            if environ["REQUEST_METHOD"] == "HEAD":
                return body
            return self._counted_body(body)

        return counted

    def _counted_body(self, body: Iterable[bytes]) -> Iterator[bytes]:
        # a chunk counts once the server asks for the next one: it was written to the client
        # (a client that hangs up early, as s3fs's first GET of a big object does, is not
        # counted as having received what it did not read)
        try:
            for chunk in body:
                yield chunk
                self._add(1, len(chunk))
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    def take(self) -> tuple[dict[str, int], int, int]:
        """The requests served since the last call, by kind, and their bytes sent and
        received (by the client)."""
        with self._lock:
            counts, self._counts = dict(self._counts), Counter()
            (sent, received), self._bytes = self._bytes, [0, 0]
        return counts, sent, received

    def create_bucket(self, name: str) -> None:
        req = urllib.request.Request(f"{self.endpoint}/{name}", method="PUT")
        urllib.request.urlopen(req).close()
        self.take()

    def reset(self) -> None:
        """Forget every bucket (the objects are held in this process's memory)."""
        req = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        for attempt in range(3):  # a request a killed command left running can be in the way
            try:
                urllib.request.urlopen(req).close()
                break
            except OSError as exc:
                if attempt == 2:
                    raise BenchError(f"the S3 server could not be reset: {exc}") from None
                time.sleep(5)
        self.take()

    def stop(self) -> None:
        self._server.stop()


def _kind(method: str, path: str, query: str, ranged: bool) -> str:
    key = path.strip("/").partition("/")[2]  # path-style: /bucket/key
    if method == "GET" and (not key or "list-type" in query or "prefix=" in query):
        return "LIST"
    if method == "POST" and "delete" in query:
        return "DELETE"
    if method == "GET" and _INDEX_KEY.search(path):
        return "GET index"
    if method == "GET" and ranged:
        return "GET range"
    if method == "PUT" and "partNumber=" in query:
        return "PUT part"
    return method


DATA_KINDS = ("GET", "GET range")  # the requests that fetch data (not listings or indexes)

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


class LatencyProxy:
    """bench/latency.py in front of the S3 server: ``endpoint`` is what the tools are given."""

    def __init__(self, upstream: str, delay_ms: int) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, str(LATENCY_PY), upstream, str(delay_ms)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        port = self._proc.stdout.readline().strip()
        if not port.isdigit():
            self._proc.kill()
            raise BenchError(f"the latency proxy did not start (it said {port!r})")
        self.endpoint = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self._proc.terminate()
        self._proc.wait(timeout=10)


_proxy: LatencyProxy | None = None


def proxy(s3: S3Server, delay_ms: int) -> LatencyProxy:
    """The one latency proxy of this bench process, started on first use (stopped with it)."""
    global _proxy
    if _proxy is None:
        _proxy = LatencyProxy(s3.endpoint, delay_ms)
        import atexit

        atexit.register(_proxy.stop)
    return _proxy
