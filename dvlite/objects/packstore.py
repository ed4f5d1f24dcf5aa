"""The packs of a local store (``packs/<2 hex>/<id>.pack`` in the cache): many small objects that
one ``add`` or one fetch stored at once, in one file instead of thousands. A pack's own footer
says what it holds, so there is no index to keep in step: the footers are read when an object
is first looked for outside ``objects/``. Packs are written once; ``drop`` rewrites the packs
that hold objects to remove (the live ones into a new pack first, then the old file goes)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import threading
from collections.abc import Iterable

from dvlite.objects import fsutil
from dvlite.objects.copying import OBJECT_MODE
from dvlite.objects.hashing import hex_of
from dvlite.objects.pack import (
    TRAILER_SIZE,
    Entry,
    FormatError,
    PackWriter,
    parse_footer,
    parse_trailer,
)

PACK_SIZE = 32 << 20  # a pack is sealed once this full
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
        self._where: dict[str, tuple[str, Entry]] | None = None
        self.damaged: list[str] = []  # pack files whose footer cannot be read
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

    @property
    def where(self) -> dict[str, tuple[str, Entry]]:
        """Every packed object: the pack's path and the entry (read once, then kept)."""
        if self._where is None:
            where: dict[str, tuple[str, Entry]] = {}
            self.damaged = []
            for path in self.paths():
                try:
                    entries = read_footer(path)
                except (OSError, FormatError):
                    self.damaged.append(path)  # fsck reports it; its objects count as absent
                    continue
                for entry in entries:
                    where.setdefault(entry.oid, (path, entry))
            self._where = where
        return self._where

    def __contains__(self, oid: str) -> bool:
        return oid in self.where

    def length(self, oid: str) -> int | None:
        found = self.where.get(oid)
        return None if found is None else found[1].length

    def read(self, oid: str) -> bytes | None:
        """The bytes the pack stores for ``oid`` (unverified), None when no pack holds it."""
        found = self.where.get(oid)
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
        pack_id, data = writer.finish()
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
            if self._where is not None:
                for entry in entries:
                    self._where.setdefault(entry.oid, (path, entry))

    def drop(self, oids: Iterable[str], keep_aside: str | None = None) -> None:
        """Remove ``oids`` from the packs: each pack holding one is rewritten without them
        (its other objects into a new pack first), then deleted. With ``keep_aside``, the
        dropped bytes are moved there (for a look at a corrupt object)."""
        gone = set(oids)
        hit = sorted({self.where[o][0] for o in gone if o in self.where})
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
        if hit:
            self._where = None  # read again when next needed
