"""The one progress protocol of every long operation (add, checkout, fsck, push, fetch, pull):
totals once known, then what is done, in files and bytes. The CLI's bar implements it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Progress(Protocol):
    """Totals as they become known (``start`` adds to them), then ``advance``; from any thread."""

    def start(self, files: int, size: int) -> None: ...

    def advance(self, files: int, size: int) -> None: ...


Advance = Callable[[int, int], None]  # Progress.advance: what a remote's batch is given
OnBytes = Callable[[int], None]  # the bytes read or sent so far inside one big file, per chunk
_STEP = 1 << 20  # bytes inside a file are reported a MiB or more at a time


class FileBytes:
    """One file's progress: its bytes as they move (``on_bytes``), then the file with the bytes
    not reported yet (``finish``). A failed attempt (leaving ``with`` by an exception) takes its
    bytes back, so that a retry does not count them again."""

    __slots__ = ("_advance", "_pending", "done")

    def __init__(self, advance: Advance | None) -> None:
        self._advance = advance
        self.done = 0  # bytes reported
        self._pending = 0  # bytes read and not reported yet: a MiB at a time is enough

    @property
    def on_bytes(self) -> OnBytes | None:
        return self._count if self._advance else None

    def _count(self, n: int) -> None:
        assert self._advance is not None
        self._pending += n
        if self._pending >= _STEP:
            self.done += self._pending
            self._advance(0, self._pending)
            self._pending = 0

    def finish(self, size: int) -> None:
        if self._advance:
            self._advance(1, size - self.done)
            self.done, self._pending = size, 0

    def __enter__(self) -> FileBytes:
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if exc is not None and self._advance and self.done:
            self._advance(0, -self.done)
            self.done = 0
