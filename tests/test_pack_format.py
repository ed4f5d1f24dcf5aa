"""The pack and index file formats (docs/formats.md) against crafted bytes: everything a remote
could hand back, truncated, wrong or hostile, is a FormatError (NewerFormatError for a version
this dvlite does not know) before any offset is used."""

from __future__ import annotations

import struct

import pytest
import xxhash
from helpers import oid

from dvlite.objects import pack, packindex
from dvlite.objects.pack import (
    FILE_KIND,
    HEADER_SIZE,
    TRAILER_SIZE,
    TREE_KIND,
    Entry,
    FormatError,
    NewerFormatError,
    PackWriter,
)
from dvlite.objects.packindex import LOOSE, Location

OBJECTS = [(b"one", FILE_KIND), (b"", FILE_KIND), (b"three" * 100, FILE_KIND), (b"[]", TREE_KIND)]


def written() -> tuple[str, bytes, list[Entry]]:
    writer = PackWriter()
    for data, kind in OBJECTS:
        writer.add(oid(data), kind, data)
    entries = writer.entries
    pack_id, data = writer.finish()
    return pack_id, data, entries


def crafted(rows: list[tuple[str, int, int, int]], body: bytes, version: int = 1) -> bytes:
    """A pack of ``body`` with a footer of ``rows`` (oid, kind, offset, length), its hash right."""
    footer = b"".join(struct.pack("<16sBQQ", pack.digest_of(o), k, at, n) for o, k, at, n in rows)
    digest = xxhash.xxh3_128_digest(footer)
    return body + footer + struct.pack("<Q16sI4s", len(footer), digest, version, b"DVLP")


# -- packs ------------------------------------------------------------------------------------
def test_a_pack_round_trips() -> None:
    pack_id, data, entries = written()
    assert pack_id == oid(data)
    assert pack.parse_footer(data, len(data)) == entries
    assert [data[e.offset : e.end] for e in entries] == [d for d, _ in OBJECTS]
    assert [(e, bytes(b)) for e, b in pack.scan(data)] == [
        (e, d) for e, (d, _) in zip(entries, OBJECTS, strict=True)
    ]
    footer_and_trailer = len(entries) * pack.ROW_SIZE + TRAILER_SIZE
    assert pack.parse_tail(data[-footer_and_trailer:]) == (entries, len(data))
    assert pack.parse_tail(data) == (entries, len(data))  # the whole pack is a suffix too


