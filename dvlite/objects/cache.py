"""The repository's object store (``.dvlite/cache``), and ``install``: an object written to the
workspace with the configured link types, verified on the way."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from dvlite.errors import CacheError, CorruptObjectError
from dvlite.objects import fsutil
from dvlite.objects.copying import copy_hashing, read_small
from dvlite.objects.hashing import SMALL_FILE, hash_file, hex_of, oid_of_bytes
from dvlite.objects.store import ObjectStore
from dvlite.objects.tree import Tree
from dvlite.progress import OnBytes

LINK_TYPES = ("reflink", "copy", "hardlink", "symlink")


class Cache(ObjectStore):
    def __init__(self, root: str | Path, link_types: tuple[str, ...] = ("reflink", "copy")) -> None:
        super().__init__(root, os.path.join(root, "tmp"))
        self.link_types = link_types
        self._no_reflink = "reflink" not in link_types
        self._trees: dict[str, Tree] = {}

    def quarantine(self, oid: str) -> None:
        """Move a corrupt object aside to ``corrupt/`` (kept for a look): it no longer counts
        as cached, so the next fetch or pull gets a good copy."""
        aside = os.path.join(self.root, "corrupt")
        with contextlib.suppress(FileNotFoundError):
            os.makedirs(aside, exist_ok=True)
            os.replace(self.path(oid), os.path.join(aside, hex_of(oid)))
        self._trees.pop(oid, None)

    def _check(self, oid: str, actual: str) -> None:
        """An object found damaged in the cache is moved aside, then reported."""
        if actual != oid:
            self.quarantine(oid)
            raise CorruptObjectError(oid, self.path(oid), actual)

    def add_file(self, src: str, size: int, on_bytes: OnBytes | None = None) -> str:
        """Store a workspace file, hashing it in the same read; returns its oid."""
        if size <= SMALL_FILE:
            return self.add_bytes(read_small(src, size))
        return self.import_file(src, on_bytes=on_bytes)[0]

    def load_tree(self, oid: str) -> Tree:
        tree = self._trees.get(oid)
        if tree is None:
            try:
                with open(self.path(oid), "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                raise _missing(oid) from None
            self._check(oid, oid_of_bytes(data))
            tree = self._trees[oid] = Tree.from_bytes(data, oid)
        return tree

    # -- materialising ------------------------------------------------------------------
    def install(
        self,
        oid: str,
        dest: str,
        *,
        executable: bool = False,
        size: int | None = None,
        on_bytes: OnBytes | None = None,
    ) -> None:
        """Write the object to ``dest`` with the first link type that works, verifying it on the
        way: a corrupt object raises CorruptObjectError and leaves ``dest`` untouched. A known
        ``size`` lets a small object that is copied anyway be read and written in one go."""
        src = self.path(oid)
        data = self._read_small(oid, src, size)
        if data is None and not os.path.exists(src):
            raise _missing(oid)
        links = self.link_types
        if executable:  # a link would share the object's read-only, non-executable mode
            links = tuple(t for t in links if t not in ("hardlink", "symlink")) or ("copy",)
        tmp = fsutil.tmp_name(dest)
        verified = False  # a link shares the object: it is hashed once, before the first
        try:
            for link in links:
                if link == "copy":
                    mode = 0o777 if executable else 0o666
                    if data is None:
                        self._check(oid, copy_hashing(src, tmp, mode=mode, on_bytes=on_bytes))
                    else:
                        fsutil.write_new(tmp, data, mode)
                    break
                if link == "reflink":
                    clone = self.clone(src, tmp, 0o755 if executable else 0o644, on_bytes)
                    if clone is None:
                        continue
                    self._check(oid, clone)
                    break
                if not verified:
                    self._check(oid, hash_file(src, on_bytes)[0])
                    verified = True
                if link == "symlink":
                    os.symlink(src, tmp)
                    break
                with contextlib.suppress(OSError):  # a hard link fails across filesystems
                    os.link(src, tmp)
                    break
            else:
                raise CacheError(
                    f"none of the link types {','.join(links)} works for {dest}; "
                    "add copy to them (`dvlite config cache.type reflink,copy`)"
                )
            try:
                os.replace(tmp, dest)  # replaces a file or a link, never a folder
            except IsADirectoryError:
                raise CacheError(f"{dest} is a directory") from None
        except BaseException:
            fsutil.discard(tmp)
            raise

    def _read_small(self, oid: str, src: str, size: int | None) -> bytes | None:
        """A small object that install would copy, read and verified in one go; None for any
        other, or for one not ``size`` bytes long (a record that lies: it is streamed)."""
        usable = [t for t in self.link_types if t != "reflink" or not self._no_reflink]
        if size is None or size > SMALL_FILE or usable[:1] != ["copy"]:
            return None
        try:
            fd = os.open(src, os.O_RDONLY)  # not open(): a file object costs ~10 µs a file
        except FileNotFoundError:
            raise _missing(oid) from None
        try:
            data = os.read(fd, size + 1)
        finally:
            os.close(fd)
        if len(data) != size:
            return None
        self._check(oid, oid_of_bytes(data))
        return data


def _missing(oid: str) -> CacheError:
    return CacheError(f"object {oid} is not in the cache")
