"""The table of packed objects (``.dvlite/cache/packs.db``): lookups read it instead of every
pack's footer, and it follows the packs on disk whatever happened to them between runs (a pack
removed or brought in by hand, a damaged table, a table of another version)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

from helpers import ok, snapshot
from test_cache_packs import COUNT, _files, _packs

from dvlite.objects.packstore import PackStore


def _fsck(dvlite) -> dict:
    return json.loads(dvlite("fsck", "--json").stdout)


def _tamper(repo, *statements: str) -> None:
    """Run ``statements`` on the table, as another program (or a dying run) might."""
    table = sqlite3.connect(repo.cache_dir / "packs.db")
    for statement in statements:
        table.execute(statement)
    table.commit()
    table.close()


def _remove_table(repo) -> Path:
    table = repo.cache_dir / "packs.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{table}{suffix}").unlink(missing_ok=True)
    return table


def test_lookups_use_the_table_not_the_footers(repo, dvlite) -> None:
    _files(repo.root)
    ok(dvlite("add", "data"))
    [pack] = _packs(repo.cache_dir)
    table = sqlite3.connect(repo.cache_dir / "packs.db")
    assert table.execute("SELECT COUNT(*) FROM entries").fetchone() == (COUNT,)
    # spoil the footer in place, keeping the pack's size, inode and mtime: the table, not
    # the footer, still says where each object is, and each object's bytes are intact
    st = pack.stat()
    with open(pack, "r+b") as f:
        f.seek(st.st_size - 40)
        f.write(b"\0" * 40)
    os.utime(pack, ns=(st.st_atime_ns, st.st_mtime_ns))
    before = snapshot(repo.root / "data")
    shutil.rmtree(repo.root / "data")
    ok(dvlite("checkout"))
    assert snapshot(repo.root / "data") == before


def test_a_pack_removed_by_hand_is_dropped_from_the_table(repo, dvlite) -> None:
    _files(repo.root)
    ok(dvlite("add", "data"))
    [pack] = _packs(repo.cache_dir)
    aside = repo.root.parent / "aside.pack"
    shutil.move(pack, aside)
    report = _fsck(dvlite)
    assert not report["ok"] and len(report["missing"]) == COUNT
    store = PackStore(repo.cache_dir, str(repo.cache_dir / "tmp"))
    assert list(store.oids()) == []
    # brought back (copied in from elsewhere, say): the next run reads its footer again
    shutil.move(aside, pack)
    assert _fsck(dvlite)["ok"]


def test_a_damaged_table_is_started_again(repo, dvlite) -> None:
    _files(repo.root)
    ok(dvlite("add", "data"))
    table = _remove_table(repo)
    table.write_bytes(b"not a database at all" * 100)
    assert ok(dvlite("status")).stdout == ""
    assert _fsck(dvlite)["ok"]
    rows = sqlite3.connect(table).execute("SELECT COUNT(*) FROM entries").fetchone()
    assert rows == (COUNT,)


def test_a_table_of_another_version_is_made_again(repo, dvlite) -> None:
    _files(repo.root)
    ok(dvlite("add", "data"))
    _tamper(repo, "PRAGMA user_version = 99", "DELETE FROM entries")
    assert _fsck(dvlite)["ok"]


def test_a_table_that_lies_about_a_pack_is_corrected_by_its_stat(repo, dvlite) -> None:
    _files(repo.root)
    ok(dvlite("add", "data"))
    # as if a run died between the pack and its rows
    _tamper(repo, "DELETE FROM entries", "UPDATE packs SET mtime_ns = 0")
    assert _fsck(dvlite)["ok"]


def test_a_table_that_cannot_be_opened_is_kept_in_memory(repo, dvlite) -> None:
    _files(repo.root)
    ok(dvlite("add", "data"))
    table = _remove_table(repo)
    table.mkdir()  # not a file SQLite can open: every footer is read, for this run only
    assert _fsck(dvlite)["ok"]
    assert ok(dvlite("status")).stdout == ""
    assert table.is_dir() and not any(table.iterdir())
