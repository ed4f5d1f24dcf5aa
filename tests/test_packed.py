"""Storage format 2 on a folder remote, below the CLI: range planning, the catalog of index
files (superseded ones left out, kept ones read from the cache), and create-only writes."""

from __future__ import annotations

import os
from pathlib import Path

from helpers import oid

from dvlite.objects import packindex
from dvlite.objects.pack import FILE_KIND, Entry
from dvlite.objects.packindex import Location
from dvlite.remote import RemoteConfig, from_config
from dvlite.remote.packed import (
    RANGE_GAP,
    RANGE_MAX,
    Obj,
    index_key,
    load_catalog,
    ranges,
)


def _at(pack: str, offset: int, length: int) -> tuple[Obj, Location]:
    return Obj(f"xxh128:{offset:032x}", length), Location(pack, FILE_KIND, offset, length)


def test_neighbours_in_a_pack_are_read_together_and_packs_apart() -> None:
    p, q = "xxh128:" + "a" * 32, "xxh128:" + "b" * 32
    wanted = [_at(q, 32, 10), _at(p, 100, 10), _at(p, 32, 10), _at(p, 142, 5)]
    got = [(r.pack, r.start, r.end, len(r.members)) for r in ranges(wanted)]
    assert got == [(p, 32, 147, 3), (q, 32, 42, 1)]


def test_a_gap_or_a_size_limit_splits_a_range() -> None:
    p = "xxh128:" + "a" * 32
    far = 32 + 10 + RANGE_GAP + 1
    assert len(ranges([_at(p, 32, 10), _at(p, far, 10)])) == 2
    big = RANGE_MAX // 2 + 1
    split = ranges([_at(p, 32, big), _at(p, 32 + big + 32, big)])
    assert [(r.start, r.end) for r in split] == [(32, 32 + big), (64 + big, 64 + 2 * big)]
    # one object larger than the limit is still one read
    [alone] = ranges([_at(p, 32, RANGE_MAX * 2)])
    assert alone.end - alone.start == RANGE_MAX * 2


def _remote(root: Path):  # type: ignore[no-untyped-def]
    root.mkdir(exist_ok=True)
    return from_config(RemoteConfig("r", str(root), {"format": "2"}), root)


def _index(*oids: str, supersedes: tuple[str, ...] = ()) -> tuple[str, bytes]:
    pack_id = "xxh128:" + "c" * 32
    entries = [Entry(o, FILE_KIND, 32 + 64 * i, 16) for i, o in enumerate(oids)]
    return packindex.encode({pack_id: entries}, supersedes=supersedes)


def test_a_superseded_index_file_is_left_out(tmp_path: Path) -> None:
    remote = _remote(tmp_path / "remote")
    a, b = oid(b"a"), oid(b"b")
    old_id, old = _index(a, b)
    new_id, new = _index(b, supersedes=(old_id,))
    remote.write_keys({index_key(old_id): old, index_key(new_id): new})
    catalog = load_catalog(remote, None)
    assert set(catalog.indexes) == {new_id}
    assert set(catalog.objects) == {b}


def test_kept_index_files_are_read_from_the_cache_and_checked(tmp_path: Path) -> None:
    remote = _remote(tmp_path / "remote")
    keep = tmp_path / "keep"
    index_id, data = _index(oid(b"a"))
    remote.write_keys({index_key(index_id): data})
    assert set(load_catalog(remote, str(keep)).objects) == {oid(b"a")}
    kept = keep / index_id.split(":")[1]
    assert kept.read_bytes() == data
    # the remote's copy is gone: the kept one answers (the listing still names it)
    remote_file = tmp_path / "remote" / index_key(index_id)
    remote_file.chmod(0o644)
    remote_file.write_bytes(b"")
    assert set(load_catalog(remote, str(keep)).objects) == {oid(b"a")}
    # a kept copy that does not hash to its name is not used: the remote's is read again
    kept.write_bytes(b"garbage")
    catalog = load_catalog(remote, str(keep))
    assert catalog.damaged == [index_id] and not catalog.objects


def test_a_file_already_there_is_never_rewritten(tmp_path: Path) -> None:
    remote = _remote(tmp_path / "remote")
    index_id, data = _index(oid(b"a"))
    remote.write_keys({index_key(index_id): data})
    path = tmp_path / "remote" / index_key(index_id)
    before = os.stat(path)
    remote.write_keys({index_key(index_id): data})
    after = os.stat(path)
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    assert not [n for n in os.listdir(path.parent) if n != path.name]  # no temporary left
