"""A latency proxy: every HTTP request waits ``DELAY_MS`` before it is forwarded to the server.

    python bench/latency.py UPSTREAM_URL DELAY_MS

Prints the port it listens on (127.0.0.1), then serves until killed. The tools are pointed at
it as their S3 endpoint, so every request they send (HEAD, GET, PUT, LIST, ...) costs one extra
round trip of ``DELAY_MS``, the way a real object store tens of milliseconds away does; bodies
are passed through unchanged. It runs in its own process so that it does not compete for the
bench process's interpreter lock with the S3 server it forwards to.
"""

from __future__ import annotations

import http.client
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP = ("connection", "keep-alive", "transfer-encoding", "expect", "proxy-connection")
CHUNK = 1 << 20


def handler(upstream: tuple[str, int], delay: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the clients expect
        timeout = 120
        conn: http.client.HTTPConnection | None = None  # to the server, one per client conn

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
            time.sleep(delay)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            if body or self.command in ("PUT", "POST"):
                headers["Content-Length"] = str(len(body))
            for attempt in (1, 2):  # a kept-alive connection the server closed: once more
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(*upstream, timeout=120)
                try:
                    self.conn.request(self.command, self.path, body=body, headers=headers)
                    response = self.conn.getresponse()
                    break
                except (ConnectionError, http.client.HTTPException):
                    self.conn.close()
                    self.conn = None
                    if attempt == 2:
                        raise
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in (*HOP, "content-length"):
                    self.send_header(key, value)
            if self.command == "HEAD":
                self.send_header("Content-Length", response.getheader("Content-Length") or "0")
                self.end_headers()
                response.read()
                return
            length = response.getheader("Content-Length")
            if length is None:  # unknown length: read it all, then say how long
                data = response.read()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            self.send_header("Content-Length", length)
            self.end_headers()
            while chunk := response.read(CHUNK):
                self.wfile.write(chunk)

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle

    return Handler


def main(argv: list[str]) -> int:
    url, delay_ms = argv
    host, _, port = url.removeprefix("http://").rstrip("/").partition(":")
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler((host, int(port)), int(delay_ms) / 1e3))
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
