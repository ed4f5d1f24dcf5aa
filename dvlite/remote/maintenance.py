"""What `gc --cloud` and `remote repack` need of a remote besides transfers (remote/lock.py,
remote/repack.py): files listed with their modification times, a file of a fixed name written
create-only or replaced, whole objects read verified. ``base.Remote`` inherits it; the backends
provide ``_find_times`` and ``_create``."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any


class Maintenance(ABC):
    root: str

    # -- what base.Remote provides ----------------------------------------------------------
    @abstractmethod
    def _one(self, op: Callable[[Any], Any], item: Any) -> Any: ...
    @abstractmethod
    def _map(
        self, op: Callable[[Any], Any], items: Sequence[Any], jobs: int | None = None
    ) -> list[Any]: ...
    @abstractmethod
    def _write(self, path: str, data: bytes) -> Any: ...
    @abstractmethod
    def _cat_verified(self, oid: str) -> Any: ...

    # -- what the backends provide ------------------------------------------------------------
    @abstractmethod
    def _find_times(self, path: str) -> Any:
        """Each file below ``path`` -> its modification time (seconds since the epoch, None
        when the store does not say) and size; empty when ``path`` does not exist (awaitable
        on async remotes)."""

    @abstractmethod
    def _create(self, path: str, data: bytes) -> Any:
        """Write a file of a fixed name unless one is there; whether this call wrote it."""

    # -- files by key (a path relative to the root) ---------------------------------------------
    def list_times(self, folder: str) -> dict[str, tuple[float | None, int]]:
        """The keys of the files below ``folder`` -> (modification time, size); one listing."""
        listed = self._one(self._find_times, f"{self.root}/{folder}")
        start = len(self.root) + 1
        return {p[start:].replace(os.sep, "/"): t for p, t in listed.items()}

    def create_key(self, key: str, data: bytes) -> bool:
        """Write the file ``key`` only if there is none (True: this call wrote it)."""
        return bool(self._one(lambda path: self._create(path, data), f"{self.root}/{key}"))

    def put_key(self, key: str, data: bytes) -> None:
        """Write (or replace) the file ``key``: readers see the old or the new bytes."""
        self._one(lambda path: self._write(path, data), f"{self.root}/{key}")

    def read_whole(self, oids: Sequence[str]) -> list[bytes | BaseException]:
        """Objects stored whole under ``objects/``, each verified (else its CorruptObjectError
        or FileNotFoundError)."""
        return self._map(self._cat_verified, oids)
