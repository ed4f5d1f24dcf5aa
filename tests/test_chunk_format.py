"""Chunk lists and the chunker (dvlite/objects/chunks.py, docs/formats.md): a list round-trips
byte for byte, and any list that is not one of ours (crafted, damaged, cut short, of a newer
dvlite) is a FormatError, never another exception; FastCDC cuts where the bytes say, so an
edit changes only the chunks around it; the pure-Python chunker is refused."""

from __future__ import annotations

import random
import struct
import sys
from pathlib import Path

import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from dvlite.errors import DvliteError
from dvlite.objects import chunks
from dvlite.objects.chunks import CHUNK_MAX, ChunkList, decode
from dvlite.objects.hashing import oid_of_bytes
from dvlite.objects.pack import FormatError, NewerFormatError, oid_of_digest

HEAD = struct.Struct("<4sIQI")  # magic, version, file size, chunk count
ROW = struct.Struct("<16sI")  # chunk oid digest, length


def craft(
    size: int,
    lengths: list[int],
    *,
    magic: bytes = b"DVLC",
    version: int = 1,
    count: int | None = None,
) -> bytes:
    """A chunk list written by hand as docs/formats.md describes it, with a good trailing
    hash: every check before the one a test aims at passes."""
    rows = b"".join(ROW.pack(bytes([i % 256]) * 16, n) for i, n in enumerate(lengths))
    body = HEAD.pack(magic, version, size, len(lengths) if count is None else count) + rows
    return body + xxhash.xxh3_128_digest(body)


def a_list(n: int = 5, seed: int = 0) -> ChunkList:
    rng = random.Random(seed)
    rows = tuple((oid_of_bytes(rng.randbytes(8)), rng.randrange(1, 200_000)) for _ in range(n))
    return ChunkList(sum(length for _, length in rows), rows)


def refused(data: bytes) -> str:
    with pytest.raises(FormatError) as exc:
        decode(data)
    return str(exc.value)


# -- round trip --------------------------------------------------------------------------------
def test_a_list_round_trips_and_says_where_each_chunk_lies() -> None:
    listed = a_list(7)
    data = listed.encode()
    assert len(data) == HEAD.size + 7 * ROW.size + 16
    assert data[:4] == b"DVLC"
    assert decode(data) == listed
    assert decode(data).encode() == data
    pieces = list(listed.pieces())
    assert [(oid, n) for oid, _, n in pieces] == list(listed.chunks)
    assert [at for _, at, _ in pieces] == [sum(n for _, n in listed.chunks[:i]) for i in range(7)]
    assert pieces[-1][1] + pieces[-1][2] == listed.size


def test_the_list_of_an_empty_file_round_trips() -> None:
    assert decode(ChunkList(0, ()).encode()) == ChunkList(0, ())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.binary(min_size=16, max_size=16), st.integers(1, CHUNK_MAX)), max_size=40)
)
def test_any_list_round_trips(rows: list[tuple[bytes, int]]) -> None:
    listed = ChunkList(sum(n for _, n in rows), tuple((oid_of_digest(d), n) for d, n in rows))
    assert decode(listed.encode()) == listed


# -- lists that are not ours ---------------------------------------------------------------------
def test_a_crafted_list_with_good_hash_passes_the_checks_before_its_flaw() -> None:
    assert decode(craft(30, [10, 20])).size == 30  # the crafting itself is sound


def test_wrong_magic() -> None:
    assert "no magic" in refused(craft(30, [10, 20], magic=b"DVLP"))


def test_a_newer_version_is_a_newer_format_error() -> None:
    with pytest.raises(NewerFormatError, match="chunk list version 2"):
        decode(craft(30, [10, 20], version=2))


@pytest.mark.parametrize("count", [0, 1, 3, 2**32 - 1])
def test_a_count_not_matching_the_size(count: int) -> None:
    assert "count does not match" in refused(craft(30, [10, 20], count=count))


def test_a_bad_trailing_hash() -> None:
    data = bytearray(craft(30, [10, 20]))
    data[-1] ^= 1
    assert "does not match its hash" in refused(bytes(data))


def test_a_changed_row_breaks_the_hash() -> None:
    data = bytearray(a_list().encode())
    data[HEAD.size + 3] ^= 0x40  # inside the first chunk's oid
    assert "does not match its hash" in refused(bytes(data))


