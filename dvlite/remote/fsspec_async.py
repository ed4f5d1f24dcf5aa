"""Remotes on an async fsspec filesystem (s3fs, gcsfs, adlfs, http): a batch runs as concurrent
coroutines on fsspec's event loop, sending many requests at once. Small objects travel as
bytes, big ones as files."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import fsspec.asyn

from dvlite.objects import fsutil
from dvlite.objects.hashing import CHUNK, hash_file, hasher, oid_from_hasher
from dvlite.objects.store import check, verified
from dvlite.progress import Advance, FileBytes
from dvlite.remote.fsspec_remote import (
    CREATE_SETTLE,
    OBJECT_STORES,
    FsspecBase,
    new_tmp,
    progress_callback,
    times_of,
)
from dvlite.remote.packed import Obj
from dvlite.remote.retry import Retry

if TYPE_CHECKING:
    from dvlite.objects.cache import Cache

T = TypeVar("T")
IN_MEMORY_MAX = 16 << 20  # objects up to this size are sent and received as bytes


class AsyncFsspecRemote(FsspecBase):
    # what makes an object's write create-only, where the filesystem can (S3: If-None-Match)
    CREATE: ClassVar[dict[str, str]] = {}

    def _map(
        self, op: Callable[[Any], Awaitable[Any]], items: Sequence[Any], jobs: int | None = None
    ) -> list[Any]:
        if not items:
            return []
        batch = Retry(self.translate, jobs or self.jobs)
        return list(fsspec.asyn.sync(self.fs.loop, batch.gather, op, items))

    async def _exists_one(self, oid: str) -> bool:
        try:
            await self.fs._info(self.path(oid))
        except FileNotFoundError:
            return False
        return True

    async def _find(self, path: str) -> list[str]:
        try:
            return list(await self.fs._find(path))
        except FileNotFoundError:
            return []

    async def _cat(self, path: str, start: int | None = None, end: int | None = None) -> bytes:
        return await self.fs._cat_file(path, start=start, end=end)

    async def _put(self, cache: Cache, obj: Obj, progress: Advance | None) -> None:
        src, dest = cache.path(obj.oid), self.path(obj.oid)
        size = cache.size(obj.oid)  # a packed object is small: read as bytes below
        with FileBytes(progress) as sent:  # a big object's bytes as they are sent
            if size <= IN_MEMORY_MAX:  # a file of a chunk is quicker to read here than in a thread
                read = cache.read_bytes
                data = await asyncio.to_thread(read, obj.oid) if size > CHUNK else read(obj.oid)
                await self._store(dest, lambda to: self.fs._pipe_file(to, data, **self.CREATE))
            else:
                check(obj.oid, (await asyncio.to_thread(hash_file, src))[0], src)
                callback = progress_callback(sent.on_bytes)
                put = self.fs._put_file
                await self._store(dest, lambda to: put(src, to, callback=callback, **self.CREATE))
            sent.finish(size)

    async def _get(self, cache: Cache, obj: Obj, progress: Advance | None) -> None:
        path, where = self.path(obj.oid), self.url_of(obj.oid)
        if 0 < obj.size <= IN_MEMORY_MAX:
            # no more than the record claims is read into memory: a record may lie about the size
            data = await self._cat(path, 0, obj.size + 1)
            if len(data) == obj.size:
                cache.add_verified_bytes(data, obj.oid, where)
                if progress:
                    progress(1, len(data))
                return
        with FileBytes(progress) as received, new_tmp(cache) as tmp:  # bytes as they arrive
            await self.fs._get_file(path, tmp, callback=progress_callback(received.on_bytes))
            size = os.path.getsize(tmp)
            await asyncio.to_thread(cache.add_verified, tmp, obj.oid, where)
            received.finish(size)

    async def _hash(self, oid: str, progress: Advance | None) -> str:
        path = self.path(oid)
        total = int((await self.fs._info(path)).get("size") or 0)
        parts: list[tuple[int | None, int | None]] = [(None, None)]  # in one read
        if total > IN_MEMORY_MAX:  # or IN_MEMORY_MAX bytes at a time
            parts = [(s, min(s + IN_MEMORY_MAX, total)) for s in range(0, total, IN_MEMORY_MAX)]
        h, size = hasher(), 0
        with FileBytes(progress) as read:  # a big object's bytes as they are read
            for start, end in parts:
                data = await self._cat(path, start, end)
                h.update(data)
                size += len(data)
                if read.on_bytes:
                    read.on_bytes(len(data))
            read.finish(size)
        return oid_from_hasher(h)

    async def _cat_verified(self, oid: str) -> bytes:
        return verified(await self._cat(self.path(oid)), oid, self.url_of(oid))

    async def _rm(self, path: str) -> None:
        await self.fs._rm_file(path)

    async def _read(self, path: str) -> bytes:
        return await self._cat(path)

    async def _write(self, path: str, data: bytes) -> None:
        await self._store(path, lambda to: self.fs._pipe_file(to, data))

    async def _write_new(self, path: str, data: bytes) -> None:
        if not await self.fs._exists(path):
            await self._write(path, data)

    async def _range(self, path: str, start: int, end: int | None, then: Callable[[bytes], T]) -> T:
        data = await self._cat(path, start, end)
        return await asyncio.to_thread(then, data)

    async def _find_times(self, path: str) -> dict[str, tuple[float | None, int]]:
        try:
            return times_of(await self.fs._find(path, detail=True))
        except FileNotFoundError:
            return {}

    async def _create(self, path: str, data: bytes) -> bool:
        # as FsspecRemote._create: look, write, read back after a moment
        if await self.fs._exists(path):
            return False
        await self._write(path, data)
        await asyncio.sleep(CREATE_SETTLE)
        return bytes(await self._cat(path)) == data

    async def _store(self, dest: str, send: Callable[[str], Awaitable[None]]) -> None:
        """Write ``dest`` with ``send``: directly on object stores (where an object appears only
        when complete), else under a temporary name, then renamed."""
        try:
            if self.protocol in OBJECT_STORES:
                with contextlib.suppress(FileExistsError):  # a create-only write found it there
                    await send(dest)
                return
            await self.fs._makedirs(os.path.dirname(dest), exist_ok=True)
            tmp = fsutil.tmp_name(dest)
            await send(tmp)
            await self.fs._mv(tmp, dest)
        except FileNotFoundError as exc:  # the remote's (no bucket, no folder), not an object's
            raise self.translate(exc) from None
