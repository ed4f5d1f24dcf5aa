"""One writer at a time: an OS file lock (fcntl) on ``.dvlite/tmp/lock``. The kernel drops it
when the process dies, so a killed run never leaves a stale lock."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dvlite.errors import LockError

DEFAULT_TIMEOUT = 3.0


@contextmanager
def repo_lock(path: Path, timeout: float | None = None) -> Iterator[None]:
    if timeout is None:
        timeout = float(os.environ.get("DVLITE_LOCK_TIMEOUT", DEFAULT_TIMEOUT))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                    raise LockError(
                        f"another dvlite process (pid {holder}) is working in this repository; "
                        "wait for it to finish, then run the command again"
                    ) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
