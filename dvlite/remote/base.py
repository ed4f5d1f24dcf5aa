"""The remote interface: every operation a batch over objects, run through ``retry``; the
backends say how to move one object."""

from __future__ import annotations

import errno
import math
import os
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from dvlite.errors import ConfigError, RemoteError
from dvlite.objects.hashing import hex_of
from dvlite.progress import Advance
from dvlite.remote import errors
from dvlite.remote.config import RemoteConfig, protocol_of
from dvlite.remote.retry import TIMEOUT, Retry
from dvlite.secrets import mask_url, scrub

if TYPE_CHECKING:
    from dvlite.objects.cache import Cache

DEFAULT_JOBS_FOLDER = 8
DEFAULT_JOBS_NETWORK = 64

GC_DIR = "gc"
GC_MARK = re.compile(r"[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}")  # what add_gc_mark writes

T = TypeVar("T")
Maybe: TypeAlias = "T | Awaitable[T]"  # what one object's operation returns: async remotes await it


@dataclass(frozen=True, slots=True)
class Obj:
    """An object to move: its id, its size when known (-1 for trees), and a path to name it by."""

    oid: str
    size: int = -1
    rel: str = ""


class Remote(ABC):
    """One configured remote. Batch operations; errors come out as ``RemoteError``."""

    def __init__(
        self, cfg: RemoteConfig, base: str | os.PathLike[str], *, jobs: int | None = None
    ) -> None:
        self.name = cfg.name
        # the URL as messages and reports show it, its password masked: the backends reach
        # the store through ``root`` and ``options``, never through ``url``
        self.url = mask_url(cfg.url)
        self._secret_url = cfg.url
        self.options = cfg.options
        self.protocol = protocol_of(cfg.url)
        self.is_folder = not self.protocol
        self.label = f"remote {self.name!r} ({self.url})"
        if self.protocol:
            self.root = cfg.url.split("://", 1)[1].rstrip("/")
        else:
            path = cfg.url.removeprefix("file://")
            self.root = (
                os.path.join(os.fspath(base), os.path.expanduser(path)).rstrip(os.sep) or os.sep
            )
        if not jobs and "jobs" in self.options:
            jobs = int(_positive(self.name, "jobs", self.options["jobs"], int, "a whole number"))
        self.jobs = jobs or (DEFAULT_JOBS_NETWORK if self.protocol else DEFAULT_JOBS_FOLDER)
        self.timeout = parse_timeout(self.name, self.options.get("timeout"))
        self._receiving_into: str | None = None  # the cache a download writes into

    def __repr__(self) -> str:
        return f"Remote({self.name!r}, {self.url!r})"

    def path(self, oid: str) -> str:
        h = hex_of(oid)
        return f"{self.root}/objects/{h[:2]}/{h[2:]}"

    def url_of(self, oid: str) -> str:
        """Where an object lives, as a user would type it (for messages)."""
        return self.display(self.path(oid))

    def display(self, path: str) -> str:
        """A path of the remote's as a user would type it (for messages)."""
        return self.url.rstrip("/") + path[len(self.root) :]

    # -- errors ---------------------------------------------------------------------------
    def translate(self, exc: BaseException, *, attempts: int = 1) -> RemoteError:
        """``errors.translate``, the URL's password masked where the library's message has it."""
        if (
            self._receiving_into is not None
            and isinstance(exc, OSError)
            and exc.errno in (errno.ENOSPC, errno.EDQUOT)
        ):  # a download fills the local disk, not the remote's
            return RemoteError(
                f"no space left on the local disk of the cache ({self._receiving_into}); "
                "free some space there, then run the command again"
            )
        error = errors.translate(self, exc, attempts=attempts)
        message = scrub(str(error), self._secret_url)
        return error if message == str(error) else RemoteError(message)

    def _map(self, op: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """``op`` on every item, in threads (``retry.Retry``); the results in order."""
        return Retry(self.translate, self.jobs).threads(op, items) if items else []

    def _one(self, op: Callable[[Any], Any], item: Any) -> Any:
        """``op`` on one item, retried; any error raised as a RemoteError."""
        result = self._map(op, [item])[0]
        if isinstance(result, BaseException):
            raise self.translate(result)
        return result

    # -- what the backends provide, one object at a time (awaitable on async remotes) -----
    @abstractmethod
    def check_reachable(self) -> None:
        """Raise a RemoteError if the remote's root (folder, bucket) does not exist."""

    @abstractmethod
    def exists(self, oids: Collection[str]) -> set[str]:
        """Which of ``oids`` the remote holds."""

    @abstractmethod
    def list_oids(self) -> set[str]:
        """Every object id on the remote (one listing of the whole store)."""

    @abstractmethod
    def list_runs(self) -> set[str]:
        """The key of every run-cache entry on the remote (one listing)."""

    @abstractmethod
    def _find(self, path: str) -> Maybe[list[str]]:
        """The paths of the files below ``path`` (none when it does not exist)."""

    @abstractmethod
    def _put(self, cache: Cache, obj: Obj, progress: Advance | None) -> Maybe[None]: ...
    @abstractmethod
    def _get(self, cache: Cache, obj: Obj, progress: Advance | None) -> Maybe[None]: ...
    @abstractmethod
    def _hash(self, oid: str, progress: Advance | None) -> Maybe[str]: ...
    @abstractmethod
    def _cat_verified(self, oid: str) -> Maybe[bytes]: ...
    @abstractmethod
    def _rm(self, path: str) -> Maybe[None]: ...
    @abstractmethod
    def _read(self, path: str) -> Maybe[bytes]: ...
    @abstractmethod
    def _write(self, path: str, data: bytes) -> Maybe[None]: ...

    # -- objects --------------------------------------------------------------------------
    def upload(
        self, cache: Cache, objs: Sequence[Obj], progress: Advance | None = None
    ) -> dict[str, BaseException]:
        """Copy objects from the cache to the remote, verifying each as it is read.
        Returns the objects that failed (missing or corrupt in the cache), by oid."""
        return _failures(objs, self._map(lambda obj: self._put(cache, obj, progress), objs))

    def download(
        self, cache: Cache, objs: Sequence[Obj], progress: Advance | None = None
    ) -> dict[str, BaseException]:
        """Copy objects from the remote into the cache; each is re-hashed before it is
        installed. Returns the ones that failed (missing on the remote, or corrupt)."""
        self._receiving_into = os.fspath(cache.root)
        try:
            return _failures(objs, self._map(lambda obj: self._get(cache, obj, progress), objs))
        finally:
            self._receiving_into = None

    def read(self, oid: str) -> bytes:
        """One object's bytes, verified (for trees the cache lacks)."""
        [data] = self._map(self._cat_verified, [oid])
        if isinstance(data, BaseException):
            raise data  # FileNotFoundError or CorruptObjectError, for the caller to name
        return data

    def hash_objects(
        self, oids: Sequence[str], progress: Advance | None = None
    ) -> dict[str, str | None]:
        """What each remote object's bytes really hash to (None when it is missing)."""
        results = self._map(lambda oid: self._hash(oid, progress), oids)
        return {o: r if isinstance(r, str) else None for o, r in zip(oids, results, strict=True)}

    def delete(self, oids: Iterable[str]) -> None:
        """Remove objects from the remote. Callers delete trees before their contents, so
        that a tree on the remote always means its contents are there."""
        self._map(lambda oid: self._rm(self.path(oid)), list(oids))

    # -- run-cache entries: small files at runs/<2 hex>/<30 hex>, beside objects/ ----------
    def run_path(self, key: str) -> str:
        return f"{self.root}/runs/{key[:2]}/{key[2:]}"

    def run_url(self, key: str) -> str:
        return self.display(self.run_path(key))

    def read_runs(self, keys: Sequence[str]) -> dict[str, bytes | BaseException]:
        """Each entry's bytes, or the error (FileNotFoundError) that reading it gave. Entries
        are not content-addressed: the caller validates what they say."""
        results = self._map(lambda key: self._read(self.run_path(key)), keys)
        return dict(zip(keys, results, strict=True))

    def delete_runs(self, keys: Iterable[str]) -> None:
        self._map(lambda key: self._rm(self.run_path(key)), list(keys))

    def write_runs(self, entries: dict[str, bytes]) -> None:
        """Store run-cache entries, each appearing only once completely written."""
        self._map(lambda item: self._write(self.run_path(item[0]), item[1]), list(entries.items()))

    # -- gc marks: gc/<name>, written before a gc of the remote deletes anything ----------
    def gc_marks(self) -> frozenset[str]:
        """The gc marks on the remote (one listing): they change whenever a gc of the remote
        starts, so a client's record of what it verified there holds while they stay the same."""
        listed = self._one(self._find, f"{self.root}/{GC_DIR}")
        return frozenset(filter(GC_MARK.fullmatch, (p.rsplit("/", 1)[-1] for p in listed)))

    def add_gc_mark(self) -> str:
        """Write a new gc mark (a name no other writer uses); returns it."""
        name = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + os.urandom(4).hex()
        self._one(lambda path: self._write(path, b""), f"{self.root}/{GC_DIR}/{name}")
        return name

    def delete_gc_marks(self, names: Iterable[str]) -> None:
        self._map(self._rm, [f"{self.root}/{GC_DIR}/{n}" for n in names if GC_MARK.fullmatch(n)])

    # -- temporary files a killed push left (stores that write under a temporary name) ------
    def list_tmp(self) -> list[tuple[str, float]]:
        """Every temporary file on the remote, with its modification time (seconds since the
        epoch). Object stores, where an object appears only once written, have none."""
        return []

    def delete_tmp(self, paths: Iterable[str]) -> None:
        self._map(self._rm, list(paths))


def parse_timeout(name: str, raw: str | None) -> float:
    """``remote.NAME.timeout``: seconds, a number above 0 (``TIMEOUT`` when unset)."""
    return TIMEOUT if raw is None else _positive(name, "timeout", raw, float, "a number of seconds")


def _positive(name: str, key: str, raw: str, kind: Callable[[str], float], what: str) -> float:
    """``remote.NAME.KEY`` read by ``kind``; a ConfigError unless it is above 0 (and finite)."""
    try:
        value = kind(raw)
    except ValueError:
        value = 0
    if not 0 < value < math.inf:
        raise ConfigError(f"remote.{name}.{key} must be {what} above 0, not {raw!r}")
    return value


def _failures(objs: Sequence[Obj], results: list[Any]) -> dict[str, BaseException]:
    return {o.oid: r for o, r in zip(objs, results, strict=True) if isinstance(r, BaseException)}
