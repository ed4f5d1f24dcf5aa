"""The state database by folder, and the trees the cache knows complete (issue 13): an
unchanged folder costs one row, an upgrade re-hashes nothing, and a damaged or stale list
of complete trees is never believed."""

from __future__ import annotations

import json
import os
import sqlite3

from helpers import object_path, oid

from dvlite.objects.state import State


def _data(root, folders: int = 3, files: int = 4) -> None:
    for d in range(folders):
        (root / "data" / f"d{d}").mkdir(parents=True)
        for i in range(files):
            (root / "data" / f"d{d}" / f"{i}.txt").write_text(f"{d} {i}\n")


def _rows(repo, table: str) -> int:
    with sqlite3.connect(repo.tmp_dir / "state.db") as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_an_unchanged_folder_is_not_looked_up_file_by_file(repo, dvlite) -> None:
    _data(repo.root)
    assert dvlite("add", "data").exit_code == 0
    assert (_rows(repo, "files"), _rows(repo, "folders")) == (12, 4)
    with sqlite3.connect(repo.tmp_dir / "state.db") as db:
        db.execute("DELETE FROM files")  # the folders' rows alone say nothing changed
    assert dvlite("status").stdout == ""
    assert _rows(repo, "files") == 0  # nothing was hashed again
    (repo.root / "data" / "d1" / "2.txt").write_text("changed\n")
    result = dvlite("status", "--json")
    assert json.loads(result.stdout) == [
        {"source": "data.dvl", "changes": [{"path": "data/d1/2.txt", "state": "modified"}]}
    ]
    assert _rows(repo, "files") == 4  # only the changed folder's files were read


def test_a_version_1_state_database_keeps_its_rows(tmp_path) -> None:
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE state (path TEXT PRIMARY KEY, inode INTEGER NOT NULL, "
            "mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL, oid TEXT NOT NULL) WITHOUT ROWID"
        )
        db.executemany(
            "INSERT INTO state VALUES (?, ?, ?, ?, ?)",
            [("d/s/a", 1, 2, 3, "o1"), ("top", 4, 5, 6, "o2")],
        )
    state = State(path)
    assert state.files_in("d/s") == {"a": (1, 2, 3, "o1")}
    assert state.load("top") == {"top": ("top", 4, 5, 6, "o2")}
    state.close()
    with sqlite3.connect(path) as db:
        tables = {t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"files", "folders"}


def test_a_state_database_of_an_unknown_version_is_started_again(tmp_path) -> None:
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE files (x)")
        db.execute("PRAGMA user_version = 99")
    state = State(path)
    state.save([("d/a", 1, 2, 3, "o")])
    assert state.files_in("d") == {"a": (1, 2, 3, "o")}
    state.close()


def test_an_object_removed_by_hand_is_reported_although_its_tree_was_complete(repo, dvlite) -> None:
    _data(repo.root)
    assert dvlite("add", "data").exit_code == 0
    assert dvlite("status").stdout == ""
    assert (repo.cache_dir / "complete").is_file()  # add checked every object
    gone = object_path(repo.cache_dir, oid(b"2 3\n"))
    os.chmod(gone, 0o644)
    gone.unlink()
    result = dvlite("status", "--json")
    assert json.loads(result.stdout) == [
        {"source": "data.dvl", "changes": [{"path": "data/d2/3.txt", "state": "not in cache"}]}
    ]
    assert dvlite("add", "data").exit_code == 0  # stored again, as before
    assert dvlite("status").stdout == ""


def test_a_damaged_list_of_complete_trees_is_not_believed(repo, dvlite) -> None:
    _data(repo.root)
    assert dvlite("add", "data").exit_code == 0
    listed = repo.cache_dir / "complete"
    head = listed.read_text().split("\n")[0]
    gone = object_path(repo.cache_dir, oid(b"0 0\n"))
    os.chmod(gone, 0o644)
    gone.unlink()
    for text in (b"\xff\xfe garbage", head.encode() + b"\n" + b"z" * 32, b""):
        listed.write_bytes(text)
        result = dvlite("status", "--json")
        assert result.exit_code == 0, result.output
        changes = json.loads(result.stdout)[0]["changes"]
        assert changes == [{"path": "data/d0/0.txt", "state": "not in cache"}]
