import json
import os
import shutil

from helpers import object_path, oid


def _dataset(repo, dvlite) -> None:
    (repo.root / "d").mkdir()
    (repo.root / "d" / "a").write_text("a")
    (repo.root / "d" / "b").write_text("b")
    assert dvlite("add", "d").exit_code == 0


def test_all_good(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    result = dvlite("fsck")
    assert (result.exit_code, result.stdout) == (0, "checked 3 objects: all good\n")
    assert json.loads(dvlite("fsck", "--json").stdout) == {
        "checked": 3,
        "corrupt": [],
        "missing": [],
        "repaired": 0,
        "temporary": [],
        "ok": True,
    }


def test_empty_cache(repo, dvlite) -> None:
    assert dvlite("fsck").stdout == "checked 0 objects: all good\n"


def test_corrupt_object(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    obj = object_path(repo.cache_dir, oid(b"a"))
    os.chmod(obj, 0o644)
    obj.write_bytes(b"tampered")
    result = dvlite("fsck")
    assert result.exit_code == 1
    assert result.stdout == f"corrupt: {oid(b'a')}\nchecked 3 objects: 1 corrupt, 0 missing\n"
    report = json.loads(dvlite("fsck", "--json").stdout)
    assert (report["corrupt"], report["ok"]) == ([oid(b"a")], False)


def test_missing_object(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    obj = object_path(repo.cache_dir, oid(b"b"))
    os.chmod(obj, 0o644)
    obj.unlink()
    result = dvlite("fsck")
    assert result.exit_code == 1
    assert result.stdout == "missing: d/b\nchecked 2 objects: 0 corrupt, 1 missing\n"
    shutil.rmtree(repo.cache_dir)
    result = dvlite("fsck", "--json")
    assert (result.exit_code, json.loads(result.stdout)["missing"]) == (1, ["d"])


def test_stray_files_in_the_cache_are_ignored(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    (repo.cache_dir / "objects" / "README").write_text("not an object")
    (repo.cache_dir / "objects" / "zz").mkdir()
    (repo.cache_dir / "objects" / "zz" / "short").write_text("x")
    assert dvlite("fsck").exit_code == 0
