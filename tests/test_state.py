import os
import shutil

from helpers import snapshot

from dvlite.objects.state import State


def _dataset(repo, dvlite) -> None:
    (repo.root / "d" / "s").mkdir(parents=True)
    (repo.root / "d" / "a").write_text("a")
    (repo.root / "d" / "s" / "b").write_text("b")
    assert dvlite("add", "d").exit_code == 0


def _state_files(repo) -> list:
    return [p for p in repo.tmp_dir.iterdir() if p.name.startswith("state.db")]


def test_deleting_the_state_db_loses_nothing(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    (repo.root / "d" / "a").write_text("changed")
    for p in _state_files(repo):
        p.unlink()
    assert dvlite("status").stdout == "d.dvl\n    modified:     d/a\n"
    for p in _state_files(repo):
        p.unlink()
    assert dvlite("checkout", "--force").exit_code == 0
    assert (repo.root / "d" / "a").read_text() == "a"
    for p in _state_files(repo):
        p.unlink()
    shutil.rmtree(repo.root / "d")
    assert dvlite("checkout").exit_code == 0
    assert dvlite("status").stdout == ""


def test_corrupt_state_db_is_rebuilt(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    State(repo.tmp_dir / "state.db").close()
    for p in _state_files(repo):
        p.write_bytes(b"this is not a database" * 100)
    before = snapshot(repo.root)
    assert dvlite("status").stdout == ""
    (repo.root / "d" / "a").write_text("changed")
    assert dvlite("status").stdout == "d.dvl\n    modified:     d/a\n"
    assert dvlite("add", "d").exit_code == 0
    assert snapshot(repo.root) != before


def test_truncated_state_db_is_rebuilt(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    db = repo.tmp_dir / "state.db"
    data = db.read_bytes()
    db.write_bytes(data[:200] + b"\xff" * max(0, len(data) - 200))
    assert dvlite("status").stdout == ""
    assert dvlite("checkout").exit_code == 0


def test_state_rows_round_trip(tmp_path) -> None:
    state = State(tmp_path / "s.db")
    state.save(
        [
            ("d/a", 1, 2, 3, "xxh128:" + "0" * 32),
            ("d/ab", 4, 5, 6, "o"),
            ("d0", 7, 8, 9, "p"),
            ("d", 1, 1, 1, "q"),
        ]
    )
    assert state.load("d") == {
        "d/a": ("d/a", 1, 2, 3, "xxh128:" + "0" * 32),
        "d/ab": ("d/ab", 4, 5, 6, "o"),
        "d": ("d", 1, 1, 1, "q"),
    }
    state.close()


def test_unwritable_state_folder_is_not_an_error(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    shutil.rmtree(repo.tmp_dir)
    repo.tmp_dir.write_text("a file where the folder should be")
    try:
        result = dvlite("status")
        assert (result.exit_code, result.stdout) == (0, ""), result.output
    finally:
        os.unlink(repo.tmp_dir)


def test_damaged_pages_are_rebuilt(tmp_path) -> None:
    path = tmp_path / "state.db"
    state = State(path)
    state.save([(f"d/{i:05}", i, i, i, "o") for i in range(5000)])
    state.close()
    data = bytearray(path.read_bytes())
    for offset in range(8192, len(data), 4096):  # keep the header, damage every other page
        data[offset + 100 : offset + 300] = b"\xff" * 200
    path.write_bytes(bytes(data))
    state = State(path)
    assert state.load("d") == {}
    state.save([("d/x", 1, 2, 3, "o")])
    assert state.load("d") == {"d/x": ("d/x", 1, 2, 3, "o")}
    state.close()


def test_status_with_damaged_state_pages(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    state = State(repo.tmp_dir / "state.db")
    state.save([(f"zz/{i:05}", i, i, i, "o") for i in range(5000)])
    state.close()
    db = repo.tmp_dir / "state.db"
    data = bytearray(db.read_bytes())
    for offset in range(8192, len(data), 4096):
        data[offset + 100 : offset + 300] = b"\xff" * 200
    db.write_bytes(bytes(data))
    result = dvlite("status")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
