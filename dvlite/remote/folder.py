"""The folder remote, the embedded default: a local or mounted path with the cache's layout.

Objects are copied natively (a reflink when the filesystem can), hashed on the way, and
written under a temporary name, then renamed, so an object appears only when it is complete.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from dvlite.errors import CorruptObjectError, RemoteError
from dvlite.objects import fsutil
from dvlite.objects.hashing import PREFIX, hash_file
from dvlite.progress import Advance, FileBytes
from dvlite.remote.base import Obj, Remote, verified

if TYPE_CHECKING:
    from dvlite.objects.cache import Cache


class FolderRemote(Remote):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._no_reflink = False  # reflink failed once: copy from then on
        self._made: set[str] = set()  # object folders known to exist

    def check_reachable(self) -> None:
        if not os.path.isdir(self.root):
            raise RemoteError(
                f"{self.label}: folder {self.root} does not exist; create it or fix the url"
            )

    # -- asking what is there -------------------------------------------------------------
    def exists(self, oids: Collection[str]) -> set[str]:
        return {o for o in dict.fromkeys(oids) if os.path.exists(self.path(o))}

    def list_oids(self) -> set[str]:
        return self._list_prefixes(None)

    def list_runs(self) -> set[str]:
        return _keys_under(os.path.join(self.root, "runs"), None)

    def _list_prefixes(self, prefixes: Sequence[str] | None) -> set[str]:
        return {PREFIX + key for key in _keys_under(os.path.join(self.root, "objects"), prefixes)}

    def list_tmp(self) -> list[tuple[str, float]]:
        found = []
        for folder, _, names in os.walk(self.root):
            for name in names:
                if fsutil.TMP_MARK in name and fsutil.is_tmp_name(name):
                    path = os.path.join(folder, name)
                    with contextlib.suppress(FileNotFoundError):  # renamed meanwhile
                        found.append((path, os.lstat(path).st_mtime))
        return sorted(found)

    # -- one object -----------------------------------------------------------------------
    def _put(self, cache: Cache, obj: Obj, progress: Advance | None) -> None:
        from dvlite.objects.copying import copy_hashing

        src = cache.path(obj.oid)
        dest = self.path(obj.oid)
        if os.path.exists(dest):
            return
        parent = os.path.dirname(dest)
        if parent not in self._made:
            os.makedirs(parent, exist_ok=True)
            self._made.add(parent)
        tmp = fsutil.tmp_name(dest)
        with FileBytes(progress) as moved:  # a big object's bytes as they are copied
            try:
                # a failed reflink costs a file created and removed: try it once per remote
                if not self._no_reflink and fsutil.reflink(src, tmp):
                    actual = hash_file(tmp, moved.on_bytes)[0]
                    os.chmod(tmp, 0o444)
                else:
                    self._no_reflink = True
                    actual = copy_hashing(src, tmp, mode=0o444, on_bytes=moved.on_bytes)
                if actual != obj.oid:
                    raise CorruptObjectError(obj.oid, src, actual)
                os.replace(tmp, dest)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            moved.finish(max(obj.size, 0))

    def _get(self, cache: Cache, obj: Obj, progress: Advance | None) -> None:
        with FileBytes(progress) as moved:  # a big object's bytes as they are copied
            where = self.url_of(obj.oid)
            moved.finish(cache.import_file(self.path(obj.oid), obj.oid, where, moved.on_bytes))

    def _cat_verified(self, oid: str) -> bytes:
        with open(self.path(oid), "rb") as f:
            return verified(f.read(), oid, self.url_of(oid))

    def _hash(self, oid: str, progress: Advance | None) -> str:
        with FileBytes(progress) as read:
            actual, size = hash_file(self.path(oid), read.on_bytes)
            read.finish(size)
        return actual

    def _list_names(self, path: str) -> list[str]:
        try:
            return os.listdir(path)
        except FileNotFoundError:
            return []

    def _rm(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            fsutil.remove(path)

    def _read(self, path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    def _write(self, path: str, data: bytes) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fsutil.atomic_write(path, data, fsync=False)


def _keys_under(base: str, prefixes: Sequence[str] | None) -> set[str]:
    """The names ``<2 hex><30 hex>`` of the files two levels below ``base`` (``prefixes``:
    only those first levels), leaving out temporary files."""
    if prefixes is None:
        try:
            prefixes = [p for p in os.listdir(base) if len(p) == 2]
        except FileNotFoundError:
            return set()
    found = set()
    for prefix in prefixes:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            for name in os.listdir(os.path.join(base, prefix)):
                if len(name) == 30 and fsutil.TMP_MARK not in name:
                    found.add(prefix + name)
    return found
