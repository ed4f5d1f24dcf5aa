"""Remotes reached through an fsspec filesystem (gs://, az://, sftp://, memory://, ...).

Async filesystems (s3fs, gcsfs, adlfs) run a batch as concurrent coroutines on fsspec's
event loop, sending many requests at once; the others run in threads. Small objects travel
as bytes, big ones as files.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import os
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from dvlite.errors import CorruptObjectError, RemoteError
from dvlite.objects import fsutil
from dvlite.objects.hashing import CHUNK, PREFIX, hash_file, hasher, hex_of, oid_from_hasher
from dvlite.progress import Advance, FileBytes, OnBytes
from dvlite.remote import errors
from dvlite.remote.base import Obj, Remote, read_verified, verified
from dvlite.remote.config import COMMON_OPTIONS, RemoteConfig

if TYPE_CHECKING:
    from dvlite.objects.cache import Cache

# pip extra that provides each protocol's fsspec package
EXTRAS = {
    "gs": ("gcs", "gcsfs"),
    "gcs": ("gcs", "gcsfs"),
    "az": ("azure", "adlfs"),
    "abfs": ("azure", "adlfs"),
    "abfss": ("azure", "adlfs"),
    "adl": ("azure", "adlfs"),
    "sftp": ("sftp", "paramiko"),
    "ssh": ("sftp", "paramiko"),
    "http": ("http", "aiohttp"),
    "https": ("http", "aiohttp"),
}
# stores where an object appears only when completely written (no temporary name needed)
OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "memory"})
IN_MEMORY_MAX = 16 << 20  # objects up to this size are sent and received as bytes
# Asking object by object costs one request each; listing costs one request per 1,000 keys.
EXISTS_MAX = 64  # up to this many objects, always ask object by object


class FsspecRemote(Remote):
    def __init__(
        self, cfg: RemoteConfig, base: str | os.PathLike[str], *, jobs: int | None = None
    ) -> None:
        super().__init__(cfg, base, jobs=jobs)
        self._fs: Any = None

    # -- the filesystem -------------------------------------------------------------------
    @property
    def fs(self) -> Any:
        if self._fs is None:
            self._fs = self._open_fs()
        return self._fs

    def _fs_options(self) -> dict[str, str]:
        return {k: v for k, v in self.options.items() if k not in COMMON_OPTIONS}

    def _open_fs(self) -> Any:
        try:
            import fsspec
        except ImportError:  # pragma: no cover - fsspec is a dependency
            raise RemoteError("fsspec is not installed: pip install fsspec") from None
        extra = EXTRAS.get(self.protocol)
        try:
            cls = fsspec.get_filesystem_class(self.protocol)
            return cls(**self._timeout_options(), **self._fs_options())
        except ImportError:
            if extra:
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
        """``remote.NAME.timeout`` for the filesystems that take one cheaply: aiohttp's
        socket timeouts for http(s), paramiko's connect timeout for sftp. Other filesystems
        keep their own; the retry deadline (``errors.DEADLINE``) applies to every kind."""
        if self.protocol in ("http", "https"):
            import aiohttp

            timeout = aiohttp.ClientTimeout(sock_connect=self.timeout, sock_read=self.timeout)
            return {"client_kwargs": {"timeout": timeout}}
        if self.protocol in ("sftp", "ssh"):
            return {"timeout": self.timeout}
        return {}

    @property
    def _async(self) -> bool:
        return bool(getattr(self.fs, "async_impl", False))

    # -- running batches ------------------------------------------------------------------
    def _map(self, op: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        if not items or not self._async:
            return super()._map(op, items)
        import fsspec.asyn

        return list(fsspec.asyn.sync(self.fs.loop, self._map_async, op, items))

    async def _map_async(self, op: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        gate = asyncio.Semaphore(self.jobs)
        failure: list[BaseException] = []

        async def run(item: Any) -> Any:
            async with gate:
                started = time.monotonic()
                for attempt in itertools.count():
                    if failure:
                        return None
                    try:
                        return await op(item)
                    except (FileNotFoundError, CorruptObjectError) as exc:
                        return exc
                    except Exception as exc:
                        if not self.is_transient(exc):
                            failure.append(self.translate(exc))
                            return None
                        delay = errors.retry_delay(attempt, started)
                        if delay is None:
                            failure.append(self.translate(exc, attempts=attempt + 1))
                            return None
                    await asyncio.sleep(delay)
            return None

        results = await asyncio.gather(*(run(item) for item in items))
        if failure:
            raise failure[0]
        return results

    def check_reachable(self) -> None:
        buckets = self.protocol in ("s3", "s3a", "gs", "gcs")
        root = self.root.split("/", 1)[0] if buckets else self.root
        exists = self.fs._exists if self._async else self.fs.exists
        if self._map(exists, [root])[0] is not True:
            what = "bucket" if buckets else "location"
            raise RemoteError(
                f"{self.label}: {what} {root!r} does not exist; create it or fix the url"
            )

    # -- asking what is there -------------------------------------------------------------
    def exists(self, oids: Collection[str]) -> set[str]:
        """Which of ``oids`` the remote holds: object by object when they are few, by listing
        the store (estimated from one prefix) when that costs fewer requests."""
        oids = list(dict.fromkeys(oids))
        if not oids:
            return set()
        if len(oids) <= EXISTS_MAX:
            return self._exists_each(oids)
        prefixes = sorted({hex_of(o)[:2] for o in oids})
        first = self._list_prefixes(prefixes[:1])
        estimate = max(len(first), 1) * 256  # objects in the whole store
        if estimate // 1000 + 1 < len(oids) and estimate // 1000 + 1 < len(prefixes):
            listed = self.list_oids()
        elif len(prefixes) < len(oids):
            listed = first | self._list_prefixes(prefixes[1:])
        else:
            return self._exists_each(oids)
        return {o for o in oids if o in listed}

    def _exists_each(self, oids: list[str]) -> set[str]:
        found = self._map(self._exists_one, oids)
        return {o for o, r in zip(oids, found, strict=True) if r is True}

    def _exists_one(self, oid: str) -> Any:
        if self._async:
            return self._ainfo(oid)
        try:
            self.fs.info(self.path(oid))
        except FileNotFoundError:
            return False
        return True

    async def _ainfo(self, oid: str) -> bool:
        try:
            await self.fs._info(self.path(oid))
        except FileNotFoundError:
            return False
        return True

    def list_oids(self) -> set[str]:
        return {PREFIX + key for key in self._keys_under(f"{self.root}/objects")}

    def list_runs(self) -> set[str]:
        return self._keys_under(f"{self.root}/runs")

    def _keys_under(self, base: str) -> set[str]:
        # one listing, retried like every other request
        listed = self._map(self._afind if self._async else self._find, [base])[0]
        return _keys_of(listed if isinstance(listed, list) else [])

    def _list_prefixes(self, prefixes: Sequence[str]) -> set[str]:
        dirs = [f"{self.root}/objects/{p}" for p in prefixes]
        op = self._afind if self._async else self._find
        listed = self._map(op, dirs)
        paths = [p for result in listed if isinstance(result, list) for p in result]
        return {PREFIX + key for key in _keys_of(paths)}

    def _list_names(self, path: str) -> Any:
        async def names() -> list[str]:
            return [p.rsplit("/", 1)[-1] for p in await self._afind(path)]

        if self._async:
            return names()
        return [p.rsplit("/", 1)[-1] for p in self._find(path)]

    def _find(self, path: str) -> list[str]:
        try:
            return list(self.fs.find(path))
        except FileNotFoundError:
            return []

    async def _afind(self, path: str) -> list[str]:
        try:
            return list(await self.fs._find(path))
        except FileNotFoundError:
            return []

    def list_tmp(self) -> list[tuple[str, float]]:
        if self.protocol in OBJECT_STORES:
            return []  # written in place: an object appears only once complete
        found = []
        listed = Remote._map(self, self._find_detail, [self.root])[0]  # in a thread: sync
        for path, info in (listed if isinstance(listed, dict) else {}).items():
            name = path.rsplit("/", 1)[-1]
            if fsutil.TMP_MARK in name and fsutil.is_tmp_name(name):
                mtime = info.get("mtime") or info.get("LastModified") or 0
                when = mtime.timestamp() if hasattr(mtime, "timestamp") else float(mtime)
                found.append((path, when))
        return sorted(found)

    def _find_detail(self, path: str) -> dict[str, Any]:
        try:
            return dict(self.fs.find(path, detail=True))
        except FileNotFoundError:
            return {}

    # -- one object -----------------------------------------------------------------------
    def _put(self, cache: Cache, obj: Obj, progress: Advance | None) -> Any:
        if self._async:
            return self._aput(cache, obj, progress)
        return self._put_sync(cache, obj, progress)

    def _get(self, cache: Cache, obj: Obj, progress: Advance | None) -> Any:
        if self._async:
            return self._aget(cache, obj, progress)
        return self._get_sync(cache, obj, progress)

    def _hash(self, oid: str, progress: Advance | None) -> Any:
        if self._async:
            return self._ahash(oid, progress)
        return self._hash_sync(oid, progress)

    def _rm(self, path: str) -> Any:
        if self._async:
            return self.fs._rm_file(path)
        return self.fs.rm_file(path)

    def _read(self, path: str) -> Any:
        if self._async:
            return self._acat(path)
        return self.fs.cat_file(path)

    def _write(self, path: str, data: bytes) -> Any:
        if self._async:
            return self._astore(path, lambda to: self.fs._pipe_file(to, data))
        self._store(path, lambda to: self.fs.pipe_file(to, data))
        return None

    def _store(self, dest: str, send: Callable[[str], None]) -> None:
        """Write ``dest`` with ``send``: directly on object stores (where an object appears only
        when complete), else under a temporary name, then renamed."""
        with errors.writing_sync():
            if self.protocol in OBJECT_STORES:
                send(dest)
                return
            self.fs.makedirs(os.path.dirname(dest), exist_ok=True)
            tmp = fsutil.tmp_name(dest)
            send(tmp)
            self.fs.mv(tmp, dest)

    async def _astore(self, dest: str, send: Callable[[str], Awaitable[None]]) -> None:
        async with errors.writing():
            if self.protocol in OBJECT_STORES:
                await send(dest)
                return
            tmp = fsutil.tmp_name(dest)
            await send(tmp)
            await self.fs._mv(tmp, dest)

    def _cat_verified(self, oid: str) -> Any:
        async def acat() -> bytes:
            return verified(await self._acat(self.path(oid)), oid, self.url_of(oid))

        if self._async:
            return acat()
        return verified(self.fs.cat_file(self.path(oid)), oid, self.url_of(oid))

    async def _acat(self, path: str, end: int | None = None) -> bytes:
        return await self.fs._cat_file(path, start=None if end is None else 0, end=end)

    # async filesystems: bytes for small objects, files for big ones
    async def _aput(self, cache: Cache, obj: Obj, progress: Advance | None) -> None:
        src = cache.path(obj.oid)
        size = os.path.getsize(src)
        if size <= IN_MEMORY_MAX:
            data = (
                await asyncio.to_thread(read_verified, src, obj.oid)
                if size > CHUNK
                else read_verified(src, obj.oid)
            )
            async with errors.writing():
                await self.fs._pipe_file(self.path(obj.oid), data)
            if progress:
                progress(1, size)
            return
        actual = (await asyncio.to_thread(hash_file, src))[0]
        if actual != obj.oid:
            raise CorruptObjectError(obj.oid, src, actual)
        with FileBytes(progress) as sent:  # its bytes as they are sent
            callback = _callback(sent.on_bytes)
            await self._astore(
                self.path(obj.oid), lambda to: self.fs._put_file(src, to, callback=callback)
            )
            sent.finish(size)

    async def _aget(self, cache: Cache, obj: Obj, progress: Advance | None) -> None:
        where = self.url_of(obj.oid)
        # no more than the record claims is read into memory: a record may lie about the size
        data = (
            await self._acat(self.path(obj.oid), obj.size + 1)
            if 0 < obj.size <= IN_MEMORY_MAX
            else None
        )
        if data is not None and len(data) == obj.size:
            cache.add_verified_bytes(data, obj.oid, where)
            if progress:
                progress(1, len(data))
            return
        tmp = cache.new_tmp()
        with FileBytes(progress) as received:  # its bytes as they arrive
            try:
                await self.fs._get_file(
                    self.path(obj.oid), tmp, callback=_callback(received.on_bytes)
                )
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            size = os.path.getsize(tmp)
            await asyncio.to_thread(cache.add_verified, tmp, obj.oid, where)
            received.finish(size)

    async def _ahash(self, oid: str, progress: Advance | None) -> str:
        h = hasher()
        size = 0
        path = self.path(oid)
        info = await self.fs._info(path)
        total = int(info.get("size") or 0)
        with FileBytes(progress) as read:  # a big object's bytes as they are read
            if total <= IN_MEMORY_MAX:
                data = await self._acat(path)
                h.update(data)
                size = len(data)
            else:
                for start in range(0, total, IN_MEMORY_MAX):
                    data = await self.fs._cat_file(
                        path, start=start, end=min(start + IN_MEMORY_MAX, total)
                    )
                    h.update(data)
                    size += len(data)
                    if read.on_bytes:
                        read.on_bytes(len(data))
            read.finish(size)
        return oid_from_hasher(h)

    # other filesystems (sftp, ...), run in threads
    def _put_sync(self, cache: Cache, obj: Obj, progress: Advance | None) -> None:
        src = cache.path(obj.oid)
        dest = self.path(obj.oid)
        actual = hash_file(src)[0]
        if actual != obj.oid:
            raise CorruptObjectError(obj.oid, src, actual)
        with FileBytes(progress) as sent:  # its bytes as they are sent
            callback = _callback(sent.on_bytes)
            self._store(dest, lambda to: self.fs.put_file(src, to, callback=callback))
            sent.finish(os.path.getsize(src))

    def _get_sync(self, cache: Cache, obj: Obj, progress: Advance | None) -> None:
        tmp = cache.new_tmp()
        with FileBytes(progress) as received:  # its bytes as they arrive
            try:
                self.fs.get_file(self.path(obj.oid), tmp, callback=_callback(received.on_bytes))
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            size = os.path.getsize(tmp)
            cache.add_verified(tmp, obj.oid, self.url_of(obj.oid))
            received.finish(size)

    def _hash_sync(self, oid: str, progress: Advance | None) -> str:
        h = hasher()
        size = 0
        with FileBytes(progress) as read, self.fs.open(self.path(oid), "rb") as f:
            while chunk := f.read(CHUNK):
                h.update(chunk)
                size += len(chunk)
                if read.on_bytes:
                    read.on_bytes(len(chunk))
            read.finish(size)
        return oid_from_hasher(h)


def _callback(on_bytes: OnBytes | None) -> Any:
    """fsspec's callback for one file's transfer, telling ``on_bytes`` of each increment."""
    from fsspec.callbacks import DEFAULT_CALLBACK

    return DEFAULT_CALLBACK if on_bytes is None else _forwarding()(on_bytes)


@functools.cache
def _forwarding() -> type:
    from fsspec.callbacks import Callback  # fsspec is imported only when a remote needs it

    class Forward(Callback):
        def __init__(self, on_bytes: OnBytes) -> None:
            super().__init__()
            self.on_bytes = on_bytes
            self.sent = 0

        def call(self, *args: Any, **kwargs: Any) -> None:
            delta = self.value - self.sent
            if delta:
                self.sent = self.value
                self.on_bytes(delta)

    return Forward


def _keys_of(paths: Iterable[str]) -> set[str]:
    """The names ``<2 hex><30 hex>`` that paths ending ``<2 hex>/<30 hex>`` give, leaving out
    temporary files (a killed push's ``.dvlite-tmp-...`` may be 30 characters long too)."""
    found = set()
    for path in paths:
        parts = path.rsplit("/", 2)
        if (
            len(parts) == 3
            and len(parts[1]) == 2
            and len(parts[2]) == 30
            and fsutil.TMP_MARK not in parts[2]
        ):
            found.add(parts[1] + parts[2])
    return found
