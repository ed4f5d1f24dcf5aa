"""The content-addressed object store: ``objects/<2 hex>/<30 hex>``, read-only files.

Every object is written to a temporary name, checked against its id, and renamed into
place, so no object ever sits under its final name incomplete or wrong.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from dvlite import fsutil
from dvlite.errors import CacheError, CorruptObjectError
from dvlite.hashing import (
    CHUNK,
    PREFIX,
    SMALL_FILE,
    hash_file,
    hasher,
    hex_of,
    oid_from_hasher,
    oid_of_bytes,
)
from dvlite.tree import Tree

LINK_TYPES = ("reflink", "copy", "hardlink", "symlink")
OBJECT_MODE = 0o444


class Cache:
    def __init__(self, root: str | Path, link_types: tuple[str, ...] = ("reflink", "copy")) -> None:
        self.root = Path(root)
        self.objects_dir = os.path.join(self.root, "objects")
        self.tmp_dir = os.path.join(self.root, "tmp")
        self.link_types = link_types
        self._made: set[str] = set()
        self._trees: dict[str, Tree] = {}
        self._no_reflink = False

    # -- layout -----------------------------------------------------------------
    def path(self, oid: str) -> str:
        h = hex_of(oid)
        return f"{self.objects_dir}/{h[:2]}/{h[2:]}"

    def exists(self, oid: str) -> bool:
        return os.path.exists(self.path(oid))

    def iter_oids(self) -> Iterator[str]:
        try:
            prefixes = sorted(os.listdir(self.objects_dir))
        except FileNotFoundError:
            return
        for prefix in prefixes:
            if len(prefix) != 2:
                continue
            with contextlib.suppress(NotADirectoryError):
                for name in sorted(os.listdir(os.path.join(self.objects_dir, prefix))):
                    if len(name) == 30 and fsutil.TMP_MARK not in name:
                        yield PREFIX + prefix + name

    def _tmp(self) -> str:
        if self.tmp_dir not in self._made:
            os.makedirs(self.tmp_dir, exist_ok=True)
            self._made.add(self.tmp_dir)
        return fsutil.tmp_name(os.path.join(self.tmp_dir, "obj"))

    def _commit(self, tmp: str, oid: str) -> None:
        """Move a verified temporary file to its final name (or drop it if already there)."""
        dest = self.path(oid)
        parent = os.path.dirname(dest)
        if parent not in self._made:
            os.makedirs(parent, exist_ok=True)
            self._made.add(parent)
        if os.path.exists(dest):
            os.unlink(tmp)
            return
        os.replace(tmp, dest)

    # -- writing ------------------------------------------------------------------
    def add_bytes(self, data: bytes, oid: str | None = None) -> str:
        oid = oid or oid_of_bytes(data)
        if not self.exists(oid):
            tmp = self._tmp()
            try:
                _write_new(tmp, data)
                self._commit(tmp, oid)
            except BaseException:
                _discard(tmp)
                raise
        return oid

    def add_tree(self, tree: Tree) -> str:
        self._trees[tree.oid] = tree
        return self.add_bytes(tree.to_bytes(), tree.oid)

    def add_file(self, src: str, size: int) -> str:
        """Store a workspace file, hashing it in the same read; returns its oid."""
        if size <= SMALL_FILE:
            with open(src, "rb", buffering=0) as f:
                data = f.read()
            return self.add_bytes(data)
        tmp = self._tmp()
        try:
            if "reflink" in self.link_types and not self._no_reflink and fsutil.reflink(src, tmp):
                oid = _hash_oid(tmp)  # hash the clone: what we hash is what we keep
                os.chmod(tmp, OBJECT_MODE)
            else:
                self._no_reflink = True
                oid = _copy_hashing(src, tmp)
            self._commit(tmp, oid)
        except BaseException:
            _discard(tmp)
            raise
        return oid

    # -- receiving objects from elsewhere (remotes) ---------------------------------------
    def new_tmp(self) -> str:
        """A fresh temporary path inside the cache (same filesystem as the objects)."""
        return self._tmp()

    def add_verified(self, tmp: str, oid: str, where: str) -> None:
        """Install the file at ``tmp`` as ``oid`` after checking that its bytes hash to it.

        A mismatch removes ``tmp`` and raises CorruptObjectError naming ``where``."""
        try:
            actual = _hash_oid(tmp)
            if actual != oid:
                raise CorruptObjectError(oid, where, actual)
            os.chmod(tmp, OBJECT_MODE)
            self._commit(tmp, oid)
        except BaseException:
            _discard(tmp)
            raise

    def add_verified_bytes(self, data: bytes, oid: str, where: str) -> None:
        """Store downloaded bytes as ``oid`` only if they hash to it."""
        actual = oid_of_bytes(data)
        if actual != oid:
            raise CorruptObjectError(oid, where, actual)
        self.add_bytes(data, oid)

    def import_file(self, src: str, oid: str, where: str) -> int:
        """Copy (or reflink) ``src`` into the cache as ``oid``, verifying it in the same read;
        returns its size. A mismatch stores nothing and raises CorruptObjectError."""
        tmp = self._tmp()
        try:
            if not self._no_reflink and fsutil.reflink(src, tmp):
                actual, size = hash_file(tmp)
            else:
                self._no_reflink = True
                actual = _copy_hashing(src, tmp)
                size = os.path.getsize(tmp)
            if actual != oid:
                raise CorruptObjectError(oid, where, actual)
            os.chmod(tmp, OBJECT_MODE)
            self._commit(tmp, oid)
        except BaseException:
            _discard(tmp)
            raise
        return size

    # -- reading ------------------------------------------------------------------
    def read_bytes(self, oid: str) -> bytes:
        path = self.path(oid)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise CacheError(f"object {oid} is not in the cache") from None
        actual = oid_of_bytes(data)
        if actual != oid:
            raise CorruptObjectError(oid, path, actual)
        return data

    def load_tree(self, oid: str) -> Tree:
        tree = self._trees.get(oid)
        if tree is None:
            tree = Tree.from_bytes(self.read_bytes(oid), oid)
            self._trees[oid] = tree
        return tree

    def verify(self, oid: str) -> str | None:
        """The oid the object's bytes really hash to (None if it is missing)."""
        try:
            return _hash_oid(self.path(oid))
        except FileNotFoundError:
            return None

    # -- materialising ------------------------------------------------------------------
    def install(self, oid: str, dest: str, *, executable: bool = False) -> str:
        """Write the object to ``dest`` with the first link type that works; returns it.

        The object's bytes are verified on the way: a corrupt object raises
        CorruptObjectError and leaves ``dest`` untouched.
        """
        src = self.path(oid)
        if not os.path.exists(src):
            raise CacheError(f"object {oid} is not in the cache")
        tmp = fsutil.tmp_name(dest)
        try:
            for link in self.link_types:
                if link == "copy":
                    actual = _copy_hashing(src, tmp, mode=0o777 if executable else 0o666)
                    if actual != oid:
                        raise CorruptObjectError(oid, src, actual)
                    break
                if link == "reflink" and self._no_reflink:
                    continue
                actual = _hash_oid(src)
                if actual != oid:
                    raise CorruptObjectError(oid, src, actual)
                if link == "reflink":
                    if fsutil.reflink(src, tmp):
                        os.chmod(tmp, 0o755 if executable else 0o644)
                        break
                    self._no_reflink = True
                elif link == "hardlink":
                    try:
                        os.link(src, tmp)
                        break
                    except OSError:
                        continue
                elif link == "symlink":
                    os.symlink(src, tmp)
                    break
            else:
                raise CacheError(f"none of the link types {','.join(self.link_types)} works here")
            if os.path.isdir(dest) and not os.path.islink(dest):
                raise CacheError(f"{dest} is a directory")
            os.replace(tmp, dest)
        except BaseException:
            _discard(tmp)
            raise
        return link


def _write_new(path: str, data: bytes, mode: int = OBJECT_MODE) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _copy_hashing(src: str, dst: str, mode: int = OBJECT_MODE) -> str:
    """Copy src to a new file dst and return the oid of what was copied (one read)."""
    h = hasher()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(src, "rb", buffering=0) as fin:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            while n := fin.readinto(buf):
                chunk = view[:n]
                h.update(chunk)
                while chunk:
                    chunk = chunk[os.write(fd, chunk) :]
        finally:
            os.close(fd)
    return oid_from_hasher(h)


def _discard(path: str) -> None:
    with contextlib.suppress(OSError):
        os.chmod(path, stat.S_IWUSR | stat.S_IRUSR)
        os.unlink(path)


def _hash_oid(path: str) -> str:
    return hash_file(path)[0]


copy_hashing = _copy_hashing  # public: remotes copy objects out of the cache the same way
