"""Damage on a storage format 2 remote (issue 11, "Nothing lost"), on a folder and on S3: a
corrupt byte in a pack, a damaged index file (rebuilt from the packs' footers), a truncated
pack, an index naming a pack that is gone, formats of a newer dvlite. Pull installs what is
intact and never wrong bytes; fsck --remote names the damage; no traceback ever."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest
from helpers import TmpDir, clone, git, invoke, ok, one_line_error
from remote_helpers import (
    Store,
    add_remote,
    corrupt_object,
    index_keys,
    key_of,
    locations,
    object_url,
)

from dvlite.objects import chunks, pack, packindex
from dvlite.objects.hashing import oid_of_bytes
from dvlite.records import pointer
from dvlite.records.repo import Repo
from dvlite.remote.packed import WHOLE_MIN, index_key, pack_key

FILES = {f"f{i}.txt": f"file number {i}\n" * (i + 1) for i in range(12)}
FOLDERS = {"a": dict(list(FILES.items())[:6]), "b": dict(list(FILES.items())[6:])}
DATA: dict[str, object] = {"data": FOLDERS}


@pytest.fixture
def project(repo: Repo, tmp_dir: TmpDir, store: Store) -> Repo:
    """Tracked data of 12 small files in two folders, pushed to ``store`` (format 2)."""
    tmp_dir.gen(DATA)
    ok(invoke("add", "data"))
    add_remote(store)
    git(tmp_dir, "add", "-A")
    git(tmp_dir, "commit", "-q", "-m", "v1")
    ok(invoke("push"))
    return repo


def index_files(store: Store) -> dict[str, packindex.IndexFile]:
    return {key: packindex.decode(store.read(key)) for key in index_keys(store)}


def oid_at(repo: Repo, rel: str) -> str:
    """The oid of a file inside the tracked folder ``data``."""
    oid = pointer.load(repo.root / "data.dvl").oid
    *folders, name = rel.split("/")[1:]
    for folder in folders:
        oid = repo.cache.load_tree(oid).by_name[folder].oid
    return repo.cache.load_tree(oid).by_name[name].oid


def flip_byte(store: Store, key: str, at: int) -> None:
    data = bytearray(store.read(key))
    data[at] ^= 0xFF
    store.write(key, bytes(data))


def sound_cache(repo: Repo) -> set[str]:
    """The oids in a cache, each checked to hash to its name."""
    found = set(repo.cache.iter_oids())
    assert all(repo.cache.verify(o) == o for o in found)
    return found


def workspace(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in (root / "data").rglob("*.txt")}


def expected(*left_out: str) -> dict[str, bytes]:
    wanted = {
        f"data/{folder}/{name}": text.encode()
        for folder, files in FOLDERS.items()
        for name, text in files.items()
    }
    return {rel: data for rel, data in wanted.items() if rel not in left_out}


def no_traceback(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("Error: ")
    return result.stderr


# -- one corrupt byte in a pack ---------------------------------------------------------------
def test_a_corrupt_byte_in_a_pack(
    project: Repo, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = oid_at(project, "data/b/f8.txt")
    where = object_url(store, bad)
    pack_url = where.split(" (bytes ")[0]
    corrupt_object(store, bad)

    result = invoke("fsck", "--remote")
    assert result.exit_code == 1, result.output
    assert f"corrupt: data/b/f8.txt ({where})\n" in result.stdout
    assert (
        f"damaged: {pack_url}: its bytes do not hash to its name (1 of its 15 objects corrupt)\n"
    ) in result.stdout
    assert result.stdout.endswith(
        "checked 15 objects on remote 'store': 1 corrupt, 0 missing, 1 damaged file\n"
    )
    report = json.loads(invoke("fsck", "--remote", "--json").stdout)
    assert report["corrupt"] == [f"data/b/f8.txt ({where})"]
    assert (report["packs"], report["orphan_packs"], report["ok"]) == (1, 0, False)

    there = clone(project.root, monkeypatch)
    result = invoke("pull")
    stderr = no_traceback(result)
    assert stderr.startswith("Error: 1 object(s) could not be fetched from remote 'store'")
    assert f"corrupt on remote: data/b/f8.txt ({where})" in stderr
    assert workspace(there) == expected("data/b/f8.txt")  # everything else is there
    cached = sound_cache(Repo(there))
    assert bad not in cached
    assert len(cached) == 14  # 11 files, 3 trees


def test_a_corrupt_tree_in_a_pack_is_named_by_its_folder(project: Repo, store: Store) -> None:
    tree = pointer.load(project.root / "data.dvl").oid
    sub = project.cache.load_tree(tree).by_name["a"].oid
    corrupt_object(store, sub)
    result = invoke("fsck", "--remote")
    assert result.exit_code == 1
    assert f"corrupt: data/a ({object_url(store, sub)})\n" in result.stdout


# -- a damaged index file ---------------------------------------------------------------------
def test_a_damaged_index_file_is_rebuilt_from_the_pack_footers(
    project: Repo, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    [old] = index_files(store)
    flip_byte(store, old, 40)
    there = clone(project.root, monkeypatch)  # no copy of the index file kept
    result = ok(invoke("pull"))
    [new] = index_files(store)  # the damaged one deleted, a good one in its place
    assert new != old
    assert result.stderr == (
        f"Warning: remote 'store' ({store.url}): damaged index file {store.url}/{old} "
        f"rebuilt from the footers of 1 pack(s) as {store.url}/{new}\n"
    )
    assert workspace(there) == expected()
    assert len(sound_cache(Repo(there))) == 15
    assert len(index_files(store)[new].objects) == 15
    assert ok(invoke("fsck", "--remote")).stdout.endswith(": all good\n")
    assert ok(invoke("pull")).stderr == ""  # nothing more to mend


def test_fsck_remote_reports_a_damaged_index_file(project: Repo, store: Store) -> None:
    [old] = index_files(store)
    flip_byte(store, old, 40)
    for kept in (project.root / ".dvlite" / "cache" / "index").iterdir():
        kept.unlink()  # the pushing clone would read its own copy
    result = invoke("fsck", "--remote")
    assert result.exit_code == 1, result.output
    [new] = index_files(store)
    assert (
        f"damaged: {store.url}/{old}: not a sound index file; "
        f"rebuilt from the packs' footers as {store.url}/{new}\n"
    ) in result.stdout
    assert result.stdout.endswith(": 0 corrupt, 0 missing, 1 damaged file\n")
    assert ok(invoke("fsck", "--remote")).stdout.endswith(": all good\n")


def test_push_mends_a_damaged_index_file_and_says_so(project: Repo, store: Store) -> None:
    [old] = index_files(store)
    flip_byte(store, old, 40)
    for kept in (project.root / ".dvlite" / "cache" / "index").iterdir():
        kept.unlink()
    (project.root / "data" / "new.txt").write_text("new")
    ok(invoke("add", "data"))
    result = ok(invoke("push"))
    assert result.stderr.startswith(f"Warning: remote 'store' ({store.url}): damaged index file")
    assert "2 objects pushed" in result.stdout  # the new file and the tree above it
    assert old not in index_files(store)
    assert ok(invoke("fsck", "--remote")).stdout.endswith(
        "checked 17 objects on remote 'store': all good\n"
    )


def test_a_damaged_index_file_beside_good_ones_keeps_their_objects(
    project: Repo, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project.root / "data" / "a" / "f0.txt").write_text("changed")
    ok(invoke("add", "data"))
    git(project.root, "commit", "-q", "-am", "v2")
    [first] = index_files(store)
    ok(invoke("push"))
    flip_byte(store, first, 30)
    there = clone(project.root, monkeypatch)
    result = ok(invoke("pull"))
    assert "rebuilt from the footers of 1 pack(s)" in result.stderr
    assert workspace(there) == expected("data/a/f0.txt") | {"data/a/f0.txt": b"changed"}
    ok(invoke("fsck", "--remote"))


# -- a truncated pack, a pack that is gone, formats of a newer dvlite --------------------------
def test_a_truncated_pack(project: Repo, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    [(key, entries)] = packs(store).items()
    cut = entries[len(entries) // 2].offset  # the second half of the entries is gone
    store.write(key, store.read(key)[:cut])
    result = invoke("fsck", "--remote")
    assert result.exit_code == 1
    assert f"damaged: {store.url}/{key}: its footer: not a dvlite pack" in result.stdout
    lost = len(entries) - len(entries) // 2
    assert f"({lost} of its 15 objects corrupt)" in result.stdout
    assert "Traceback" not in result.output
    there = clone(project.root, monkeypatch)
    stderr = no_traceback(invoke("pull"))
    assert "could not be fetched from remote 'store'" in stderr
    assert f"corrupt on remote: data ({store.url}/{key} (bytes " in stderr  # the trees go last
    assert not set(workspace(there).items()) - set(expected().items())  # no wrong bytes
    sound_cache(Repo(there))


def test_an_index_naming_a_pack_that_does_not_exist(
    project: Repo, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    [key] = packs(store)
    store.delete(key)
    result = invoke("fsck", "--remote")
    assert result.exit_code == 1
    assert f"damaged: {store.url}/{key}: missing (15 objects are named in it)\n" in result.stdout
    assert "missing: data\n" in result.stdout
    assert "Traceback" not in result.output
    clone(project.root, monkeypatch)
    stderr = no_traceback(invoke("pull"))
    assert "missing on remote: data" in stderr


def test_an_index_file_of_a_newer_format(
    project: Repo, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    [old] = index_files(store)
    data = bytearray(store.read(old))
    data[4:8] = struct.pack("<I", 2)
    store.delete(old)
    newer = index_key(oid_of_bytes(bytes(data)))
    store.write(newer, bytes(data))
    clone(project.root, monkeypatch)
    for command in (["pull"], ["fsck", "--remote"], ["status", "--remote"]):
        line = one_line_error(invoke(*command))
        assert line == (
            f"Error: remote 'store' ({store.url}): {store.url}/{newer}: index format version 2 "
            "(this dvlite reads 1); upgrade dvlite to read this remote"
        )


def test_a_pack_of_a_newer_format(project: Repo, store: Store) -> None:
    [(key, entries)] = packs(store).items()
    data = bytearray(store.read(key))
    data[-8:-4] = struct.pack("<I", 2)  # the trailer's version
    newer = oid_of_bytes(bytes(data))
    store.write(pack_key(newer), bytes(data))
    store.delete(key)
    [index] = index_files(store)
    store.delete(index)
    _, rewritten = packindex.encode({newer: entries})
    store.write(index_key(oid_of_bytes(rewritten)), rewritten)
    line = one_line_error(invoke("fsck", "--remote"))
    assert line == (
        f"Error: remote 'store' ({store.url}): {store.url}/{pack_key(newer)}: "
        "pack format version 2 (this dvlite reads 1); upgrade dvlite to read it"
    )


def packs(store: Store) -> dict[str, list[pack.Entry]]:
    """Each pack on the store (its key) -> its entries, from its footer."""
    found = {}
    keys = store.keys()
    for key in sorted(k for k in keys if k.startswith("packs/")):
        data = store.read(key)
        found[key] = pack.parse_footer(data, len(data))
    return found


# -- format 1 stays as it was ------------------------------------------------------------------
def test_fsck_remote_of_a_format_1_remote(repo: Repo, tmp_dir: TmpDir, store: Store) -> None:
    tmp_dir.gen(DATA)
    ok(invoke("add", "data"))
    add_remote(store)
    ok(invoke("remote", "modify", "store", "format", "1"))
    ok(invoke("push"))
    keys = store.keys()
    assert keys and all(k.startswith("objects/") for k in keys)
    assert ok(invoke("fsck", "--remote")).stdout == (
        "checked 15 objects on remote 'store': all good\n"
    )
    bad = oid_at(repo, "data/b/f8.txt")
    h = bad.split(":")[1]
    store.write(f"objects/{h[:2]}/{h[2:]}", b"garbage")
    result = invoke("fsck", "--remote")
    assert result.exit_code == 1
    assert result.stdout == (
        f"corrupt: {store.url}/objects/{h[:2]}/{h[2:]}\n"
        "checked 15 objects on remote 'store': 1 corrupt, 0 missing\n"
    )


def test_a_pack_no_index_names_is_reported_and_harmless(project: Repo, store: Store) -> None:
    writer = pack.PackWriter()
    writer.add(oid_of_bytes(b"left by a killed push"), pack.FILE_KIND, b"left by a killed push")
    orphan, data = writer.finish()
    store.write(pack_key(orphan), data)
    result = ok(invoke("fsck", "--remote"))
    assert result.stdout == (
        "1 pack that no index file names (of a killed or running push; gc --cloud removes them)\n"
        "checked 15 objects on remote 'store': all good\n"
    )
    assert json.loads(invoke("fsck", "--remote", "--json").stdout)["orphan_packs"] == 1


def test_a_footer_too_long_to_read_is_damage_not_a_memory_spike(
    project: Repo, store: Store
) -> None:
    [key] = packs(store)
    data = bytearray(store.read(key))
    huge = (1 << 40) - (1 << 40) % pack.ROW_SIZE  # a TiB of footer rows, claimed
    data[-pack.TRAILER_SIZE : -pack.TRAILER_SIZE + 8] = struct.pack("<Q", huge)
    store.write(key, bytes(data))
    result = invoke("fsck", "--remote")
    assert result.exit_code == 1
    assert f"damaged: {store.url}/{key}: its footer: a pack's footer of {huge} bytes" in (
        result.stdout
    )
    assert "(its objects intact)" in result.stdout  # the index still says where they are


def test_a_damaged_index_file_and_a_pack_with_no_footer(
    project: Repo, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    [index] = index_files(store)
    flip_byte(store, index, 40)
    [key] = packs(store)
    store.write(key, store.read(key)[:-1])  # no trailer: nothing says what it holds
    there = clone(project.root, monkeypatch)
    result = invoke("pull")
    warning, *error = result.stderr.splitlines()
    assert warning.startswith("Warning: remote 'store'")
    assert warning.endswith(
        "rebuilt from the footers of 0 pack(s) as "
        f"{store.url}/{next(iter(index_files(store)))} (1 pack(s) with no readable footer: "
        "see `dvlite fsck --remote`)"
    )
    assert error[0].startswith("Error: ")
    assert "missing on remote: data (" in result.stderr
    assert "Traceback" not in result.output
    assert not (there / "data").exists()


def test_whole_objects_of_a_format_2_remote(
    project: Repo, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Big files whole under objects/, named by the index with no pack: fsck --remote hashes
    them where they lie, and says which one is missing."""
    # a push chunks big files; whole ones on format 2 are what `remote repack` leaves of a
    # format 1 remote (and big trees): a push that chunks nothing makes them here
    monkeypatch.setattr(chunks, "CHUNKED_MIN", 1 << 40)
    big = os.urandom(WHOLE_MIN)
    (project.root / "big.bin").write_bytes(big)
    (project.root / "big2.bin").write_bytes(big[::-1])
    ok(invoke("add", "big.bin", "big2.bin"))
    ok(invoke("push"))
    one, two = oid_of_bytes(big), oid_of_bytes(big[::-1])
    assert {locations(store)[o].pack for o in (one, two)} == {""}
    store.write(key_of(one), b"not big")
    store.delete(key_of(two))
    result = invoke("fsck", "--remote")
    assert result.exit_code == 1
    assert result.stdout == (
        f"corrupt: big.bin ({store.url}/{key_of(one)})\n"
        "missing: big2.bin\n"
        "checked 17 objects on remote 'store': 1 corrupt, 1 missing\n"
    )
