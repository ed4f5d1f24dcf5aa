"""``fsck --remote`` on storage format 2: every pack an index file names is read once, front
to back in bounded ranges, and checked against its name (the hash of its bytes), its footer
and the index files; every object in it is hashed (a chunk list is decoded, and its chunks
looked up). Whole objects are hashed where they lie."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

from dvlite.errors import RemoteError
from dvlite.objects import chunks
from dvlite.objects.hashing import hasher, oid_from_hasher
from dvlite.objects.pack import LIST_KIND, Entry, NewerFormatError
from dvlite.objects.packindex import Location
from dvlite.progress import Advance
from dvlite.remote import packed
from dvlite.remote.base import Remote

PIECE = packed.RANGE_MAX  # bytes of a pack read at once
PIECES = 2  # ranges read at once: a pack of 32 MiB in one go


@dataclass
class Checked:
    """What a check of a remote's objects found."""

    hashes: dict[str, str | None] = field(default_factory=dict)  # oid -> what its bytes hash to
    where: dict[str, str] = field(default_factory=dict)  # corrupt ones -> where (URL, bytes)
    named: int = 0  # objects the index files name (or the listing lists, on format 1)
    packs: int = 0  # packs read
    damaged_packs: list[str] = field(default_factory=list)  # "URL: what is wrong with it"
    damaged_index: list[str] = field(default_factory=list)
    orphans: int = 0  # packs no index file names (of a killed push, or one not finished yet)
    owners: dict[str, str] = field(default_factory=dict)  # chunk -> a file whose list names it


def check_packed(remote: Remote, progress: Advance | None = None) -> Checked:
    """Read every pack and whole object the live index files of ``remote`` name; RemoteError
    for a pack of a format version this dvlite does not know."""
    catalog = remote.catalog
    found = Checked()
    for index_id in catalog.damaged:
        rebuilt = f"rebuilt from the packs' footers as {_index_url(remote, catalog.rebuilt or '')}"
        found.damaged_index.append(
            f"{_index_url(remote, index_id)}: not a sound index file; {rebuilt}"
        )
    members: dict[str, dict[str, Location]] = {}  # pack id ("" for whole objects) -> objects
    for f in catalog.indexes.values():
        for oid, loc in f.objects.items():
            members.setdefault(loc.pack, {})[oid] = loc
    whole = sorted(members.pop("", {}))
    found.named = len({oid for objects in members.values() for oid in objects} | set(whole))
    listed = packed.pack_ids(remote.find_keys(packed.PACK_DIR))
    found.orphans = len(listed - members.keys())
    footers = packed.read_footers(remote, sorted(listed & members.keys()))
    for pack_id, objects in sorted(members.items()):
        url = remote.display_key(packed.pack_key(pack_id))
        footer = footers.get(pack_id, FileNotFoundError())
        if isinstance(footer, FileNotFoundError):
            found.damaged_packs.append(f"{url}: missing ({len(objects)} objects are named in it)")
            continue  # its objects stay out of ``hashes``: missing, unless another pack has them
        if isinstance(footer, NewerFormatError):
            raise RemoteError(f"{remote.label}: {url}: {footer}; upgrade dvlite to read it")
        problems, bad = _check_pack(remote, pack_id, objects, footer, found)
        found.packs += 1
        if progress:
            progress(len(objects), sum(loc.length for loc in objects.values()))
        if problems:
            counted = (
                f"{bad} of its {len(objects)} objects corrupt" if bad else "its objects intact"
            )
            found.damaged_packs.append(f"{url}: {'; '.join(problems)} ({counted})")
    for oid, actual in remote.hash_objects(whole, progress).items():
        if actual is not None:  # else missing, as the walk of the tracked data will say
            _found(found, oid, actual, remote.url_of(oid))
    return found


