"""The content-addressed object store: ``objects/<2 hex>/<30 hex>``, read-only files.

Every object is written to a temporary name, checked against its id, and renamed into
place, so no object ever sits under its final name incomplete or wrong.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from dvlite.errors import CacheError, CorruptObjectError
from dvlite.objects import fsutil
from dvlite.objects.copying import OBJECT_MODE, copy_hashing, read_small, write_new
from dvlite.objects.hashing import (
    PREFIX,
    SMALL_FILE,
    hash_file,
    hex_of,
    oid_of_bytes,
)
from dvlite.objects.tree import Tree
from dvlite.progress import OnBytes

LINK_TYPES = ("reflink", "copy", "hardlink", "symlink")
_LIST_MIN = 8  # look up this many oids under one prefix folder by listing it


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

    def existing(self, oids: Iterable[str]) -> set[str]:
        """The subset of ``oids`` the cache holds: one listing per folder that many of them
        share, a stat for the rest (20k stats cost three times what 256 listings do)."""
        at = len(PREFIX)
        by_prefix: dict[str, list[str]] = {}
        for oid in oids:
            by_prefix.setdefault(oid[at : at + 2], []).append(oid)
        present: set[str] = set()
        for prefix, group in by_prefix.items():
            if len(group) < _LIST_MIN:
                present.update(oid for oid in group if self.exists(oid))
                continue
            try:
                names = set(os.listdir(os.path.join(self.objects_dir, prefix)))
            except (FileNotFoundError, NotADirectoryError):
                continue
            present.update(oid for oid in group if oid[at + 2 :] in names)
        return present

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

    def quarantine(self, oid: str) -> None:
        """Move a corrupt object aside (to ``corrupt/``, kept for a look), so that the next
        fetch or pull gets a good copy: it no longer counts as in the cache."""
        src = self.path(oid)
        aside = os.path.join(self.root, "corrupt")
        with contextlib.suppress(FileNotFoundError):
            os.makedirs(aside, exist_ok=True)
            os.replace(src, os.path.join(aside, hex_of(oid)))
        self._trees.pop(oid, None)

    def _corrupt(self, oid: str, actual: str) -> CorruptObjectError:
        """The error for an object found damaged in the cache, moved aside first."""
        where = self.path(oid)
        self.quarantine(oid)
        return CorruptObjectError(oid, where, actual)

    def _tmp(self) -> str:
        if self.tmp_dir not in self._made:
            os.makedirs(self.tmp_dir, exist_ok=True)
            self._made.add(self.tmp_dir)
        return fsutil.tmp_name(os.path.join(self.tmp_dir, "obj"))

    def _commit(self, tmp: str, oid: str) -> None:
        """Move a verified temporary file to its final name (or drop it if already there)."""
        dest = self.path(oid)
        if os.path.exists(dest):
            os.unlink(tmp)
            return
        self._place(tmp, dest)

    def _place(self, tmp: str, dest: str) -> None:
        parent = os.path.dirname(dest)
        if parent not in self._made:
            os.makedirs(parent, exist_ok=True)
            self._made.add(parent)
        os.replace(tmp, dest)

    # -- writing ------------------------------------------------------------------
    def add_bytes(self, data: bytes, oid: str | None = None) -> str:
        oid = oid or oid_of_bytes(data)
        dest = self.path(oid)
        if not os.path.exists(dest):
            tmp = self._tmp()
            try:
                write_new(tmp, data)
                self._place(tmp, dest)
            except BaseException:
                _discard(tmp)
                raise
        return oid

    def add_file(self, src: str, size: int, on_bytes: OnBytes | None = None) -> str:
        """Store a workspace file, hashing it in the same read; returns its oid.
        ``on_bytes`` is told of the bytes of a big file as they are read."""
        if size <= SMALL_FILE:
            return self.add_bytes(read_small(src, size))
        tmp = self._tmp()
        try:
            oid = self._clone_or_copy(src, tmp, on_bytes)
            self._commit(tmp, oid)
        except BaseException:
            _discard(tmp)
            raise
        return oid

    def _clone_or_copy(self, src: str, tmp: str, on_bytes: OnBytes | None = None) -> str:
        """Reflink ``src`` to the new file ``tmp`` where the filesystem can, else copy it;
        returns the oid of what ``tmp`` holds (hashed in the copy's read: what we keep is
        what we hash)."""
        if "reflink" in self.link_types and not self._no_reflink and fsutil.reflink(src, tmp):
            oid = _hash_oid(tmp, on_bytes)
        else:
            self._no_reflink = True
            oid = copy_hashing(src, tmp, on_bytes=on_bytes)
        os.chmod(tmp, OBJECT_MODE)
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

    def import_file(self, src: str, oid: str, where: str, on_bytes: OnBytes | None = None) -> int:
        """Copy (or reflink) ``src`` into the cache as ``oid``, verifying it in the same read;
        returns its size. A mismatch stores nothing and raises CorruptObjectError."""
        tmp = self._tmp()
        try:
            actual = self._clone_or_copy(src, tmp, on_bytes)
            if actual != oid:
                raise CorruptObjectError(oid, where, actual)
            size = os.path.getsize(tmp)
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
            raise self._corrupt(oid, actual)
        return data

    def load_tree(self, oid: str) -> Tree:
        tree = self._trees.get(oid)
        if tree is None:
            tree = Tree.from_bytes(self.read_bytes(oid), oid)
            self._trees[oid] = tree
        return tree

    def verify(self, oid: str, on_bytes: OnBytes | None = None) -> str | None:
        """The oid the object's bytes really hash to (None if it is missing)."""
        try:
            return _hash_oid(self.path(oid), on_bytes)
        except FileNotFoundError:
            return None

    # -- materialising ------------------------------------------------------------------
    def install(
        self,
        oid: str,
        dest: str,
        *,
        executable: bool = False,
        size: int | None = None,
        on_bytes: OnBytes | None = None,
    ) -> str:
        """Write the object to ``dest`` with the first link type that works; returns it.

        The object's bytes are verified on the way: a corrupt object raises
        CorruptObjectError and leaves ``dest`` untouched. ``size``, when known, lets a small
        object that is copied anyway be read, verified and written in one go. ``on_bytes``
        is told of the bytes of a big object as they are read.
        """
        src = self.path(oid)
        if size is not None and size <= SMALL_FILE and self._copies():
            installed = self._install_small(oid, src, dest, size, executable)
            if installed:
                return installed
        if not os.path.exists(src):
            raise CacheError(f"object {oid} is not in the cache")
        links = self.link_types
        if executable:  # a link would share the object's read-only, non-executable mode
            links = tuple(t for t in links if t not in ("hardlink", "symlink")) or ("copy",)
        tmp = fsutil.tmp_name(dest)
        verified = False
        try:
            for link in links:
                if link == "copy":
                    mode = 0o777 if executable else 0o666
                    actual = copy_hashing(src, tmp, mode=mode, on_bytes=on_bytes)
                    if actual != oid:
                        raise self._corrupt(oid, actual)
                    break
                if link == "reflink":  # the clone is hashed: what we keep is what we hash
                    if self._no_reflink:
                        continue
                    if fsutil.reflink(src, tmp):
                        actual = _hash_oid(tmp, on_bytes)
                        if actual != oid:
                            raise self._corrupt(oid, actual)
                        os.chmod(tmp, 0o755 if executable else 0o644)
                        break
                    self._no_reflink = True
                    continue
                if not verified:  # a link shares the object: it is hashed once, first
                    actual = _hash_oid(src, on_bytes)
                    if actual != oid:
                        raise self._corrupt(oid, actual)
                    verified = True
                if link == "hardlink":
                    try:
                        os.link(src, tmp)
                        break
                    except OSError:
                        continue
                elif link == "symlink":
                    os.symlink(src, tmp)
                    break
            else:
                raise CacheError(
                    f"none of the link types {','.join(links)} works for {dest}; "
                    "add copy to them (`dvlite config cache.type reflink,copy`)"
                )
            if os.path.isdir(dest) and not os.path.islink(dest):
                raise CacheError(f"{dest} is a directory")
            os.replace(tmp, dest)
        except BaseException:
            _discard(tmp)
            raise
        return link

    def _copies(self) -> bool:
        """Whether install makes copies (the first usable link type is copy)."""
        for link in self.link_types:
            if link == "reflink" and self._no_reflink:
                continue
            return link == "copy"
        return False

    def _install_small(self, oid: str, src: str, dest: str, size: int, executable: bool) -> str:
        """Install a small object in one read; "" when the object is not ``size`` bytes long
        (a record that lies about the size): then it is streamed like any big object."""
        try:
            fd = os.open(src, os.O_RDONLY)  # not open(): a file object costs ~10 µs a file
        except FileNotFoundError:
            raise CacheError(f"object {oid} is not in the cache") from None
        try:
            data = os.read(fd, size + 1)
        finally:
            os.close(fd)
        if len(data) != size:
            return ""
        actual = oid_of_bytes(data)
        if actual != oid:
            raise self._corrupt(oid, actual)
        tmp = fsutil.tmp_name(dest)
        try:
            write_new(tmp, data, 0o777 if executable else 0o666)
            try:
                os.replace(tmp, dest)
            except IsADirectoryError:
                raise CacheError(f"{dest} is a directory") from None
        except BaseException:
            _discard(tmp)
            raise
        return "copy"


def _discard(path: str) -> None:
    with contextlib.suppress(OSError):
        os.chmod(path, stat.S_IWUSR | stat.S_IRUSR)
        os.unlink(path)


def _hash_oid(path: str, on_bytes: OnBytes | None = None) -> str:
    return hash_file(path, on_bytes)[0]
