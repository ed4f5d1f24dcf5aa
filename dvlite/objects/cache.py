"""The repository's object store (``.dvlite/cache``): objects whole under ``objects/``, and
packs of many small ones (``packstore``) that ``add`` and fetch write when they store many at
once (``packing``); ``install`` writes an object to the workspace with the configured link
types, verified on the way (a packed object is copied)."""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import xxhash

from dvlite.errors import CacheError, CorruptObjectError
from dvlite.objects import chunks, fsutil
from dvlite.objects.copying import copy_hashing, read_small
from dvlite.objects.hashing import PREFIX, SMALL_FILE, hash_file, hex_of, is_oid, oid_of_bytes
from dvlite.objects.pack import FILE_KIND, TREE_KIND
from dvlite.objects.packstore import PACK_SIZE, PackStore
from dvlite.objects.store import ObjectStore
from dvlite.objects.tree import Tree
from dvlite.progress import OnBytes

LINK_TYPES = ("reflink", "copy", "hardlink", "symlink")
_COMPLETE, _COMPLETE_HEAD = "complete", "dvlite complete trees 1"
_HEX32 = re.compile("[0-9a-f]{32}")
PACK_MIN = 256  # a batch of fewer small objects is stored loose: a pack pays for many files
TREES_KEPT = 100_000  # entries of the trees read that are kept (~20 MB), the oldest dropped