@pytest.mark.parametrize(
    ("cut", "message"),
    [
        (lambda d: d[:10], r"too short to have a trailer \(10 bytes\)"),
        (lambda d: d[:-1], "no trailer magic"),
        (lambda d: d[:-4] + b"XXXX", "no trailer magic"),
        (lambda d: d[: len(d) // 2], "no trailer magic"),
    ],
)
def test_a_pack_cut_short_or_without_magic(cut, message: str) -> None:
    data = cut(written()[1])
    with pytest.raises(FormatError, match=message):
        pack.parse_footer(data, len(data))


def test_a_pack_of_a_newer_version() -> None:
    data = bytearray(written()[1])
    data[-8:-4] = struct.pack("<I", 2)
    with pytest.raises(NewerFormatError, match=r"pack format version 2 \(this dvlite reads 1\)"):
        pack.parse_footer(bytes(data), len(data))


def test_a_footer_length_that_does_not_fit() -> None:
    data = bytearray(written()[1])
    for length in (pack.ROW_SIZE + 1, len(data), (1 << 64) - 1 - (1 << 64) % pack.ROW_SIZE):
        data[-TRAILER_SIZE : -TRAILER_SIZE + 8] = struct.pack("<Q", length)
        with pytest.raises(FormatError, match="footer length"):
            pack.parse_footer(bytes(data), len(data))


def test_a_footer_that_does_not_match_its_hash() -> None:
    data = bytearray(written()[1])
    data[-TRAILER_SIZE - 1] ^= 1  # the last byte of the footer
    with pytest.raises(FormatError, match="does not match its hash"):
        pack.parse_footer(bytes(data), len(data))


def test_entries_past_the_end_overlapping_or_before_their_header() -> None:
    a, b = oid(b"a" * 10), oid(b"b" * 10)
    body = b"\0" * (2 * (HEADER_SIZE + 10))
    good = [(a, FILE_KIND, 32, 10), (b, FILE_KIND, 74, 10)]
    data = crafted(good, body)
    assert [e.offset for e in pack.parse_footer(data, len(data))] == [32, 74]
    for rows in (
        [(a, FILE_KIND, 32, 10), (b, FILE_KIND, 74, 11)],  # past the end of the data
        [(a, FILE_KIND, 32, 10), (b, FILE_KIND, (1 << 64) - 1, 10)],  # far past it
        [(a, FILE_KIND, 32, 10), (b, FILE_KIND, 40, 10)],  # overlapping
        [(a, FILE_KIND, 32, 10), (b, FILE_KIND, 50, 10)],  # no room for its header
        [(a, FILE_KIND, 0, 10)],  # before its header
        [(a, FILE_KIND, 32, (1 << 64) - 1)],  # a length that overflows
    ):
        data = crafted(rows, body)
        with pytest.raises(FormatError, match="does not fit its pack"):
            pack.parse_footer(data, len(data))
    data = crafted([(a, 7, 32, 10)], body)
    with pytest.raises(FormatError, match="unknown object kind 7"):
        pack.parse_footer(data, len(data))


def test_parse_tail_wants_entries_one_after_another() -> None:
    a, b = oid(b"a" * 10), oid(b"b" * 10)
    body = b"\0" * 100
    with pytest.raises(FormatError, match="do not follow one another"):
        pack.parse_tail(crafted([(a, FILE_KIND, 32, 10), (b, FILE_KIND, 80, 10)], body))
    with pytest.raises(FormatError, match="do not follow one another"):
        pack.parse_tail(crafted([(a, FILE_KIND, 40, 10)], body))
    # more bytes than the footer accounts for: bytes were added, or it is not this pack's end
    with pytest.raises(FormatError, match="has a footer for"):
        pack.parse_tail(crafted([(a, FILE_KIND, 32, 10)], body))
    tail = crafted([(a, FILE_KIND, 32, 10)], b"")  # the footer and trailer of a 42-byte body
    assert pack.parse_tail(tail) == ([Entry(a, FILE_KIND, 32, 10)], 42 + len(tail))
    with pytest.raises(FormatError, match="cut short"):
        pack.parse_tail(tail[1:])


def test_scan_stops_at_the_first_header_that_is_not_one() -> None:
    _, data, entries = written()
    broken = bytearray(data)
    broken[entries[2].offset - HEADER_SIZE] ^= 1  # the third entry's header magic
    assert [e for e, _ in pack.scan(bytes(broken))] == entries[:2]
    broken = bytearray(data)
    broken[entries[0].offset - HEADER_SIZE + 8 : entries[0].offset - HEADER_SIZE + 16] = (
        struct.pack("<Q", 1 << 60)  # a length past the end
    )
    assert list(pack.scan(bytes(broken))) == []


# -- index files ------------------------------------------------------------------------------
def index(rows_of: dict[str, list[Entry]] | None = None) -> bytes:
    pack_id, _, entries = written()
    loose = {oid(b"big"): (FILE_KIND, 5 << 20)}
    return packindex.encode(rows_of or {pack_id: entries}, loose, [oid(b"older index")])[1]


def test_an_index_file_round_trips() -> None:
    pack_id, _, entries = written()
    decoded = packindex.decode(index())
    assert decoded.supersedes == (oid(b"older index"),)
    assert decoded.objects == {
        **{e.oid: Location(pack_id, e.kind, e.offset, e.length) for e in entries},
        oid(b"big"): Location("", FILE_KIND, 0, 5 << 20),
    }


def rehashed(body: bytes) -> bytes:
    """An index file of ``body`` (all but its trailer) with its trailer hash right."""
    return body + xxhash.xxh3_128_digest(body)


HEAD = struct.Struct("<4sIIIQ")
ROW = struct.Struct("<16sBIQQ")


def test_an_index_file_with_wrong_magic_version_or_size() -> None:
    data = index()
    with pytest.raises(FormatError, match="too short"):
        packindex.decode(data[:30])
    with pytest.raises(FormatError, match="no magic"):
        packindex.decode(b"XXXX" + data[4:])
    with pytest.raises(NewerFormatError, match=r"index format version 3 \(this dvlite reads 1\)"):
        packindex.decode(data[:4] + struct.pack("<I", 3) + data[8:])
    with pytest.raises(FormatError, match="do not match its size"):
        packindex.decode(data + b"\0")
    with pytest.raises(FormatError, match="trailer hash"):
        packindex.decode(data[:-1] + bytes([data[-1] ^ 1]))


@pytest.mark.parametrize(
    ("old", "packs", "rows"),
    [(0, 0, (1 << 64) - 1), ((1 << 32) - 1, (1 << 32) - 1, 1), (0, 1, (1 << 63))],
)
def test_index_counts_that_overflow(old: int, packs: int, rows: int) -> None:
    data = index()
    body = HEAD.pack(b"DVLI", 1, old, packs, rows) + data[HEAD.size : -16]
    with pytest.raises(FormatError, match="do not match its size"):
        packindex.decode(rehashed(body))


def one_row_index(n_packs: int, row: tuple[bytes, int, int, int, int]) -> bytes:
    ids = b"".join(pack.digest_of(oid(bytes([i]))) for i in range(n_packs))
    return rehashed(HEAD.pack(b"DVLI", 1, 0, n_packs, 1) + ids + ROW.pack(*row))


@pytest.mark.parametrize(
    ("n_packs", "row", "message"),
    [
        (1, (b"\1" * 16, 9, 0, 32, 1), "kind 9"),
        (1, (b"\1" * 16, FILE_KIND, 1, 32, 1), "pack number 1 of 1"),
        (0, (b"\1" * 16, FILE_KIND, 0, 32, 1), "pack number 0 of 0"),
        (1, (b"\1" * 16, FILE_KIND, 0, 32, 1 << 60), "at 32"),
        (1, (b"\1" * 16, FILE_KIND, 0, 1 << 60, 1), "at 1152921504606846976"),
        (1, (b"\1" * 16, FILE_KIND, 0, 3, 1), "does not fit its pack"),  # before its header
        (0, (b"\1" * 16, FILE_KIND, LOOSE, 7, 1), "at 7"),  # a whole object is at offset 0
    ],
)
def test_index_rows_that_do_not_fit(
    n_packs: int, row: tuple[bytes, int, int, int, int], message: str
) -> None:
    with pytest.raises(FormatError, match=message):
        packindex.decode(one_row_index(n_packs, row))


def test_index_entries_that_overlap_in_one_pack() -> None:
    pack_id = oid(b"some pack")
    apart = [Entry(oid(b"a"), FILE_KIND, 32, 10), Entry(oid(b"b"), FILE_KIND, 74, 10)]
    assert len(packindex.decode(index({pack_id: apart})).objects) == 3
    overlapping = [Entry(oid(b"a"), FILE_KIND, 32, 10), Entry(oid(b"b"), FILE_KIND, 60, 10)]
    with pytest.raises(FormatError, match="does not fit its pack"):
        packindex.decode(index({pack_id: overlapping}))
    # the same offsets in two different packs are no overlap
    other = {pack_id: apart[:1], oid(b"other pack"): [Entry(oid(b"b"), FILE_KIND, 32, 10)]}
    assert len(packindex.decode(index(other)).objects) == 3
