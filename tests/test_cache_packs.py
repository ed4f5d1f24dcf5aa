"""Packs in the local cache: ``add`` and fetch of many small files store them as packs, and every
reader of the cache (status, checkout, push, fsck, gc) treats a packed object as any other."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from helpers import clone, git, invoke, ok, snapshot
from remote_helpers import Store, add_remote

from dvlite.objects.cache import PACK_MIN
from dvlite.objects.packstore import read_footer

COUNT = PACK_MIN + 44  # enough small files for add to pack them


def _files(root: Path, tag: str = "") -> None:
    for i in range(COUNT):
        folder = root / "data" / f"f{i % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i}.txt").write_text(f"{tag}file {i}\n" * (i % 5 + 1))


def _packs(cache: Path) -> list[Path]:
    return sorted((cache / "packs").glob("*/*.pack"))


def _loose(cache: Path) -> list[Path]:
    return [p for p in (cache / "objects").glob("*/*") if p.is_file()]


def test_add_packs_many_small_files_and_checkout_reads_them(repo, dvlite) -> None:
    _files(repo.root)
    ok(dvlite("add", "data"))
    [pack] = _packs(repo.cache_dir)
    assert len(_loose(repo.cache_dir)) == 8  # the trees of 7 folders and of data stay whole
    assert len(read_footer(str(pack))) == COUNT  # the files are all in the pack
    before = snapshot(repo.root / "data")
    shutil.rmtree(repo.root / "data")
    ok(dvlite("checkout"))
    assert snapshot(repo.root / "data") == before
    assert ok(dvlite("status")).stdout == ""
    report = json.loads(ok(dvlite("fsck", "--json")).stdout)
    assert (report["checked"], report["ok"]) == (COUNT + 8, True)


def test_few_files_or_links_keep_objects_whole(repo, dvlite) -> None:
    (repo.root / "few").mkdir()
    for i in range(10):
        (repo.root / "few" / str(i)).write_text(str(i))
    ok(dvlite("add", "few"))
    assert not _packs(repo.cache_dir) and len(_loose(repo.cache_dir)) == 11
    ok(dvlite("config", "cache.type", "hardlink,copy"))
    _files(repo.root)
    ok(dvlite("add", "data"))
    assert not _packs(repo.cache_dir)  # a hard link needs the object as a file


def test_a_corrupt_packed_object_is_found_and_repaired_from_a_remote(
    repo, dvlite, folder_store: Store
) -> None:
    _files(repo.root)
    ok(dvlite("add", "data"))
    add_remote(folder_store)
    ok(dvlite("push"))
    [pack] = _packs(repo.cache_dir)
    entry = read_footer(str(pack))[3]
    data = bytearray(pack.read_bytes())
    data[entry.offset] ^= 0xFF
    pack.chmod(0o644)
    pack.write_bytes(bytes(data))
    result = dvlite("fsck")
    assert result.exit_code == 1 and f"corrupt: {entry.oid}" in result.stdout
    ok(dvlite("fsck", "--repair"))
    assert json.loads(ok(dvlite("fsck", "--json")).stdout)["ok"] is True
    shutil.rmtree(repo.root / "data")
    ok(dvlite("checkout"))
    assert (repo.root / "data").is_dir()
    assert entry.oid not in {e.oid for p in _packs(repo.cache_dir) for e in read_footer(str(p))}


def test_gc_rewrites_a_pack_without_what_no_revision_uses(repo, dvlite) -> None:
    _files(repo.root)
    ok(dvlite("add", "data"))
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "v1")
    first = {e.oid for p in _packs(repo.cache_dir) for e in read_footer(str(p))}
    first |= {f"xxh128:{p.parent.name}{p.name}" for p in _loose(repo.cache_dir)}  # the trees
    for i in range(0, COUNT, 2):  # half the files change
        (repo.root / "data" / f"f{i % 7}" / f"{i}.txt").write_text(f"v2 {i}\n")
    ok(dvlite("add", "data"))
    kept = snapshot(repo.root / "data")
    removed = json.loads(ok(dvlite("gc", "-w", "-f", "--json")).stdout)["removed"]
    assert removed and set(removed) <= first
    left = {e.oid for p in _packs(repo.cache_dir) for e in read_footer(str(p))}
    assert left.isdisjoint(removed)
    shutil.rmtree(repo.root / "data")
    ok(dvlite("checkout"))
    assert snapshot(repo.root / "data") == kept
    assert json.loads(ok(dvlite("fsck", "--json")).stdout)["ok"] is True


@pytest.mark.parametrize("fmt", ["1", "2"])
def test_a_packed_cache_pushes_and_a_fresh_clone_fetches_into_a_pack(
    repo, dvlite, store: Store, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _files(repo.root)
    ok(dvlite("add", "data"))
    add_remote(store)
    ok(dvlite("remote", "modify", "store", "format", fmt))
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "data")
    ok(dvlite("push"))
    want = snapshot(repo.root / "data")
    other = clone(repo.root, monkeypatch)
    ok(invoke("pull"))
    assert snapshot(other / "data") == want
    cache = other / ".dvlite" / "cache"
    assert _packs(cache) and len(_loose(cache)) < COUNT  # the files came as a pack
    os.chdir(other)
    assert json.loads(ok(invoke("fsck", "--json")).stdout)["ok"] is True


def _tree_of(pointer: Path) -> str:
    line = next(x for x in pointer.read_text().splitlines() if x.startswith("oid:"))
    return line.rsplit(":", 1)[-1].strip()  # its 32 hex digits


def test_a_pull_remembers_the_trees_it_completed(
    repo, dvlite, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So that the first status after a pull looks up no object per file."""
    _files(repo.root)
    ok(dvlite("add", "data"))
    add_remote(store)
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "data")
    ok(dvlite("push"))
    other = clone(repo.root, monkeypatch)
    ok(invoke("pull"))
    listed = (other / ".dvlite" / "cache" / "complete").read_text().split("\n")[1:]
    assert _tree_of(other / "data.dvl") in listed
    assert ok(invoke("status")).stdout == ""


def test_a_copy_of_packed_data_adds_no_pack(repo, dvlite) -> None:
    """Objects gathered for a pack are looked up together when it is written: those the
    cache already holds are not stored twice."""
    _files(repo.root)
    ok(dvlite("add", "data"))
    packs = _packs(repo.cache_dir)
    shutil.copytree(repo.root / "data", repo.root / "copy")
    (repo.root / "copy" / "f0" / "new.txt").write_text("one file the cache lacks\n")
    ok(dvlite("add", "copy"))
    assert _packs(repo.cache_dir) == packs  # the one new file is stored loose, as few are
    report = json.loads(ok(dvlite("fsck", "--json")).stdout)
    # 8 trees of data; of copy, only f0 and the top one differ (the other 6 are the same trees)
    assert report["ok"] and report["checked"] == COUNT + 1 + 10
