"""Object ids: XXH3-128 of the bytes, written ``xxh128:<32 hex>``."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import xxhash

PREFIX = "xxh128:"
CHUNK = 1 << 20  # 1 MiB reads: large enough to amortise syscalls, small enough to stay flat
SMALL_FILE = 1 << 20  # files up to this size are read in one call
_OID_RE = re.compile(r"xxh128:[0-9a-f]{32}")
# Files at least this big are hashed in a thread pool; smaller ones in one thread, where the
# cost is syscalls and the GIL, and threads only add contention (measured: docs/benchmarks.md).
PARALLEL_MIN_SIZE = 4 << 20
HASH_THREADS = min(4, os.cpu_count() or 1)
T = TypeVar("T")
R = TypeVar("R")

hasher = xxhash.xxh3_128


def oid_of_bytes(data: bytes | memoryview) -> str:
    return PREFIX + xxhash.xxh3_128_hexdigest(data)


def oid_from_hasher(h: xxhash.xxh3_128) -> str:
    return PREFIX + h.hexdigest()


def is_oid(value: object) -> bool:
    return isinstance(value, str) and _OID_RE.fullmatch(value) is not None


def hex_of(oid: str) -> str:
    """The 32 hex digits of an oid (the part the store layout uses)."""
    return oid[len(PREFIX) :]


def hash_file(path: str | Path, on_bytes: Callable[[int], None] | None = None) -> tuple[str, int]:
    """Hash a file by streaming it; returns (oid, size). ``on_bytes`` is told of each chunk."""
    with open(path, "rb", buffering=0) as f:
        if os.fstat(f.fileno()).st_size <= SMALL_FILE:  # one read, no 1 MiB buffer to zero
            data = f.read()
            return oid_of_bytes(data), len(data)
        h = hasher()
        size = 0
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        while n := f.readinto(buf):
            h.update(view[:n])
            size += n
            if on_bytes:
                on_bytes(n)
    return oid_from_hasher(h), size


def map_by_size(work: Callable[[T], R], items: list[T], size: Callable[[T], int]) -> Iterator[R]:
    """``work`` on each of ``items``: those of PARALLEL_MIN_SIZE bytes or more in HASH_THREADS
    threads, meanwhile the others one by one in this thread (their results come first)."""
    big = [i for i in items if size(i) >= PARALLEL_MIN_SIZE]
    if not big:
        yield from map(work, items)
        return
    from concurrent.futures import ThreadPoolExecutor  # only for big files: costs to import

    with ThreadPoolExecutor(HASH_THREADS) as pool:
        results = pool.map(work, big)
        yield from (work(i) for i in items if size(i) < PARALLEL_MIN_SIZE)
        yield from results
