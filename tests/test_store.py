"""The object store shared by the cache and the folder remote, and the one fan-out lister."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dvlite.errors import CorruptObjectError
from dvlite.objects import fsutil
from dvlite.objects.hashing import hex_of, oid_of_bytes
from dvlite.objects.store import ObjectStore, fanout_keys

KEY = "ab" + "0" * 30


def test_fanout_keys_lists_only_fan_out_names(tmp_path: Path) -> None:
    (tmp_path / "ab").mkdir()
    (tmp_path / "cd").mkdir()
    tmp = fsutil.tmp_in(str(tmp_path / "ab"))
    for name in ["ab/" + "0" * 30, "cd/" + "f" * 30, "ab/" + "1" * 29, "ab/" + "G" * 30, tmp]:
        Path(tmp_path, name).write_text("x")
    (tmp_path / "zz").mkdir()
    (tmp_path / "zz" / ("2" * 30)).write_text("not a prefix")
    (tmp_path / "ef").write_text("a file where a prefix folder would be")
    assert fanout_keys(tmp_path) == [KEY, "cd" + "f" * 30]
    assert fanout_keys(tmp_path, ["cd", "ef", "00"]) == ["cd" + "f" * 30]
    assert fanout_keys(tmp_path / "missing") == []


def test_a_store_without_tmp_dir_writes_beside_each_object(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "remote")
    src = tmp_path / "src"
    src.write_bytes(b"payload")
    oid = oid_of_bytes(b"payload")
    assert store.import_file(str(src), oid, where="here") == (oid, 7)
    assert stat.S_IMODE(os.stat(store.path(oid)).st_mode) == 0o444
    assert store.iter_oids() == [oid] and store.existing([oid, oid]) == {oid}
    assert store.read_bytes(oid) == b"payload" and store.verify(oid) == oid
    other = oid_of_bytes(b"other")
    with pytest.raises(CorruptObjectError) as caught:
        store.import_file(str(src), other, where="there")
    assert (caught.value.where, caught.value.actual) == ("there", oid)
    folder = Path(store.path(other)).parent
    assert os.listdir(folder) == []  # the temporary file beside it is gone
    assert os.listdir(store.root) == ["objects"]
    assert hex_of(other)[:2] == folder.name


def test_remove_tree_removes_read_only_folders_and_never_follows_a_link(tmp_path: Path) -> None:
    """What repro clears before a stage runs, and an experiment's work tree: read-only files
    and folders (linked from the cache) go, and a link's target keeps its read-only mode."""
    target = tmp_path / "object"
    target.write_text("cached")
    target.chmod(0o444)
    tree = tmp_path / "out"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "file").write_text("x")
    (tree / "sub" / "link").symlink_to(target)
    (tree / "sub" / "file").chmod(0o444)
    (tree / "sub").chmod(0o555)
    fsutil.remove_tree(tree)
    assert not tree.exists()
    assert stat.S_IMODE(target.stat().st_mode) == 0o444
