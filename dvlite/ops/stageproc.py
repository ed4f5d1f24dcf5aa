"""Stage commands as processes that end when dvlite ends, with all they fork.

Each command runs through the shell as the leader of its own session and process group. On an
error or Ctrl-C dvlite kills each running group; on Linux the shell gets SIGTERM when dvlite
dies (``PR_SET_PDEATHSIG``); and a watcher process, told each group on a pipe, kills what is
left of them when the pipe closes early: dvlite was killed (SIGKILL, OOM) and could not.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

GRACE = 5.0  # seconds between SIGTERM and SIGKILL

_WATCHER = r"""
import os, signal, sys, time
groups = set()
for line in sys.stdin:
    sign, pgid = line[:1], line[1:].strip()
    if pgid.isdigit():
        (groups.add if sign == "+" else groups.discard)(int(pgid))
def alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except OSError:
        return False
for sig in (signal.SIGTERM, signal.SIGKILL):
    for pgid in groups:
        try:
            os.killpg(pgid, sig)
        except OSError:
            pass
    deadline = time.monotonic() + %(grace)s
    while time.monotonic() < deadline:
        groups = {g for g in groups if alive(g)}
        if not groups:
            sys.exit(0)
        time.sleep(0.1)
"""


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn that makes the child get SIGTERM when dvlite dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def preexec() -> None:  # runs in the child between fork and exec: no allocation-heavy work
        prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # dvlite died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


class StageProcesses:
    """The running stage commands of one repro, each the leader of its own process group."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self._watcher: subprocess.Popen[bytes] | None = None
        self._watcher_started = False
        self._preexec = _die_with_parent()

    def start(self, cmd: str, *, cwd: str | os.PathLike[str], env: dict[str, str]):
        """``cmd`` through the shell, its output on one pipe (stdout and stderr)."""
        with self._lock:
            self._start_watcher()
            proc = subprocess.Popen(
                cmd,
                shell=True,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=self._preexec,
            )
            self._running.add(proc)
            self._tell(f"+{proc.pid}")
        return proc

    def done(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._running.discard(proc)
            self._tell(f"-{proc.pid}")

    def kill_all(self) -> None:
        """End every running stage's whole group: SIGTERM, then SIGKILL after GRACE."""
        with self._lock:
            groups = [p.pid for p in self._running]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            groups = [g for g in groups if _killpg(g, sig)]
            deadline = time.monotonic() + GRACE
            while groups and time.monotonic() < deadline:
                time.sleep(0.05)
                groups = [g for g in groups if _killpg(g, 0)]

    def close(self) -> None:
        """No stage runs any more: let the watcher go."""
        with self._lock:
            watcher, self._watcher = self._watcher, None
        if watcher is not None:
            assert watcher.stdin is not None
            with contextlib.suppress(OSError):
                watcher.stdin.close()
            try:
                watcher.wait(timeout=GRACE * 3)
            except subprocess.TimeoutExpired:
                watcher.kill()

    def _start_watcher(self) -> None:
        if self._watcher_started or os.name != "posix":
            return
        self._watcher_started = True
        try:
            self._watcher = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _WATCHER % {"grace": GRACE}],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C or a kill of dvlite's group spares it
            )
        except OSError:
            self._watcher = None  # the other two ways still end the stages

    def _tell(self, line: str) -> None:
        if self._watcher is not None and self._watcher.stdin is not None:
            try:
                self._watcher.stdin.write(line.encode() + b"\n")
                self._watcher.stdin.flush()
            except OSError:
                self._watcher = None


def _killpg(pgid: int, sig: int) -> bool:
    """Send ``sig`` to a group; whether it still exists."""
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False
