"""Packs (storage format 2, docs/formats.md): many objects in one write-once file, each behind a
header that names it, then a footer table of every entry and a fixed-size trailer, so one
suffix read lists a pack and a forward scan rebuilds its footer. A pack's id is the hash of its
bytes. Nothing read from a pack is trusted: ``parse_footer`` and ``scan`` check every length
and offset against the pack's size before anyone slices with them."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import xxhash

from dvlite.errors import DvliteError
from dvlite.objects.hashing import PREFIX, hasher, oid_from_hasher

VERSION = 1
ENTRY_MAGIC = b"DVLO"
PACK_MAGIC = b"DVLP"
# what an entry holds: a file's bytes, a tree, a chunk of a large file, or (under the file's
# oid, its bytes not hashing to it) the chunk list of a large file (objects/chunks.py)
FILE_KIND, TREE_KIND, CHUNK_KIND, LIST_KIND = 1, 2, 3, 4
KINDS = frozenset({FILE_KIND, TREE_KIND, CHUNK_KIND, LIST_KIND})

_HEADER = struct.Struct("<4sB3xQ16s")  # magic, kind, length, oid digest: before each entry
_ROW = struct.Struct("<16sBQQ")  # footer row: oid digest, kind, data offset, data length
_TRAILER = struct.Struct("<Q16sI4s")  # footer length, footer hash, version, magic
HEADER_SIZE, ROW_SIZE, TRAILER_SIZE = _HEADER.size, _ROW.size, _TRAILER.size
MAX_LENGTH = 1 << 48  # no object or pack is larger than this (256 TiB)


class FormatError(DvliteError):
    """A pack or an index file that is not what its format says (truncated or crafted)."""


class NewerFormatError(FormatError):
    """A pack or an index file of a format version this dvlite does not know."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One object in a pack: its id, kind, and where its bytes are (after its header)."""

    oid: str
    kind: int
    offset: int
    length: int

    @property
    def end(self) -> int:
        return self.offset + self.length


def digest_of(oid: str) -> bytes:
    return bytes.fromhex(oid[len(PREFIX) :])


def oid_of_digest(digest: bytes) -> str:
    return PREFIX + digest.hex()


class PackWriter:
    """Builds one pack in memory: ``add`` objects (already verified), then ``finish``."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._digests: list[bytes] = []  # of the entries, for the footer
        self.entries: list[Entry] = []
        self.size = 0

    def add(self, oid: str, kind: int, data: bytes) -> None:
        digest = digest_of(oid)
        self._parts.append(_HEADER.pack(ENTRY_MAGIC, kind, len(data), digest))
        self._digests.append(digest)
        self.entries.append(Entry(oid, kind, self.size + HEADER_SIZE, len(data)))
        self._parts.append(data)
        self.size += HEADER_SIZE + len(data)

    def finish(self) -> tuple[str, bytes]:
        """The pack's id (the hash of its bytes) and its bytes."""
        pack_id, parts = self.finish_parts()
        return pack_id, b"".join(parts)

    def finish_parts(self) -> tuple[str, list[bytes]]:
        """The pack's id and its bytes in pieces, to be written as they are (joining 32 MiB
        costs as much as writing it)."""
        rows = zip(self._digests, self.entries, strict=True)
        footer = b"".join(_ROW.pack(d, e.kind, e.offset, e.length) for d, e in rows)
        trailer = _TRAILER.pack(len(footer), xxhash.xxh3_128_digest(footer), VERSION, PACK_MAGIC)
        parts, self._parts = [*self._parts, footer, trailer], []
        h = hasher()
        for part in parts:
            h.update(part)
        return oid_from_hasher(h), parts


def parse_trailer(tail: bytes, pack_size: int) -> int:
    """The footer's length, from a pack's last ``TRAILER_SIZE`` bytes."""
    if len(tail) < TRAILER_SIZE:
        raise FormatError(f"a pack too short to have a trailer ({len(tail)} bytes)")
    footer_len, _, version, magic = _TRAILER.unpack(tail[-TRAILER_SIZE:])
    if magic != PACK_MAGIC:
        raise FormatError("not a dvlite pack (no trailer magic)")
    if version != VERSION:
        raise NewerFormatError(f"pack format version {version} (this dvlite reads {VERSION})")
    if footer_len % ROW_SIZE or footer_len > pack_size - TRAILER_SIZE:
        raise FormatError(f"a pack's footer length {footer_len} does not fit it")
    return int(footer_len)


def parse_footer(suffix: bytes, pack_size: int) -> list[Entry]:
    """Every entry of a pack from the end of it (at least the footer and the trailer): each
    checked to lie in the pack, before the footer, apart from the others."""
    footer_len = parse_trailer(suffix, pack_size)
    footer = _footer(suffix, footer_len)
    if xxhash.xxh3_128_digest(footer) != _TRAILER.unpack(suffix[-TRAILER_SIZE:])[1]:
        raise FormatError("a pack's footer does not match its hash")
    entries = [Entry(oid_of_digest(d), k, o, n) for d, k, o, n in _ROW.iter_unpack(footer)]
    check_entries(entries, pack_size - footer_len - TRAILER_SIZE)
    return entries


def parse_tail(suffix: bytes) -> tuple[list[Entry], int]:
    """A pack's entries and its size from its last bytes alone (at least the footer and the
    trailer), when its size is not known: its entries follow one another from offset 0, as
    written, so where the last one ends is where the footer starts."""
    footer_len = parse_trailer(suffix, MAX_LENGTH)
    end = 0
    for _, _, offset, length in _ROW.iter_unpack(_footer(suffix, footer_len)):
        if offset != end + HEADER_SIZE:
            raise FormatError(f"a pack's entries do not follow one another (at byte {offset})")
        end = offset + length
    size = end + footer_len + TRAILER_SIZE
    if len(suffix) > size:
        raise FormatError(f"a pack of {len(suffix)} bytes or more has a footer for {size}")
    return parse_footer(suffix, size), size


def _footer(suffix: bytes, footer_len: int) -> bytes:
    if len(suffix) < footer_len + TRAILER_SIZE:
        raise FormatError("a pack's footer is cut short")
    return suffix[len(suffix) - TRAILER_SIZE - footer_len : len(suffix) - TRAILER_SIZE]


def check_entries(entries: Iterable[Entry], data_end: int) -> None:
    """FormatError unless every entry is of a known kind and lies after its header inside
    ``[0, data_end)``, in order and without overlaps (what an index or a footer may claim)."""
    after = 0
    for e in sorted(entries, key=lambda e: e.offset):
        if e.kind not in KINDS:
            raise FormatError(f"unknown object kind {e.kind} for {e.oid}")
        if e.offset < after + HEADER_SIZE or e.end > data_end:
            raise FormatError(f"object {e.oid} at bytes {e.offset}-{e.end} does not fit its pack")
        after = e.end


def scan(data: bytes) -> Iterator[tuple[Entry, bytes]]:
    """Every entry of a pack read front to back by its headers (to rebuild a lost index, or to
    find what a damaged pack held): stops at the first header that is not one."""
    at = 0
    while at + HEADER_SIZE <= len(data):
        magic, kind, length, digest = _HEADER.unpack_from(data, at)
        start = at + HEADER_SIZE
        if magic != ENTRY_MAGIC or kind not in KINDS or start + length > len(data):
            return
        yield Entry(oid_of_digest(digest), kind, start, length), data[start : start + length]
        at = start + length
