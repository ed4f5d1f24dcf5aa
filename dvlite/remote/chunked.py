"""Rebuilding chunked files from a format 2 remote (objects/chunks.py): read their chunk lists,
take every chunk the cache already holds inside another version of a file (found through the
chunk lists it keeps), read the rest by merged range reads, write each chunk where the file
has it, and install the file only when its bytes hash to its oid."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dvlite.errors import CorruptObjectError, RemoteError
from dvlite.objects import chunks, fsutil
from dvlite.objects.hashing import oid_of_bytes
from dvlite.objects.pack import LIST_KIND
from dvlite.objects.packindex import Location
from dvlite.objects.store import verified
from dvlite.objects.tree import FILE
from dvlite.progress import Advance
from dvlite.remote.packed import Keys, Obj, read_objects

if TYPE_CHECKING:
    from dvlite.objects.cache import Cache


@dataclass
class _File:
    """One file being rebuilt: its temporary file in the cache, open for writing."""

    obj: Obj
    listed: bytes
    tmp: str
    fd: int
    failed: BaseException | None = None


@dataclass
class _Wanted:
    """A chunk to read from the remote, and every place (file, offset) it goes."""

    length: int
    places: list[tuple[_File, int]] = field(default_factory=list)


class MissingChunk(Exception):
    """A chunk that a chunk list names and the remote cannot give (not a FileNotFoundError:
    the file's list was found, so looking for the file elsewhere is pointless)."""


FILES_AT_ONCE = 64  # files rebuilt at once (each an open temporary file)


def rebuild(
    remote: Keys,
    cache: Cache,
    lists: Sequence[tuple[Obj, Location]],
    progress: Advance | None,
) -> dict[str, BaseException]:
    """Install the chunked files ``lists`` names (each with where its chunk list is) in the
    cache; returns those that could not be rebuilt: a damaged chunk list or chunk, one the
    remote lacks, or bytes that do not hash to the file's oid."""
    failed: dict[str, BaseException] = {}
    for at in range(0, len(lists), FILES_AT_ONCE):
        failed |= _rebuild(remote, cache, lists[at : at + FILES_AT_ONCE], progress)
    return failed


def _rebuild(
    remote: Keys,
    cache: Cache,
    lists: Sequence[tuple[Obj, Location]],
    progress: Advance | None,
) -> dict[str, BaseException]:
    read: dict[str, bytes] = {}

    def take_list(obj: Obj, loc: Location, data: bytes, where: str) -> None:
        size = chunks.decode_at(data, obj.oid, where).size
        if obj.size >= 0 and size != obj.size:  # checked before a byte is written
            raise CorruptObjectError(
                obj.oid, f"{where}: a chunk list of {size} bytes, not {obj.size}"
            )
        read[obj.oid] = bytes(data)

    failed: dict[str, BaseException] = {  # not read: a list that long is not one of ours
        obj.oid: CorruptObjectError(obj.oid, f"{remote.label}: a chunk list of {loc.length} bytes")
        for obj, loc in lists
        if loc.length > chunks.LIST_MAX
    }
    failed |= read_objects(remote, [x for x in lists if x[0].oid not in failed], take_list)
    files: list[_File] = []
    try:
        for obj, _ in lists:
            if obj.oid in read:
                files.append(_open(cache, obj, read[obj.oid]))
        wanted = _copy_local(remote, cache, files, progress)
        _fetch(remote, files, wanted, progress)
        for f in files:
            os.close(f.fd)
            f.fd = -1
            if f.failed is None:
                try:  # the list first: a list kept for a file that never arrives is passed over
                    cache.keep_chunks(f.obj.oid, f.listed)
                    cache.add_verified(f.tmp, f.obj.oid, f"the chunks of {remote.label}")
                except CorruptObjectError as exc:
                    f.failed = exc
            if f.failed is not None:
                failed[f.obj.oid] = f.failed
            elif progress:
                progress(1, 0)
    finally:
        for f in files:
            if f.fd >= 0:
                os.close(f.fd)
            fsutil.discard(f.tmp)
    return failed


def _open(cache: Cache, obj: Obj, listed: bytes) -> _File:
    tmp = cache.new_tmp()
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    return _File(obj, listed, tmp, fd)


def _copy_local(
    remote: Keys, cache: Cache, files: list[_File], progress: Advance | None
) -> dict[str, _Wanted]:
    """Write every chunk the cache holds (inside another file, found through the chunk lists
    it keeps; each re-hashed) where each file has it; returns the chunks still wanted."""
    sources = cache.chunk_sources()
    opened: dict[str, int] = {}
    wanted: dict[str, _Wanted] = {}
    try:
        for f in files:
            for oid, offset, length in chunks.decode(f.listed).pieces():
                data = _local(sources.get(oid), opened, oid)
                if data is None:
                    wanted.setdefault(oid, _Wanted(length)).places.append((f, offset))
                    continue
                fsutil.pwrite_all(f.fd, data, offset)
                remote.reused += length
                if progress:
                    progress(0, length)
    finally:
        for fd in opened.values():
            os.close(fd)
    return wanted


def _local(source: tuple[str, int, int] | None, opened: dict[str, int], oid: str) -> bytes | None:
    """A chunk's bytes read from the cached file holding it, when they hash to ``oid``."""
    if source is None:
        return None
    path, offset, length = source
    with contextlib.suppress(OSError):
        if path not in opened:
            opened[path] = os.open(path, os.O_RDONLY)
        data = os.pread(opened[path], length, offset)
        if oid_of_bytes(data) == oid:
            return data
    return None


def _fetch(
    remote: Keys, files: list[_File], wanted: dict[str, _Wanted], progress: Advance | None
) -> None:
    """Read the ``wanted`` chunks from the remote and write each where it goes; a file whose
    chunk is missing or damaged gets that error as its ``failed``."""
    objects = remote.catalog.objects
    located = []
    for oid, want in wanted.items():
        loc = objects.get(oid)
        if loc is None or not loc.pack:  # chunks are packed: any other is not one of ours
            for f, _ in want.places:
                f.failed = f.failed or MissingChunk(f"its chunk {oid} is on no index file")
            continue
        located.append((Obj(oid, want.length, want.places[0][0].obj.rel), loc))

    def place(obj: Obj, loc: Location, data: bytes, where: str) -> None:
        verified(data, obj.oid, where)
        for f, offset in wanted[obj.oid].places:
            if f.failed is None:
                fsutil.pwrite_all(f.fd, data, offset)
            if progress:
                progress(0, len(data))

    for oid, exc in read_objects(remote, located, place).items():
        if not isinstance(exc, CorruptObjectError):  # its pack is missing
            exc = MissingChunk(f"its chunk {oid} cannot be read ({exc})")
        for f, _ in wanted[oid].places:
            f.failed = f.failed or exc


def chunks_of(remote: Keys, oids: Iterable[str]) -> set[str]:
    """The chunks that the chunk lists of ``oids`` name (those of them the remote holds
    chunked), each list read from the remote; RemoteError when one cannot be read, so that gc
    removes nothing rather than a chunk some file still needs."""
    objects = remote.catalog.objects
    lists = [(Obj(o), loc) for o in oids if (loc := objects.get(o)) and loc.kind == LIST_KIND]
    found: set[str] = set()

    def take(obj: Obj, loc: Location, data: bytes, where: str) -> None:
        found.update(oid for oid, _ in chunks.decode_at(data, obj.oid, where).chunks)

    failed = read_objects(remote, lists, take)
    if failed:
        oid, exc = next(iter(failed.items()))
        raise RemoteError(
            f"{remote.label}: cannot read the chunk list of {oid} ({exc}) nor, so, know which "
            f"chunks {len(failed)} large file(s) need; run `dvlite fsck --remote`"
        )
    return found


def bytes_to_send(remote: Keys, cache: Cache, objs: Iterable[Obj], fmt: int) -> int:
    """The bytes a push of ``objs`` would send to a remote of format ``fmt``: each object
    whole, but of a large file on format 2 only the chunks the remote and the push lack
    (the file is cut to know them)."""
    known, seen, total = remote.catalog.objects if fmt == 2 else {}, set(), 0
    for obj in objs:
        if fmt != 2 or obj.kind != FILE or obj.size < chunks.CHUNKED_MIN:
            total += max(obj.size, 0)
            continue
        with contextlib.suppress(OSError):  # not in the cache: push would report it
            for oid, data in chunks.cut(cache.path(obj.oid)):
                if oid not in known and oid not in seen:
                    seen.add(oid)
                    total += len(data)
    return total


def bytes_to_fetch(remote: Keys, cache: Cache, objs: Iterable[Obj]) -> int:
    """The bytes fetching ``objs`` would read: each object whole, but of a chunked file only
    the chunks the cache holds in no other file (its chunk list read to know them)."""
    objects, total, lists = remote.catalog.objects, 0, []
    for obj in objs:
        loc = objects.get(obj.oid)
        if loc is not None and loc.kind == LIST_KIND:
            lists.append((obj, loc))
        else:
            total += max(obj.size, 0) if loc is None else loc.length
    if lists:
        local, seen = cache.chunk_sources(), set()

        def take(obj: Obj, loc: Location, data: bytes, where: str) -> None:
            nonlocal total
            for oid, length in chunks.decode_at(data, obj.oid, where).chunks:
                if oid not in local and oid not in seen:
                    seen.add(oid)
                    total += length

        read_objects(remote, lists, take)  # a list that cannot be read counts for nothing
    return total
