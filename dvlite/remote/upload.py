"""Writing to a format 2 remote (docs/formats.md): ``PackUpload`` puts the objects of one push
into packs, sent as they fill, cuts each large file into chunks (objects/chunks.py) of which
it sends only those the remote lacks, then its chunk list, and last writes the one index file
naming all of it. Until that index is written, nothing of the push counts as on the remote."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from dvlite.errors import CorruptObjectError
from dvlite.objects import chunks, pack, packindex
from dvlite.objects.hashing import hasher, oid_from_hasher
from dvlite.objects.pack import Entry, PackWriter
from dvlite.objects.packindex import Location
from dvlite.objects.store import check
from dvlite.objects.tree import FILE
from dvlite.progress import Advance, FileBytes
from dvlite.remote.packed import (
    PACK_JOBS,
    PACK_SIZE,
    WHOLE_MIN,
    Keys,
    Obj,
    index_key,
    keep_index_file,
    kind_of,
    pack_key,
)

if TYPE_CHECKING:
    from dvlite.objects.cache import Cache


class PackUpload:
    """The objects of one push: small ones (verified as they are read from the cache) into
    packs, large files as the chunks ``known`` (what the remote's index files name) lacks plus
    their chunk lists, big trees whole; ``finish`` sends the last pack, then the index file
    naming everything sent, and the chunks reused from earlier pushes where they are (so that
    a gc running meanwhile spares them)."""

    def __init__(
        self, remote: Keys, cache: Cache, progress: Advance | None, known: Mapping[str, Location]
    ) -> None:
        self.remote, self.cache, self.progress, self.known = remote, cache, progress, known
        self.writer = PackWriter()
        self.sealed: list[tuple[str, bytes, list[Entry]]] = []
        self.sent: dict[str, list[Entry]] = {}  # pack id -> its entries
        self.whole: dict[str, tuple[int, int]] = {}  # objects sent whole: oid -> kind, length
        self.chunks: set[str] = set()  # chunks in this push's packs, or reused where they are

    def add(self, objs: Sequence[Obj]) -> dict[str, BaseException]:
        """Take ``objs`` (a wave: nothing in it needs another of it sent first); returns the
        ones that could not be read from the cache (missing or corrupt)."""
        failed: dict[str, BaseException] = {}
        big: list[Obj] = []
        for obj in objs:
            try:
                size = self.cache.size(obj.oid)
                if obj.kind == FILE and size >= chunks.CHUNKED_MIN:
                    self._add_chunked(obj)
                    continue
                if size >= WHOLE_MIN:
                    big.append(obj)
                    continue
                data = self.cache.read_bytes(obj.oid)
            except (OSError, CorruptObjectError) as exc:
                failed[obj.oid] = exc
                continue
            self._add(obj.oid, kind_of(obj), data)
        if big:
            errors = self.remote.upload_whole(self.cache, big, self.progress)
            failed.update(errors)
            for obj in big:
                if obj.oid not in errors:
                    self.whole[obj.oid] = (kind_of(obj), self.cache.size(obj.oid))
        return failed

    def _add(self, oid: str, kind: int, data: bytes) -> None:
        self.writer.add(oid, kind, data)
        if self.writer.size >= PACK_SIZE:
            self._seal()
            if len(self.sealed) >= PACK_JOBS:
                self._send()

    def _add_chunked(self, obj: Obj) -> None:
        """Cut a large file (whole in the cache: packs hold small objects only), verifying it
        in the same read, and add the chunks not sent yet, then its chunk list."""
        whole, found = hasher(), []
        with FileBytes(self.progress) as counted:
            for oid, data in chunks.cut(self.cache.path(obj.oid), counted.on_bytes):
                whole.update(data)
                found.append((oid, len(data)))
                if oid not in self.chunks and oid not in self.known:
                    self._add(oid, pack.CHUNK_KIND, bytes(data))
                else:
                    self.remote.reused += len(data)
                self.chunks.add(oid)
            actual = oid_from_hasher(whole)
            if actual != obj.oid:
                self.cache.quarantine(obj.oid)  # as any reader of a damaged object does
            check(obj.oid, actual, self.cache.path(obj.oid))
            listed = chunks.ChunkList(sum(n for _, n in found), tuple(found)).encode()
            self._add(obj.oid, pack.LIST_KIND, listed)
            self.cache.keep_chunks(obj.oid, listed)  # a later pull finds these chunks here
            counted.finish(max(obj.size, 0))

    def _seal(self) -> None:
        if self.writer.entries:
            entries = self.writer.entries
            pack_id, data = self.writer.finish()
            self.sealed.append((pack_id, data, entries))
            self.writer = PackWriter()

    def _send(self) -> None:
        batch, self.sealed = self.sealed, []
        self.remote.write_keys({pack_key(pid): data for pid, data, _ in batch}, jobs=PACK_JOBS)
        for pack_id, _, entries in batch:
            self.sent[pack_id] = entries
            if self.progress:  # a chunked file counted itself as it was cut
                mine = [e for e in entries if e.kind in (pack.FILE_KIND, pack.TREE_KIND)]
                self.progress(len(mine), sum(e.length for e in mine))

    def finish(self) -> str | None:
        """Send what is left and the index file naming it all; its id (None: nothing sent)."""
        self._seal()
        self._send()
        if not self.sent and not self.whole:
            return None
        named = {e.oid for entries in self.sent.values() for e in entries}
        reused: dict[str, list[Entry]] = {}
        for oid in sorted(self.chunks - named):
            loc = self.known[oid]
            if loc.pack:
                reused.setdefault(loc.pack, []).append(Entry(oid, loc.kind, loc.offset, loc.length))
            else:
                self.whole[oid] = (loc.kind, loc.length)
        index_id, data = packindex.encode({**reused, **self.sent}, self.whole)
        self.remote.write_keys({index_key(index_id): data})
        keep_index_file(self.remote.keep_index, index_id, data)  # a warm push reads none
        return index_id
