"""The folder remote, the embedded default: a local or mounted path with the cache's layout,
its objects an ``ObjectStore`` (copied natively, reflinked where the filesystem can, hashed on
the way and renamed into place once complete), beside them ``runs/`` and ``gc/``."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, TypeVar

from dvlite.errors import RemoteError
from dvlite.objects import fsutil
from dvlite.objects.copying import OBJECT_MODE
from dvlite.objects.hashing import SMALL_FILE, hash_file
from dvlite.objects.store import ObjectStore, fanout_keys
from dvlite.progress import Advance, FileBytes
from dvlite.remote.base import Remote
from dvlite.remote.packed import Obj

if TYPE_CHECKING:
    from dvlite.objects.cache import Cache

T = TypeVar("T")


class FolderRemote(Remote):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store = ObjectStore(self.root)  # temporary files beside their object

    def check_reachable(self) -> None:
        if not os.path.isdir(self.root):
            raise RemoteError(
                f"{self.label}: folder {self.root} does not exist; create it or fix the url"
            )

    def _loose_exists(self, oids: Collection[str]) -> set[str]:
        return self.store.existing(oids)

    def _loose_oids(self) -> set[str]:
        return set(self.store.iter_oids())

    def list_runs(self) -> set[str]:
        return set(fanout_keys(os.path.join(self.root, "runs")))

    def list_tmp(self) -> list[tuple[str, float]]:
        found = []
        for folder, _, names in os.walk(self.root):
            for name in filter(fsutil.is_tmp_name, names):
                path = os.path.join(folder, name)
                with contextlib.suppress(FileNotFoundError):  # renamed meanwhile
                    found.append((path, os.lstat(path).st_mtime))
        return sorted(found)

    def _find(self, path: str) -> list[str]:
        return [os.path.join(folder, n) for folder, _, names in os.walk(path) for n in names]

    def _put(self, cache: Cache, obj: Obj, progress: Advance | None) -> None:
        if self.store.exists(obj.oid):
            return
        src = cache.path(obj.oid)
        with FileBytes(progress) as moved:  # a big object's bytes as they are copied
            if os.path.exists(src):
                self.store.import_file(src, obj.oid, where=src, on_bytes=moved.on_bytes)
            else:  # packed in the cache (small), or missing there
                self.store.add_bytes(cache.read_bytes(obj.oid), obj.oid)
            moved.finish(max(obj.size, 0))

    def _get(self, cache: Cache, obj: Obj, progress: Advance | None) -> None:
        src, where = self.store.path(obj.oid), self.url_of(obj.oid)
        if obj.size <= SMALL_FILE:  # as bytes (a fetch of many packs them in the cache)
            with open(src, "rb") as f:
                data = f.read(SMALL_FILE + 1)
            if len(data) <= SMALL_FILE:  # else the record lies about its size: copy it
                cache.add_verified_bytes(data, obj.oid, where)
                if progress:
                    progress(1, len(data))
                return
        with FileBytes(progress) as moved:
            moved.finish(cache.import_file(src, obj.oid, where=where, on_bytes=moved.on_bytes)[1])

    def _hash(self, oid: str, progress: Advance | None) -> str:
        with FileBytes(progress) as read:
            actual, size = hash_file(self.store.path(oid), read.on_bytes)
            read.finish(size)
        return actual

    def _cat_verified(self, oid: str) -> bytes:
        return self.store.read_bytes(oid, self.url_of(oid))

    def _rm(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            fsutil.remove(path)

    def _read(self, path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    def _write(self, path: str, data: bytes) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fsutil.atomic_write(path, data, fsync=False)

    def _write_new(self, path: str, data: bytes) -> None:
        if os.path.exists(path):
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = fsutil.tmp_name(path)
        try:
            fsutil.write_new(tmp, data, OBJECT_MODE, fsync=True)
            try:
                os.link(tmp, path)  # never replaces: another writer's file stays as it is
            except FileExistsError:
                pass
            except OSError:  # a filesystem without hard links: the name is the content's hash
                os.replace(tmp, path)
        finally:
            fsutil.discard(tmp)

    def _range(self, path: str, start: int, end: int | None, then: Callable[[bytes], T]) -> T:
        with open(path, "rb") as f:
            f.seek(max(start + os.fstat(f.fileno()).st_size, 0) if start < 0 else start)
            return then(f.read() if end is None else f.read(end - start))

    # -- maintenance (gc --cloud, remote repack) --------------------------------------------
    def _find_times(self, path: str) -> dict[str, tuple[float | None, int]]:
        found: dict[str, tuple[float | None, int]] = {}
        for folder, _, names in os.walk(path):
            for name in names:
                full = os.path.join(folder, name)
                with contextlib.suppress(FileNotFoundError):  # removed meanwhile
                    st = os.lstat(full)
                    found[full] = (st.st_mtime, st.st_size)
        return found

    def _create(self, path: str, data: bytes) -> bool:
        if not os.path.isdir(self.root):  # a lock makes no remote where there is none
            raise FileNotFoundError(errno.ENOENT, "no such folder", self.root)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = fsutil.tmp_name(path)
        try:
            fsutil.write_new(tmp, data, 0o644, fsync=True)
            try:
                os.link(tmp, path)  # complete when it appears, and never over another's
            except FileExistsError:
                return False
            except OSError:  # a filesystem without hard links: O_EXCL, written in place
                try:
                    fsutil.write_new(path, data, 0o644, fsync=True)
                except FileExistsError:
                    return False
            return True
        finally:
            fsutil.discard(tmp)