@pytest.mark.parametrize(
    ("size", "lengths"),
    [
        (31, [10, 20]),  # lengths short of the size
        (29, [10, 20]),  # past it
        (0, [10]),
        (10, []),  # a size and no chunks
        (30, [0, 10, 20]),  # a zero length (that still adds up)
        (CHUNK_MAX + 1, [CHUNK_MAX + 1]),  # a chunk longer than any of ours
        (2**32 - 1, [2**32 - 1]),
    ],
    ids=["short", "past", "no-size", "no-chunks", "zero", "over-max", "huge"],
)
def test_lengths_that_do_not_make_the_file(size: int, lengths: list[int]) -> None:
    assert "lengths do not add up" in refused(craft(size, lengths))


def test_a_chunk_of_exactly_chunk_max_is_ours() -> None:
    assert decode(craft(CHUNK_MAX, [CHUNK_MAX])).chunks[0][1] == CHUNK_MAX


def test_every_truncation_is_a_format_error() -> None:
    data = a_list(3).encode()
    for end in range(len(data)):
        refused(data[:end])
    assert "too short" in refused(b"")
    assert "too short" in refused(data[: HEAD.size])


def test_every_single_byte_flip_is_a_format_error() -> None:
    data = a_list(3).encode()
    for at in range(len(data)):
        damaged = bytearray(data)
        damaged[at] ^= 0x01
        refused(bytes(damaged))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_decode_or_raise_format_error(data: bytes) -> None:
    try:
        listed = decode(data)
    except FormatError:
        return
    assert listed.encode() == data  # what decodes is a list, byte for byte


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 2**64 - 1), st.integers(0, 2**32 - 1))
def test_arbitrary_rows_behind_a_good_head_and_hash(rows: bytes, size: int, count: int) -> None:
    """Past the magic, version and hash checks (a list crafted to pass them), whatever the
    rows say: a list, or a FormatError."""
    body = HEAD.pack(b"DVLC", 1, size, count) + rows
    try:
        listed = decode(body + xxhash.xxh3_128_digest(body))
    except FormatError:
        return
    assert listed.size == size == sum(n for _, n in listed.chunks)


# -- the chunker ---------------------------------------------------------------------------------
def cut_file(path: Path) -> list[tuple[str, bytes]]:
    return [(oid, bytes(data)) for oid, data in chunks.cut(str(path))]


def test_cut_covers_the_file_in_order_within_fastcdc_sizes(tmp_path: Path) -> None:
    data = random.Random(3).randbytes(3 << 20)
    path = tmp_path / "f"
    path.write_bytes(data)
    counted: list[int] = []
    found = [(oid, bytes(piece)) for oid, piece in chunks.cut(str(path), counted.append)]
    assert b"".join(piece for _, piece in found) == data
    assert all(oid == oid_of_bytes(piece) for oid, piece in found)
    assert sum(counted) == len(data)
    lengths = [len(piece) for _, piece in found]
    assert all(chunks.MINIMUM <= n <= chunks.MAXIMUM for n in lengths[:-1])
    assert 0 < lengths[-1] <= chunks.MAXIMUM
    average = len(data) / len(found)  # pyfastcdc's real average is AVERAGE + MINIMUM
    assert chunks.AVERAGE // 2 < average < 2 * (chunks.AVERAGE + chunks.MINIMUM)


@pytest.mark.parametrize("edit", ["overwrite", "insert-front"])
def test_an_edit_changes_only_the_chunks_around_it(tmp_path: Path, edit: str) -> None:
    rng = random.Random(4)
    v1 = rng.randbytes(3 << 20)
    if edit == "overwrite":
        at = len(v1) // 2
        v2 = v1[:at] + rng.randbytes(1000) + v1[at + 1000 :]
    else:
        v2 = rng.randbytes(200) + v1
    (tmp_path / "v1").write_bytes(v1)
    (tmp_path / "v2").write_bytes(v2)
    one, two = cut_file(tmp_path / "v1"), cut_file(tmp_path / "v2")
    old = {oid for oid, _ in one}
    new = [piece for oid, piece in two if oid not in old]
    assert 1 <= len(new) <= 3
    assert sum(len(piece) for piece in new) < 3 * chunks.MAXIMUM


def test_cut_of_a_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(chunks.cut(str(tmp_path / "nothing")))


def test_the_pure_python_chunker_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100_000)
    monkeypatch.setitem(sys.modules, "pyfastcdc.cy", None)  # the compiled extension is absent
    with pytest.raises(DvliteError, match="pyfastcdc is installed without its compiled") as exc:
        list(chunks.cut(str(path)))
    assert "PYFASTCDC_REQUIRE_CYTHON=1" in str(exc.value)
