"""Plain helpers shared by the tests (no mocks: real files, real git, the real CLI). Fixtures
live in conftest.py; tests import helpers from here, never from conftest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import xxhash
from click.testing import CliRunner

from dvlite.cli import main


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


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def clone(src: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``git clone`` of ``src`` beside it, made the current directory."""
    dest = src.parent / (src.name + "-clone")
    git(src.parent, "clone", "-q", str(src), str(dest))
    monkeypatch.chdir(dest)
    return dest


# -- running dvlite ------------------------------------------------------------------------------
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


def ok(result: RunResult) -> RunResult:
    assert result.exit_code == 0, result.output
    return result


def one_line_error(result: RunResult) -> str:
    """The one ``Error: ...`` line of a failed run (exit code 1)."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


def run_main(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real ``python -m dvlite`` in a subprocess (exit codes, stderr, lazy imports)."""
    return subprocess.run(
        [sys.executable, "-m", "dvlite", *args],
        cwd=cwd or os.getcwd(),
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )


def plain_env(**extra: str) -> dict[str, str]:
    """The environment without width or colour settings, with this venv's dvlite on PATH."""
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
        env=plain_env(**env),
    )


def on_terminal(argv: list[str], cwd: Path | None = None, **env: str) -> str:
    """Run argv with stdout and stderr on a pseudo-terminal; return what it printed."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=slave, stderr=slave, env=plain_env(**env))
    os.close(slave)
    out = b""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        out += data
    os.close(master)
    proc.wait()
    return out.decode()


# -- objects and files ---------------------------------------------------------------------------
def oid(data: bytes) -> str:
    return "xxh128:" + xxhash.xxh3_128_hexdigest(data)


def tree_bytes(entries: list[dict[str, object]]) -> bytes:
    """A tree object built by hand, exactly as design.md §1 describes it."""
    ordered = sorted(entries, key=lambda e: str(e["name"]))
    return json.dumps(ordered, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (following nothing) -> its bytes; folders as b'<dir>'."""
    found: dict[str, bytes] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", ".dvlite")]
        for d in dirs:
            found[os.path.relpath(os.path.join(folder, d), root)] = b"<dir>"
        for f in files:
            path = os.path.join(folder, f)
            rel = os.path.relpath(path, root)
            found[rel] = (
                b"<link>" + os.readlink(path).encode()
                if os.path.islink(path)
                else Path(path).read_bytes()
            )
    return found


def object_path(cache_dir: Path, oid_: str) -> Path:
    h = oid_.split(":", 1)[1]
    return cache_dir / "objects" / h[:2] / h[2:]


def cache_objects(cache_dir: Path) -> dict[str, bytes]:
    """Every object file in the cache: its name as an oid -> its bytes."""
    objects = {}
    base = cache_dir / "objects"
    if base.is_dir():
        for prefix in sorted(base.iterdir()):
            for f in sorted(prefix.iterdir()):
                objects["xxh128:" + prefix.name + f.name] = f.read_bytes()
    return objects


def assert_cache_sound(cache_dir: Path) -> None:
    """No object whose bytes do not hash to its name."""
    for name, data in cache_objects(cache_dir).items():
        assert oid(data) == name, f"partial or corrupt object {name}"


# dvlite on a slow disk (each write sleeps), so a kill lands while objects are being written:
# `[sys.executable, "-c", SLOW_DISK, *args]`; os.write is a built-in, not one of our layers.
SLOW_DISK = """
import os, sys, time
real_write = os.write
def slow_write(fd, data):
    n = real_write(fd, data[: 1 << 16])
    time.sleep(0.01)
    return n
os.write = slow_write
from dvlite.cli import main
main(sys.argv[1:])
"""


# dvlite that SIGKILLs itself once it has written `argv[1]` bytes, to files (os.write,
# os.pwrite) or to sockets (send): the write that crosses the limit is cut short there, so a
# push dies in the middle of a pack on a folder, of a request on S3. Packs are sealed at
# `argv[2]` bytes, objects from `argv[3]` bytes stay whole and files from `argv[4]` bytes are
# chunked (0: dvlite's own sizes), so a small push writes several of each.
# `[sys.executable, "-c", KILL_AFTER, k, pack_size, whole_min, chunked_min, *args]`; at exit
# (when not killed) it prints `written N` on stderr.
KILL_AFTER = """
import atexit, os, signal, socket, sys
limit, pack_size, whole_min, chunked_min = map(int, sys.argv[1:5])
written = 0
def counted(real):
    def write(where, data, *rest):
        global written
        data = memoryview(data).cast("B")
        if written + len(data) >= limit:
            real(where, data[: limit - written], *rest)
            os.kill(os.getpid(), signal.SIGKILL)
        n = real(where, data, *rest)
        written += len(data) if n is None else n
        return n
    return write
os.write, os.pwrite = counted(os.write), counted(os.pwrite)
socket.socket.send = counted(socket.socket.send)
socket.socket.sendall = counted(socket.socket.sendall)
atexit.register(lambda: sys.stderr.write(f"written {written}\\n"))
from dvlite.objects import chunks
from dvlite.remote import packed, upload
for sizes in (packed, upload):  # upload.py imported packed's sizes along with packed
    sizes.PACK_SIZE = pack_size or sizes.PACK_SIZE
    sizes.WHOLE_MIN = whole_min or sizes.WHOLE_MIN
chunks.CHUNKED_MIN = chunked_min or chunks.CHUNKED_MIN
from dvlite.cli import main
main(sys.argv[5:])
"""

# dvlite that, once it has read what the remote holds (its index files, the first time), says
# so with a file in the folder `argv[1]` and waits until `argv[2]` files are there: processes
# started with it all plan against the same remote before any of them writes there. Files
# from `argv[3]` bytes are chunked (0: dvlite's own size).
# `[sys.executable, "-c", BARRIER, folder, n, chunked_min, *args]`
BARRIER = """
import os, sys, time
from dvlite.objects import chunks
from dvlite.remote import packed
folder, n, chunked_min = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
chunks.CHUNKED_MIN = chunked_min or chunks.CHUNKED_MIN
load, waited = packed.load_catalog, []
def load_then_wait(*args, **kwargs):
    catalog = load(*args, **kwargs)
    if not waited:
        waited.append(True)
        open(os.path.join(folder, str(os.getpid())), "x").close()
        deadline = time.monotonic() + 60
        while len(os.listdir(folder)) < n:
            if time.monotonic() > deadline:
                sys.exit("barrier: the others never came")
            time.sleep(0.005)
    return catalog
packed.load_catalog = load_then_wait
from dvlite.cli import main
main(sys.argv[4:])
"""
