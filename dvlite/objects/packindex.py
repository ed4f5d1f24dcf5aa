"""Index files (storage format 2, docs/formats.md): where each object of some packs lies, and
which older index files this one replaces. Written once per push, after its packs; named by
the hash of their bytes. ``decode`` checks every count and offset before it is used."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import xxhash

from dvlite.objects.pack import (
    KINDS,
    MAX_LENGTH,
    Entry,
    FormatError,
    NewerFormatError,
    check_entries,
    digest_of,
    oid_of_digest,
)

VERSION = 1
MAGIC = b"DVLI"
LOOSE = 0xFFFFFFFF  # the pack number of an object stored whole, at objects/<2 hex>/<30 hex>

_HEAD = struct.Struct("<4sIIIQ")  # magic, version, superseded, packs, entries
_ROW = struct.Struct("<16sBIQQ")  # oid digest, kind, pack number (or LOOSE), offset, length
_ID = 16  # bytes of an index or pack id (its XXH3-128 digest)


@dataclass(frozen=True, slots=True)
class Location:
    """Where one object is on a remote: in ``pack`` (its id, "" when stored whole) at ``offset``."""

    pack: str
    kind: int
    offset: int
    length: int

    @property
    def end(self) -> int:
        return self.offset + self.length


@dataclass(frozen=True)
class IndexFile:
    supersedes: tuple[str, ...]  # the ids of the index files this one replaces
    objects: dict[str, Location]


def encode(
    packs: Mapping[str, Iterable[Entry]],
    loose: Mapping[str, tuple[int, int]] | None = None,
    supersedes: Iterable[str] = (),
) -> tuple[str, bytes]:
    """An index file naming the entries of ``packs`` (by pack id) and the whole objects
    ``loose`` (oid -> kind, length); returns its id and bytes."""
    pack_ids = sorted(packs)
    rows = [
        (digest_of(e.oid), e.kind, n, e.offset, e.length)
        for n, pid in enumerate(pack_ids)
        for e in packs[pid]
    ]
    rows += [(digest_of(oid), kind, LOOSE, 0, n) for oid, (kind, n) in (loose or {}).items()]
    rows.sort()
    old = sorted(supersedes)
    body = b"".join(
        [
            _HEAD.pack(MAGIC, VERSION, len(old), len(pack_ids), len(rows)),
            *(digest_of(i) for i in old),
            *(digest_of(p) for p in pack_ids),
            *(_ROW.pack(*row) for row in rows),
        ]
    )
    data = body + xxhash.xxh3_128_digest(body)
    return oid_of_digest(xxhash.xxh3_128_digest(data)), data


def decode(data: bytes) -> IndexFile:
    """An index file's contents, every count checked against its size and every entry against
    the format: the entries of one pack apart from each other, each after its header; a whole
    object at offset 0 (FormatError otherwise)."""
    if len(data) < _HEAD.size + _ID:
        raise FormatError(f"an index file of {len(data)} bytes is too short")
    magic, version, n_old, n_packs, n_rows = _HEAD.unpack_from(data)
    if magic != MAGIC:
        raise FormatError("not a dvlite index file (no magic)")
    if version != VERSION:
        raise NewerFormatError(f"index format version {version} (this dvlite reads {VERSION})")
    if len(data) != _HEAD.size + (n_old + n_packs) * _ID + n_rows * _ROW.size + _ID:
        raise FormatError("an index file's counts do not match its size")
    body, trailer = data[:-_ID], data[-_ID:]
    if xxhash.xxh3_128_digest(body) != trailer:
        raise FormatError("an index file does not match its trailer hash")
    at = _HEAD.size
    ids = [oid_of_digest(data[at + i * _ID : at + (i + 1) * _ID]) for i in range(n_old + n_packs)]
    old, pack_ids = ids[:n_old], ids[n_old:]
    objects: dict[str, Location] = {}
    in_pack: list[list[Entry]] = [[] for _ in pack_ids]
    rows = memoryview(body)[at + (n_old + n_packs) * _ID :]
    for digest, kind, n, offset, length in _ROW.iter_unpack(rows):
        oid = oid_of_digest(digest)
        if kind not in KINDS or length > MAX_LENGTH or offset > (0 if n == LOOSE else MAX_LENGTH):
            raise FormatError(f"an index file has an entry of kind {kind} at {offset}+{length}")
        if n == LOOSE:
            pack = ""
        elif n < n_packs:
            pack = pack_ids[n]
            in_pack[n].append(Entry(oid, kind, offset, length))
        else:
            raise FormatError(f"an index file names pack number {n} of {n_packs}")
        objects[oid] = Location(pack, kind, offset, length)
    for entries in in_pack:
        check_entries(entries, MAX_LENGTH)
    return IndexFile(tuple(old), objects)
