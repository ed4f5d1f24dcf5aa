"""Remotes reached through an fsspec filesystem (gs://, az://, sftp://, memory://, ...):
``FsspecBase`` is what all share (the filesystem, asking what is there); ``FsspecRemote`` runs
a batch in threads on a sync filesystem (async ones: ``fsspec_async``)."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import time
from abc import abstractmethod
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import fsspec
from fsspec.callbacks import DEFAULT_CALLBACK, Callback

from dvlite.errors import RemoteError
from dvlite.objects import fsutil, hashing
from dvlite.objects.store import check, verified
from dvlite.progress import Advance, FileBytes, OnBytes
from dvlite.remote.base import Maybe, Remote
from dvlite.remote.config import COMMON_OPTIONS
from dvlite.remote.packed import Obj

if TYPE_CHECKING:
    from dvlite.objects.cache import Cache

T = TypeVar("T")

# the pip extra and the package that give each protocol its fsspec filesystem
EXTRAS = {
    **dict.fromkeys(("gs", "gcs"), ("gcs", "gcsfs")),
    **dict.fromkeys(("az", "abfs", "abfss", "adl"), ("azure", "adlfs")),
    **dict.fromkeys(("sftp", "ssh"), ("sftp", "paramiko")),
    **dict.fromkeys(("http", "https"), ("http", "aiohttp")),
}
# stores where an object appears only when completely written (no temporary name needed)
OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "memory"})
# Asking object by object costs one request each; listing costs one request per 1,000 keys.
CREATE_SETTLE = 0.2  # seconds between writing a lock file and reading it back, without create-only
EXISTS_MAX = 64  # up to this many objects, always ask object by object
_KEY = re.compile(r".*/([0-9a-f]{2})/([0-9a-f]{30})")  # an object's or a run-cache entry's path


def is_async(protocol: str) -> bool:
    """Whether ``protocol``'s filesystem is async (False when its package is missing: the remote
    names the package when it is first used)."""
    try:
        return bool(fsspec.get_filesystem_class(protocol).async_impl)
    except (ImportError, ValueError):
        return False


class FsspecBase(Remote):
    """What the sync and the async fsspec remotes share."""

    @functools.cached_property
    def fs(self) -> Any:
        return self._open_fs()

    def _fs_options(self) -> dict[str, str]:
        return {k: v for k, v in self.options.items() if k not in COMMON_OPTIONS}

    def _open_fs(self) -> Any:
        try:
            cls = fsspec.get_filesystem_class(self.protocol)
            return cls(**self._timeout_options(), **self._fs_options())
        except ImportError:
            if extra := EXTRAS.get(self.protocol):
                raise RemoteError(
                    f"{self.label} needs the {extra[1]} package: pip install 'dvlite[{extra[0]}]'"
                ) from None
            raise RemoteError(
                f"{self.label}: the fsspec package for {self.protocol}:// is not installed"
            ) from None
        except ValueError:
            raise RemoteError(f"{self.label}: unknown storage type {self.protocol}://") from None
        except TypeError as exc:
            raise RemoteError(f"{self.label}: bad option for {self.protocol}://: {exc}") from None

    def _timeout_options(self) -> dict[str, Any]:
        """``remote.NAME.timeout`` for http(s) (aiohttp's socket timeouts) and sftp (paramiko's
        connect timeout); other filesystems keep their own, within ``retry.DEADLINE``."""
        if self.protocol in ("http", "https"):
            import aiohttp

            timeout = aiohttp.ClientTimeout(sock_connect=self.timeout, sock_read=self.timeout)
            return {"client_kwargs": {"timeout": timeout}}
        if self.protocol in ("sftp", "ssh"):
            return {"timeout": self.timeout}
        return {}

    def _once(self, op: Callable[[str], Any], path: str) -> Any:
        """One request through the sync API (async filesystems have one too), retried."""
        return Remote._map(self, op, [path])[0]

    def check_reachable(self) -> None:
        buckets = self.protocol in ("s3", "s3a", "gs", "gcs")
        root = self.root.split("/", 1)[0] if buckets else self.root
        if self._once(self.fs.exists, root) is not True:
            what = "bucket" if buckets else "location"
            raise RemoteError(
                f"{self.label}: {what} {root!r} does not exist; create it or fix the url"
            )

    def list_tmp(self) -> list[tuple[str, float]]:
        if self.protocol in OBJECT_STORES:
            return []  # written in place: an object appears only once complete
        listed = self._once(lambda root: self.fs.find(root, detail=True), self.root)
        times = times_of({} if isinstance(listed, FileNotFoundError) else listed)
        return sorted(
            (path, mtime or 0.0)
            for path, (mtime, _) in times.items()
            if fsutil.is_tmp_name(path.rsplit("/", 1)[-1])
        )

    @abstractmethod
    def _exists_one(self, oid: str) -> Maybe[bool]: ...

    def _loose_exists(self, oids: Collection[str]) -> set[str]:
        """Which of ``oids`` the remote holds: object by object when they are few, by listing
        the store (estimated from one prefix) when that costs fewer requests."""
        oids = list(dict.fromkeys(oids))
        if not oids:
            return set()
        if len(oids) <= EXISTS_MAX:
            return self._exists_each(oids)
        prefixes = sorted({hashing.hex_of(o)[:2] for o in oids})
        folders = [f"{self.root}/objects/{p}" for p in prefixes]
        first = self._oids_in(folders[:1])
        estimate = max(len(first), 1) * 256  # objects in the whole store
        if estimate // 1000 + 1 < len(oids) and estimate // 1000 + 1 < len(folders):
            listed = self._loose_oids()
        elif len(folders) < len(oids):
            listed = first | self._oids_in(folders[1:])
        else:
            return self._exists_each(oids)
        return {o for o in oids if o in listed}

    def _exists_each(self, oids: list[str]) -> set[str]:
        found = self._map(self._exists_one, oids)
        return {o for o, r in zip(oids, found, strict=True) if r is True}

    def _loose_oids(self) -> set[str]:
        return self._oids_in([f"{self.root}/objects"])

    def list_runs(self) -> set[str]:
        return self._keys_in([f"{self.root}/runs"])

    def _oids_in(self, folders: Sequence[str]) -> set[str]:
        return {hashing.PREFIX + key for key in self._keys_in(folders)}

    def _keys_in(self, folders: Sequence[str]) -> set[str]:
        """The keys ``<2 hex><30 hex>`` of the files ``<2 hex>/<30 hex>`` below ``folders``, one
        listing each (not a killed push's temporary files, which may be 30 characters long)."""
        keys: set[str] = set()
        for listed in self._map(self._find, folders):
            if isinstance(listed, list):  # not a FileNotFoundError (no such bucket)
                keys |= {m[1] + m[2] for path in listed if (m := _KEY.fullmatch(path))}
        return keys


class FsspecRemote(FsspecBase):
    def _exists_one(self, oid: str) -> bool:
        try:
            self.fs.info(self.path(oid))
        except FileNotFoundError:
            return False
        return True

    def _find(self, path: str) -> list[str]:
        try:
            return list(self.fs.find(path))
        except FileNotFoundError:
            return []

    def _put(self, cache: Cache, obj: Obj, progress: Advance | None) -> None:
        src = cache.path(obj.oid)
        if not os.path.exists(src):  # packed in the cache (small), or missing there
            self._write(self.path(obj.oid), cache.read_bytes(obj.oid))
            if progress:
                progress(1, max(obj.size, 0))
            return
        check(obj.oid, hashing.hash_file(src)[0], src)
        with FileBytes(progress) as sent:  # its bytes as they are sent
            callback = progress_callback(sent.on_bytes)
            self._store(self.path(obj.oid), lambda to: self.fs.put_file(src, to, callback=callback))
            sent.finish(os.path.getsize(src))

    def _get(self, cache: Cache, obj: Obj, progress: Advance | None) -> None:
        with FileBytes(progress) as received, new_tmp(cache) as tmp:  # bytes as they arrive
            self.fs.get_file(self.path(obj.oid), tmp, callback=progress_callback(received.on_bytes))
            size = os.path.getsize(tmp)
            cache.add_verified(tmp, obj.oid, self.url_of(obj.oid))
            received.finish(size)

    def _hash(self, oid: str, progress: Advance | None) -> str:
        h = hashing.hasher()
        size = 0
        with FileBytes(progress) as read, self.fs.open(self.path(oid), "rb") as f:
            while chunk := f.read(hashing.CHUNK):
                h.update(chunk)
                size += len(chunk)
                if read.on_bytes:
                    read.on_bytes(len(chunk))
            read.finish(size)
        return hashing.oid_from_hasher(h)

    def _cat_verified(self, oid: str) -> bytes:
        return verified(self.fs.cat_file(self.path(oid)), oid, self.url_of(oid))

    def _rm(self, path: str) -> None:
        self.fs.rm_file(path)

    def _read(self, path: str) -> bytes:
        return self.fs.cat_file(path)

    def _write(self, path: str, data: bytes) -> None:
        self._store(path, lambda to: self.fs.pipe_file(to, data))

    def _write_new(self, path: str, data: bytes) -> None:
        if not self.fs.exists(path):
            self._write(path, data)

    def _range(self, path: str, start: int, end: int | None, then: Callable[[bytes], T]) -> T:
        return then(self.fs.cat_file(path, start=start, end=end))

    def _find_times(self, path: str) -> dict[str, tuple[float | None, int]]:
        try:
            return times_of(self.fs.find(path, detail=True))
        except FileNotFoundError:
            return {}

    def _create(self, path: str, data: bytes) -> bool:
        # no create-only write here: look, write, then read back after a moment to see that
        # another writer's file did not land over this one
        if self.fs.exists(path):
            return False
        self._write(path, data)
        time.sleep(CREATE_SETTLE)
        return bytes(self.fs.cat_file(path)) == data

    def _store(self, dest: str, send: Callable[[str], None]) -> None:
        """Write ``dest`` with ``send``: directly on object stores (where an object appears only
        when complete), else under a temporary name, then renamed."""
        try:
            if self.protocol in OBJECT_STORES:
                send(dest)
                return
            self.fs.makedirs(os.path.dirname(dest), exist_ok=True)
            tmp = fsutil.tmp_name(dest)
            send(tmp)
            self.fs.mv(tmp, dest)
        except FileNotFoundError as exc:  # the remote's (no bucket, no folder), not an object's
            raise self.translate(exc) from None


def times_of(listed: dict[str, dict[str, Any]]) -> dict[str, tuple[float | None, int]]:
    """Each path of an fsspec ``find(detail=True)`` -> its modification time (seconds since
    the epoch, None when the filesystem does not say) and size."""
    found: dict[str, tuple[float | None, int]] = {}
    for path, info in listed.items():
        mtime: Any = info.get("mtime") or info.get("LastModified") or info.get("created")
        when = mtime.timestamp() if hasattr(mtime, "timestamp") else mtime
        found[path] = (None if when is None else float(when), int(info.get("size") or 0))
    return found


@contextlib.contextmanager
def new_tmp(cache: Cache) -> Iterator[str]:
    """A temporary file in the cache to download into, removed if the download fails."""
    tmp = cache.new_tmp()
    try:
        yield tmp
    except BaseException:
        fsutil.discard(tmp)
        raise


class _Forward(Callback):
    def __init__(self, on_bytes: OnBytes) -> None:
        super().__init__()
        self.on_bytes = on_bytes
        self.sent = 0

    def call(self, *args: Any, **kwargs: Any) -> None:
        delta = self.value - self.sent
        if delta:
            self.sent = self.value
            self.on_bytes(delta)


def progress_callback(on_bytes: OnBytes | None) -> Callback:
    """fsspec's callback for one file's transfer, telling ``on_bytes`` of each increment."""
    return DEFAULT_CALLBACK if on_bytes is None else _Forward(on_bytes)
