"""The packs of a local store (``packs/<2 hex>/<id>.pack`` in the cache): many small objects that
one ``add`` or one fetch stored at once, in one file instead of thousands. A pack's own footer
says what it holds; a table of them all (``packdb``) is caught up with the footers once a run,
so a lookup reads no footer. Packs are written once; ``drop`` rewrites the packs that hold
objects to remove (the live ones into a new pack first, then the old file goes)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import threading
from collections.abc import Iterable, Iterator

from dvlite.objects import fsutil
from dvlite.objects.copying import OBJECT_MODE
from dvlite.objects.hashing import hex_of
from dvlite.objects.pack import (
    TRAILER_SIZE,
    Entry,
    PackWriter,
    parse_footer,
    parse_trailer,
)
from dvlite.objects.packdb import PackDb

PACK_SIZE = 32 << 20  # a pack is sealed once this full
KEEP_LOCATED = 65536  # locations an ``existing`` keeps for the reads that follow (~20 MB)
OPEN_MAX = 32  # packs kept open for reading (a checkout reads thousands of objects from each)
_NAME = re.compile(r"[0-9a-f]{32}\.pack")


def read_footer(path: str) -> list[Entry]:
    """The entries of the pack at ``path``, from its trailer and footer (checked)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        f.seek(max(size - TRAILER_SIZE, 0))
        footer_len = parse_trailer(f.read(TRAILER_SIZE), size)
        f.seek(size - TRAILER_SIZE - footer_len)
        return parse_footer(f.read(footer_len + TRAILER_SIZE), size)


class PackStore:
    """The packs below ``root``/packs, and a writer that gathers objects into new ones."""

    def __init__(self, root: str | os.PathLike[str], tmp_dir: str) -> None:
        self.dir = os.path.join(root, "packs")
        self.tmp_dir = tmp_dir
        self._db = PackDb(os.path.join(root, "packs.db"), self.dir)
        self._synced = False
        self._none = False  # no packs and no table: nothing to look up (and no table made)
        self._located: dict[str, tuple[str, Entry]] = {}  # the last ``existing``, for its reads
        self._lock = threading.Lock()
        self._open: dict[str, io.FileIO] = {}  # path -> file, oldest first

    def paths(self) -> list[str]:
        found = []
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            for prefix in sorted(os.listdir(self.dir)):
                with contextlib.suppress(NotADirectoryError):
                    folder = os.path.join(self.dir, prefix)
                    found += [os.path.join(folder, n) for n in sorted(os.listdir(folder))]
        return [p for p in found if _NAME.fullmatch(os.path.basename(p))]

    def _table(self) -> PackDb | None:
        """The table of packed objects, caught up with the packs on disk once per run; None
        while there are no packs at all."""
        if not self._synced:
            with self._lock:
                if not self._synced:
                    paths = self.paths()
                    self._none = not paths and not self._db.path.exists()
                    if not self._none:
                        self._db.sync(paths, read_footer)
                    self._synced = True
        return None if self._none else self._db

    def find(self, oid: str) -> tuple[str, Entry] | None:
        found = self._located.get(oid)
        if found is None and (table := self._table()) is not None:
            found = table.find(oid)
        return found

    def located(self, oid: str) -> bool:
        """Whether the last ``existing`` found ``oid`` in a pack (no lookup)."""
        return oid in self._located

    def existing(self, oids: Iterable[str]) -> set[str]:
        """The subset of ``oids`` the packs hold, looked up in bulk. Where they are is kept
        until the next call (if they are not too many), for the reads that usually follow."""
        table = self._table()
        if table is None:
            return set()
        located: dict[str, tuple[str, Entry]] = {}
        found = set()
        for path, entry in table.locate(oids):
            found.add(entry.oid)
            if len(located) < KEEP_LOCATED:
                located.setdefault(entry.oid, (path, entry))
        self._located = located if len(found) <= KEEP_LOCATED else {}
        return found

    def __contains__(self, oid: str) -> bool:
        return self.find(oid) is not None

    def oids(self) -> Iterator[str]:
        table = self._table()
        return iter(()) if table is None else table.oids()

    def length(self, oid: str) -> int | None:
        found = self.find(oid)
        return None if found is None else found[1].length

    def read(self, oid: str) -> bytes | None:
        """The bytes the pack stores for ``oid`` (unverified), None when no pack holds it."""
        found = self.find(oid)
        if found is None:
            return None
        path, entry = found
        with self._lock:  # one pread on a kept descriptor, not open, seek, read and close
            try:
                f = self._open.get(path)
                if f is None:
                    f = self._open[path] = io.FileIO(path)  # closed when dropped, too
                    if len(self._open) > OPEN_MAX:
                        self._open.pop(next(iter(self._open))).close()
                data = os.pread(f.fileno(), entry.length, entry.offset)
            except FileNotFoundError:  # dropped by another process since the footers were read
                return None
        return data if len(data) == entry.length else b""

    def close(self) -> None:
        """Close the packs kept open for reading."""
        with self._lock:
            for f in self._open.values():
                f.close()
            self._open.clear()

    def write(self, objects: Iterable[tuple[str, int, bytes]]) -> None:
        """Store ``objects`` (oid, kind, verified bytes) in new packs of up to PACK_SIZE."""
        writer = PackWriter()
        for oid, kind, data in objects:
            writer.add(oid, kind, data)
            if writer.size >= PACK_SIZE:
                self._save(writer)
                writer = PackWriter()
        if writer.entries:
            self._save(writer)

    def _save(self, writer: PackWriter) -> None:
        entries = writer.entries
        pack_id, data = writer.finish_parts()
        h = hex_of(pack_id)
        path = os.path.join(self.dir, h[:2], h + ".pack")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = fsutil.tmp_in(self.tmp_dir)
        os.makedirs(self.tmp_dir, exist_ok=True)
        try:
            fsutil.write_new(tmp, data, OBJECT_MODE)
            os.replace(tmp, path)  # the name is the content's hash: a same-named one is equal
        except BaseException:
            fsutil.discard(tmp)
            raise
        with self._lock:
            if self._synced:  # (else the next lookup reads its footer)
                self._none = False
                if not self._db.record(path, os.stat(path), entries):
                    self._synced = False

    def drop(self, oids: Iterable[str], keep_aside: str | None = None) -> None:
        """Remove ``oids`` from the packs: each pack holding one is rewritten without them
        (its other objects into a new pack first), then deleted. With ``keep_aside``, the
        dropped bytes are moved there (for a look at a corrupt object)."""
        gone = set(oids)
        table = self._table()
        hit = [] if table is None else sorted(table.packs_of(gone))
        self.close()
        for path in hit:
            entries = read_footer(path)
            with open(path, "rb") as f:
                data = f.read()
            kept = []
            for e in entries:
                piece = data[e.offset : e.end]
                if e.oid not in gone:
                    kept.append((e.oid, e.kind, piece))
                elif keep_aside is not None:
                    os.makedirs(keep_aside, exist_ok=True)
                    fsutil.atomic_write(os.path.join(keep_aside, hex_of(e.oid)), piece, fsync=False)
            if kept:
                self.write(kept)
            fsutil.remove(path)
            with contextlib.suppress(OSError):
                os.rmdir(os.path.dirname(path))
        self._located = {}
        if hit and not self._db.forget(hit):
            self._synced = False
