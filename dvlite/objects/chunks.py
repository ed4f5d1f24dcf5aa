"""Content-defined chunks of large files (storage format 2, docs/formats.md): FastCDC cuts a
file where its bytes say, so an edit changes only the chunks around it and a new version of a
model sends little. A chunk list, stored under the file's own oid, names its chunks in order.
Nothing else sees chunks: a pointer names the file, and a file rebuilt from chunks is verified
against its oid. ``decode`` checks every count and length of a list before it is used."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import xxhash

from dvlite.errors import CorruptObjectError, DvliteError
from dvlite.objects.hashing import oid_of_bytes
from dvlite.objects.pack import FormatError, NewerFormatError, digest_of, oid_of_digest
from dvlite.progress import OnBytes

if TYPE_CHECKING:
    from pyfastcdc.cy import FastCDC

CHUNKED_MIN = 4 << 20  # files this large are chunked when pushed to a format 2 remote
# FastCDC's sizes: Xet's, measured against larger ones in docs/benchmarks.md. pyfastcdc's
# average is ``AVERAGE + MINIMUM`` (it skips MINIMUM bytes before it looks for a cut).
AVERAGE, MINIMUM, MAXIMUM = 64 << 10, 8 << 10, 128 << 10
CHUNK_MAX = 16 << 20  # a list naming a longer chunk is not one of ours
LIST_MAX = 64 << 20  # nor a longer list (3 million chunks: a file of 200 GiB or more)

VERSION = 1
MAGIC = b"DVLC"
_HEAD = struct.Struct("<4sIQI")  # magic, version, file size, chunk count
_ROW = struct.Struct("<16sI")  # chunk oid digest, chunk length
_HASH = 16  # the list's own XXH3-128, last


@dataclass(frozen=True, slots=True)
class ChunkList:
    """A file's chunks in order: (oid, length) each; their lengths add up to ``size``."""

    size: int
    chunks: tuple[tuple[str, int], ...]

    def pieces(self) -> Iterator[tuple[str, int, int]]:
        """Each chunk with where it lies in the file: (oid, offset, length)."""
        at = 0
        for oid, length in self.chunks:
            yield oid, at, length
            at += length

    def encode(self) -> bytes:
        body = b"".join(
            [
                _HEAD.pack(MAGIC, VERSION, self.size, len(self.chunks)),
                *(_ROW.pack(digest_of(oid), n) for oid, n in self.chunks),
            ]
        )
        return body + xxhash.xxh3_128_digest(body)


def decode(data: bytes) -> ChunkList:
    """A chunk list from its bytes (crafted or damaged ones raise FormatError)."""
    if len(data) < _HEAD.size + _HASH:
        raise FormatError(f"a chunk list of {len(data)} bytes is too short")
    magic, version, size, count = _HEAD.unpack_from(data)
    if magic != MAGIC:
        raise FormatError("not a dvlite chunk list (no magic)")
    if version != VERSION:
        raise NewerFormatError(f"chunk list version {version} (this dvlite reads {VERSION})")
    if len(data) != _HEAD.size + count * _ROW.size + _HASH:
        raise FormatError("a chunk list's count does not match its size")
    if xxhash.xxh3_128_digest(data[:-_HASH]) != data[-_HASH:]:
        raise FormatError("a chunk list does not match its hash")
    rows = memoryview(data)[_HEAD.size : -_HASH]
    chunks = tuple((oid_of_digest(d), n) for d, n in _ROW.iter_unpack(rows))
    if any(not 0 < n <= CHUNK_MAX for _, n in chunks) or sum(n for _, n in chunks) != size:
        raise FormatError("a chunk list's lengths do not add up to its file")
    return ChunkList(size, chunks)


def decode_at(data: bytes, oid: str, where: str) -> ChunkList:
    """The chunk list of ``oid`` read at ``where``; a damaged one is a CorruptObjectError."""
    try:
        return decode(data)
    except FormatError as exc:
        raise CorruptObjectError(oid, f"{where}: {exc}") from None


def _chunker() -> FastCDC:
    """pyfastcdc's compiled chunker. Its pure-Python fallback chunks at ~15 MB/s, a hundred
    times slower: dvlite refuses it rather than push a big file for an hour."""
    try:
        from pyfastcdc.cy import FastCDC
    except ImportError:
        raise DvliteError(
            "pyfastcdc is installed without its compiled extension, which dvlite needs to push "
            "large files to a format 2 remote; reinstall it: "
            "PYFASTCDC_REQUIRE_CYTHON=1 pip install --force-reinstall --no-binary pyfastcdc "
            "pyfastcdc"
        ) from None
    return FastCDC(AVERAGE, min_size=MINIMUM, max_size=MAXIMUM)


def cut(path: str, on_bytes: OnBytes | None = None) -> Iterator[tuple[str, memoryview]]:
    """The chunks of the file at ``path`` in order, each (oid, bytes); the bytes are valid only
    until the next chunk is asked for."""
    chunker = _chunker()
    with open(path, "rb", buffering=0) as f:
        for chunk in chunker.cut_stream(f):
            data = chunk.data
            if on_bytes:
                on_bytes(len(data))
            yield oid_of_bytes(data), data