def _check_pack(
    remote: Remote,
    pack_id: str,
    objects: dict[str, Location],
    footer: packed.Footer | Exception,
    found: Checked,
) -> tuple[list[str], int]:
    """Read one pack whole, a range at a time, hashing it and each of ``objects`` in it; what
    is wrong with it, if anything, and how many of them are corrupt."""
    problems: list[str] = []
    if isinstance(footer, packed.Footer):
        end, whole = footer.size - len(footer.tail), hasher()
        listed = {e.oid: e for e in footer.entries}
        if any(
            listed.get(oid) != Entry(oid, loc.kind, loc.offset, loc.length)
            for oid, loc in objects.items()
        ):
            problems.append("its footer does not agree with the index files")
    else:
        problems.append(f"its footer: {footer}")
        end, whole = max(loc.end for loc in objects.values()), None
    key = packed.pack_key(pack_id)
    order = sorted(objects.items(), key=lambda item: item[1].offset)
    hashers = {oid: hasher() for oid, loc in objects.items() if loc.kind != LIST_KIND}
    lists = {oid: bytearray() for oid, loc in objects.items() if loc.kind == LIST_KIND}
    got = dict.fromkeys(objects, 0)
    first = stop = 0  # the first object not read to its end; the bytes read
    for start, data in _pieces(remote, key, end):
        stop = start + len(data)
        for oid, loc in itertools.islice(order, first, None):
            if loc.offset >= stop:
                break
            if (lo := max(loc.offset, start)) < (hi := min(loc.end, stop)):
                piece = data[lo - start : hi - start]
                hashers[oid].update(piece) if oid in hashers else lists[oid].extend(piece)
                got[oid] += hi - lo
        while first < len(order) and order[first][1].end <= stop:
            first += 1
        if whole is not None:
            whole.update(data)
    if stop < end:
        problems.append(f"it ends at byte {stop}, before its objects do")
    elif isinstance(footer, packed.Footer) and whole is not None:
        whole.update(footer.tail)
        if oid_from_hasher(whole) != pack_id:
            problems.append("its bytes do not hash to its name")
    bad = 0
    for oid, loc in order:
        where = f"{remote.display_key(key)} (bytes {loc.offset}-{loc.end})"
        if got[oid] != loc.length:
            actual = ""
        elif oid in lists:
            actual, where = _check_list(remote, oid, bytes(lists[oid]), where, found.owners)
        else:
            actual = oid_from_hasher(hashers[oid])
        bad += actual != oid
        _found(found, oid, actual, where)
    return problems, bad


def _check_list(
    remote: Remote, oid: str, data: bytes, where: str, owners: dict[str, str]
) -> tuple[str, str]:
    """What a chunk list counts as: its file's oid when it is sound and every chunk it names
    is named by an index file (each chunk is checked where it lies, and noted in ``owners`` as
    one of this file's), else "" and why."""
    try:
        listed = chunks.decode(data)
    except chunks.FormatError as exc:
        return "", f"{where}: {exc}"
    for chunk, _ in listed.chunks:
        owners.setdefault(chunk, oid)
    lacking = [c for c, _ in listed.chunks if c not in remote.catalog.objects]
    if lacking:
        return "", f"{where}: a chunk list naming {len(lacking)} chunk(s) no index file names"
    return oid, where


def _pieces(remote: Remote, key: str, end: int) -> Iterator[tuple[int, memoryview]]:
    """Bytes 0-``end`` of a file, ``PIECE`` at a time (``PIECES`` read at once), each with
    where it starts; the last one short when the file is."""
    starts = range(0, end, PIECE)
    for at in range(0, len(starts), PIECES):
        batch = starts[at : at + PIECES]
        reads = remote.read_ranges([(key, s, min(s + PIECE, end)) for s in batch])
        for start, read in zip(batch, reads, strict=True):
            data = memoryview(b"" if isinstance(read, BaseException) else read)
            yield start, data
            if len(data) < min(PIECE, end - start):
                return


def _found(found: Checked, oid: str, actual: str, where: str) -> None:
    """Note what one copy of an object hashes to: one corrupt copy makes it corrupt."""
    if oid not in found.where:
        found.hashes[oid] = actual
        if actual != oid:
            found.where[oid] = where


def _index_url(remote: Remote, index_id: str) -> str:
    return remote.display_key(packed.index_key(index_id))
