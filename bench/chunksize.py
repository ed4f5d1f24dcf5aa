"""FastCDC's sizes, for the benchmark only (dvlite's own stay as they are):

    python bench/chunksize.py AVG_KIB ARGS...   dvlite ARGS... with chunks of another size
    python bench/chunksize.py speed FILE        seconds to cut and hash FILE, as a push does

The first sets ``dvlite.objects.chunks.AVERAGE`` to AVG_KIB KiB, ``MINIMUM`` to an eighth of
it and ``MAXIMUM`` to twice it (dvlite's 64 / 8 / 128 KiB follow the same rule), then runs
dvlite's CLI in this process, as the ``dvlite`` executable would. The second times
``chunks.cut`` over a file plus the whole-file hash ``PackUpload`` computes in the same loop,
on one core, and prints the seconds.

``study`` (imported by bench/chunks.py) cuts the model and its edited versions with each size
straight through pyfastcdc and works out what a push of each version would send: the chunks
v1 lacks, in packs sealed as ``PackUpload`` seals them, the chunk list, the index file.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path


def sizes_for(average: int) -> tuple[int, int, int]:
    """(average, minimum, maximum) of a FastCDC average, by dvlite's rule."""
    return average, average // 8, average * 2


def _cut(path: Path, average: int) -> Iterator[tuple[bytes, int]]:
    """(XXH3-128 digest, length) of each chunk of ``path`` at ``average``."""
    import xxhash
    from pyfastcdc.cy import FastCDC

    avg, low, high = sizes_for(average)
    with open(path, "rb", buffering=0) as f:
        for chunk in FastCDC(avg, min_size=low, max_size=high).cut_stream(f):
            yield xxhash.xxh3_128_digest(chunk.data), len(chunk.data)


@dataclass
class Push:
    """What a push of one version sends after v1's: its new chunks, in packs."""

    new_bytes: int = 0  # the chunks' own bytes
    new_chunks: int = 0
    packs: int = 0
    pack_bytes: int = 0  # the packs as sent (entry headers, footers, the chunk list)
    index_bytes: int = 0

    @property
    def requests(self) -> int:
        return 1 + self.packs + 1  # LIST of index/, the packs, the index file


@dataclass
class Row:
    average: int
    chunks: int = 0  # of v1
    mean: float = 0.0  # v1's mean chunk length
    list_bytes: int = 0  # v1's chunk list
    pushes: dict[str, Push] = field(default_factory=dict)  # version -> its push (v1: the first)


def _push(found: list[tuple[bytes, int]], known: set[bytes], earlier: int) -> Push:
    """The packs and index file ``PackUpload`` would send for a file cut into ``found`` to a
    remote holding the chunks ``known`` in ``earlier`` packs."""
    from dvlite.objects import pack
    from dvlite.remote.packed import PACK_SIZE

    p, fill, entries, seen = Push(), 0, 0, set()

    def add(n: int) -> None:
        nonlocal fill, entries
        fill += pack.HEADER_SIZE + n
        entries += 1
        if fill >= PACK_SIZE:
            seal()

    def seal() -> None:
        nonlocal fill, entries
        if entries:
            p.packs += 1
            p.pack_bytes += fill + entries * pack.ROW_SIZE + pack.TRAILER_SIZE
            fill = entries = 0

    for digest, n in found:
        if digest in seen:
            continue
        seen.add(digest)
        if digest not in known:
            p.new_bytes += n
            p.new_chunks += 1
            add(n)
    add(len(_listed(found)))
    seal()
    # the index file names every chunk of the file (new ones and those reused, with the packs
    # they lie in) and its list
    reused = earlier if len(seen) > p.new_chunks else 0
    p.index_bytes = _index_size(len(seen) + 1, p.packs + reused)
    return p


def _listed(found: list[tuple[bytes, int]]) -> bytes:
    from dvlite.objects import chunks

    size = sum(n for _, n in found)
    return chunks.ChunkList(size, tuple(("xxh128:" + d.hex(), n) for d, n in found)).encode()


def _index_size(rows: int, packs: int) -> int:
    from dvlite.objects import packindex
    from dvlite.objects.pack import Entry

    fake = {f"xxh128:{i:032x}": [] for i in range(packs)}
    first = next(iter(fake))
    fake[first] = [Entry(f"xxh128:{i:032x}", 3, 32, 1) for i in range(rows)]
    return len(packindex.encode(fake)[1])


def study(v1: Path, versions: dict[str, Path], averages: Sequence[int]) -> list[Row]:
    """Each average: v1's chunks, and what pushing each of ``versions`` after v1 sends."""
    rows = []
    for average in averages:
        found = list(_cut(v1, average))
        first = _push(found, set(), 0)
        row = Row(average, len(found), sum(n for _, n in found) / max(len(found), 1))
        row.list_bytes = len(_listed(found))
        row.pushes["v1"] = first
        known = {d for d, _ in found}
        for name, path in versions.items():
            row.pushes[name] = _push(list(_cut(path, average)), known, first.packs)
        rows.append(row)
    return rows


def study_notes(
    prefix: str, v1: Path, versions: dict[str, Path], averages: Sequence[int]
) -> list[str]:
    """The study's lines for the report, one per average."""
    from bench.harness import human_bytes

    size = v1.stat().st_size
    lines = []
    for row in study(v1, versions, averages):
        avg, low, high = (n >> 10 for n in sizes_for(row.average))
        first = row.pushes["v1"]
        parts = [
            f"{name}: {human_bytes(p.new_bytes)} new ({p.new_bytes / size:.2%}) in "
            f"{p.new_chunks:,} chunk{'s' * (p.new_chunks != 1)}, {p.requests} requests"
            for name in versions
            if (p := row.pushes[name])
        ]
        lines.append(
            f"{prefix}: FastCDC {avg}/{low}/{high} KiB (average/min/max; pyfastcdc): "
            f"{row.chunks:,} chunks of v1 (mean {row.mean / 1024:.1f} KiB), chunk list "
            f"{human_bytes(row.list_bytes)}, index file of a push {human_bytes(first.index_bytes)}"
            f" (v1's push: {first.requests} requests); a v2 push (study): " + "; ".join(parts)
        )
    return lines


def speed(path: str) -> float:
    """Seconds to cut ``path`` and hash it whole, in one read, as ``PackUpload`` does."""
    from dvlite.objects import chunks
    from dvlite.objects.hashing import hasher

    start = time.perf_counter()
    whole = hasher()
    for _, data in chunks.cut(path):
        whole.update(data)
    whole.hexdigest()
    return time.perf_counter() - start


def main() -> None:
    del sys.path[0]  # bench/ itself: its git.py would shadow gitpython's package
    what = sys.argv.pop(1)
    if what == "speed":
        print(f"{speed(sys.argv[1]):.6f}")
        return
    from dvlite.objects import chunks

    chunks.AVERAGE, chunks.MINIMUM, chunks.MAXIMUM = sizes_for(int(what) << 10)
    from dvlite.cli import main as dvlite

    sys.argv[0] = "dvlite"
    dvlite()


if __name__ == "__main__":
    main()