class Cache(ObjectStore):
    def __init__(self, root: str | Path, link_types: tuple[str, ...] = ("reflink", "copy")) -> None:
        super().__init__(root, os.path.join(root, "tmp"))
        self.link_types = link_types
        self._no_reflink = "reflink" not in link_types
        self._trees: dict[str, Tree] = {}  # the trees read last, TREES_KEPT entries at most
        self._trees_entries = 0
        self.packs = PackStore(root, os.path.join(root, "tmp"))
        self._batch: dict[str, tuple[int, bytes]] | None = None  # gathered by ``packing``
        self._batch_bytes = 0
        self._packed = False  # a pack was written in this ``packing``
        self._lock = threading.Lock()

    # -- packs ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def packing(self) -> Iterator[None]:
        """Small files added inside go into packs: one written each time PACK_SIZE bytes are
        gathered, the rest at the end (loose when no pack was written and they are fewer than
        PACK_MIN). Only where links copy: hard and symbolic links need whole files. Trees stay
        whole, so that reading a few needs no pack footers."""
        if self._batch is not None or self.link_types[0] in ("hardlink", "symlink"):
            yield
            return
        self._batch, self._batch_bytes, self._packed = {}, 0, False
        try:
            yield
        finally:
            with self._lock:
                batch, packed, self._batch = self._batch, self._packed, None
            fresh = self._not_stored(batch)
            if packed or len(fresh) >= PACK_MIN:
                self.packs.write(fresh)
            else:
                for oid, _, data in fresh:
                    super().add_bytes(data, oid)

    def _not_stored(self, batch: dict[str, tuple[int, bytes]]) -> list[tuple[str, int, bytes]]:
        """The objects of ``batch`` the cache does not hold yet, looked up all at once (not
        one query each as they are gathered)."""
        stored = super().existing(batch) | self.packs.existing(batch)
        return [(oid, kind, data) for oid, (kind, data) in batch.items() if oid not in stored]

    def add_bytes(self, data: bytes, oid: str | None = None, kind: int = FILE_KIND) -> str:
        oid = oid or oid_of_bytes(data)
        if self._batch is None or len(data) > SMALL_FILE or kind == TREE_KIND:
            return super().add_bytes(data, oid)  # trees whole: read without the packs' footers
        with self._lock:
            if oid in self._batch:
                return oid
            self._batch[oid] = (kind, data)
            self._batch_bytes += len(data)
            if self._batch_bytes < PACK_SIZE:
                return oid
            full, self._batch, self._batch_bytes, self._packed = self._batch, {}, 0, True
        self.packs.write(self._not_stored(full))
        return oid

    def _gathered(self, oid: str) -> bytes | None:
        batch = self._batch
        found = batch.get(oid) if batch else None
        return None if found is None else found[1]

    def packed_bytes(self, oid: str) -> bytes | None:
        """An object that is not whole under objects/, verified (None when no pack has it)."""
        data = self._gathered(oid)
        if data is None:
            data = self.packs.read(oid)
        if data is not None:
            self._check(oid, oid_of_bytes(data))
        return data

    def exists(self, oid: str) -> bool:
        return super().exists(oid) or self._packed_or_gathered(oid)

    def _packed_or_gathered(self, oid: str) -> bool:
        return self._gathered(oid) is not None or oid in self.packs

    def existing(self, oids: Iterable[str]) -> set[str]:
        oids = list(oids)
        found = super().existing(oids)  # whole ones; then the packed, without a stat each
        rest = [o for o in oids if o not in found]
        gathered = {o for o in rest if self._gathered(o) is not None}
        return found | gathered | self.packs.existing(o for o in rest if o not in gathered)

    def iter_oids(self) -> list[str]:
        return sorted({*super().iter_oids(), *self.packs.oids()})

    def size(self, oid: str) -> int:
        """An object's size; 0 when the cache lacks it."""
        try:
            return os.path.getsize(self.path(oid))
        except OSError:
            return self.packs.length(oid) or 0

    def remove(self, oids: Iterable[str]) -> None:
        """Remove objects, whole ones and packed ones (their packs rewritten without them)."""
        packed = []
        for oid in oids:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._chunks_path(oid))
            try:
                os.unlink(self.path(oid))
            except FileNotFoundError:
                packed.append(oid)
                continue
            with contextlib.suppress(OSError):
                os.rmdir(os.path.dirname(self.path(oid)))  # objects/xx, when it is now empty
        self.packs.drop(packed)

    # -- trees known complete ---------------------------------------------------------------
    # A tree whose every object below is here, checked once, is listed in ``complete`` with a
    # stamp of the cache's folders: any object removed (by gc, quarantine or by hand) changes
    # the mtime of the folder it was in, hence the stamp, and the list no longer counts.
    def _stamp(self) -> tuple[str, int]:
        """The names, inodes and mtimes of the folders objects and packs live in, and the
        packs' sizes, hashed: cheap (a few hundred stats) and changed by any removal; and the
        newest of those mtimes."""
        h = xxhash.xxh3_128()
        newest = 0
        for top in (self.objects_dir, self.packs.dir):
            folders = [top]
            with contextlib.suppress(OSError):
                folders += sorted(e.path for e in os.scandir(top) if e.is_dir())
            for folder in folders:
                try:
                    st = os.stat(folder)
                except OSError:
                    h.update(b"-\0")
                    continue
                newest = max(newest, st.st_mtime_ns)
                h.update(f"{folder}/{st.st_ino}/{st.st_mtime_ns}\0".encode())
                if top == self.packs.dir and folder != top:
                    with contextlib.suppress(OSError):
                        for e in os.scandir(folder):
                            pst = e.stat()
                            newest = max(newest, pst.st_mtime_ns)
                            h.update(
                                f"{e.name}/{pst.st_ino}/{pst.st_size}/{pst.st_mtime_ns}\0".encode()
                            )
        return h.hexdigest(), newest

    def complete_trees(self) -> tuple[str, set[str]]:
        """The cache's stamp now, and the trees known complete at it. A list written in the
        same clock tick as the cache's last change is not believed: a removal in that tick
        would leave every mtime as it was (git's "racily clean" entries)."""
        stamp, newest = self._stamp()
        try:
            with open(os.path.join(self.root, _COMPLETE), encoding="ascii") as f:
                written = os.fstat(f.fileno()).st_mtime_ns
                head, *listed = f.read().split("\n")
        except (OSError, ValueError):
            return stamp, set()
        if head != f"{_COMPLETE_HEAD} {stamp}" or written <= newest:
            return stamp, set()
        return stamp, {PREFIX + h for h in listed if _HEX32.fullmatch(h)}

    def mark_complete(self, trees: Iterable[str], stamp: str | None) -> None:
        """Remember ``trees`` as complete: checked when the cache was at ``stamp`` (nothing is
        marked if it has changed since), or with None stored by the caller, who holds the
        repository's lock so that nothing else removed objects meanwhile."""
        trees = {t for t in trees if is_oid(t)}
        now, known = self.complete_trees()
        if not trees or (stamp is not None and stamp != now):
            return
        lines = [f"{_COMPLETE_HEAD} {now}", *sorted(hex_of(t) for t in trees | known)]
        with contextlib.suppress(OSError):
            fsutil.atomic_write(
                os.path.join(self.root, _COMPLETE),
                "\n".join(lines).encode(),
                fsync=False,
                tmp=self.new_tmp(),
            )

    # -- chunk lists of large files (objects/chunks.py), kept beside the files -------------
    def _chunks_path(self, oid: str) -> str:
        return os.path.join(self.root, "chunks", hex_of(oid))

    def keep_chunks(self, oid: str, listed: bytes) -> None:
        """Keep the chunk list of a large file the cache holds (from a push or a pull). It is
        written in the cache's tmp/ first, where the next run clears what a killed one left."""
        path = self._chunks_path(oid)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fsutil.atomic_write(path, listed, fsync=False, tmp=self.new_tmp())

    def chunk_sources(self) -> dict[str, tuple[str, int, int]]:
        """Every chunk of the files the cache holds whole and keeps a chunk list of: chunk oid
        -> (the file's path, offset, length). A damaged list is passed over (chunks read
        through it are re-hashed anyway)."""
        found: dict[str, tuple[str, int, int]] = {}
        folder = os.path.join(self.root, "chunks")
        with contextlib.suppress(FileNotFoundError):
            for name in sorted(os.listdir(folder)):
                path = self.path(PREFIX + name)
                if not is_oid(PREFIX + name) or not os.path.exists(path):
                    continue
                try:
                    with open(os.path.join(folder, name), "rb") as f:
                        listed = chunks.decode(f.read())
                except (OSError, chunks.FormatError):
                    continue
                for oid, offset, length in listed.pieces():
                    found.setdefault(oid, (path, offset, length))
        return found

    def read_bytes(self, oid: str, where: str | None = None) -> bytes:
        try:
            return super().read_bytes(oid, where)
        except FileNotFoundError:
            data = self.packed_bytes(oid)
            if data is None:
                raise
            return data

    def verify(self, oid: str, on_bytes: OnBytes | None = None) -> str | None:
        actual = super().verify(oid, on_bytes)
        if actual is None and (data := self._gathered(oid) or self.packs.read(oid)) is not None:
            return oid_of_bytes(data)
        return actual

    def quarantine(self, oid: str) -> None:
        """Move a corrupt object aside to ``corrupt/`` (kept for a look): it no longer counts
        as cached, so the next fetch or pull gets a good copy."""
        aside = os.path.join(self.root, "corrupt")
        try:
            os.makedirs(aside, exist_ok=True)
            os.replace(self.path(oid), os.path.join(aside, hex_of(oid)))
        except FileNotFoundError:
            self.packs.drop([oid], keep_aside=aside)
        self._forget_tree(oid)

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
                packed = self.packed_bytes(oid)
                if packed is None:
                    raise _missing(oid) from None
                data = packed
            self._check(oid, oid_of_bytes(data))
            tree = Tree.from_bytes(data, oid)
            with self._lock:
                self._trees[oid] = tree
                self._trees_entries += len(tree.entries)
                while self._trees_entries > TREES_KEPT and len(self._trees) > 1:
                    self._forget_tree(next(iter(self._trees)))
        return tree

    def _forget_tree(self, oid: str) -> None:
        tree = self._trees.pop(oid, None)
        if tree is not None:
            self._trees_entries -= len(tree.entries)

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
        # an object just looked up in the packs is read there, without trying objects/ first
        data = None if self.packs.located(oid) else self._read_small(oid, src, size)
        links = self.link_types
        if data is None:
            data = self.packed_bytes(oid)  # verified
            if data is not None:
                links = ("copy",)  # a packed object is not a file to link to
            elif not os.path.exists(src):
                raise _missing(oid)
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
            return None  # packed, or missing
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
