"""`gc --cloud` on a format 2 remote (folder and S3): dead objects leave, their packs are dropped
or rewritten, one new index file replaces the old ones, and everything live stays readable; a
fresh clone pulls identical bytes. A big file is pushed chunked: gc keeps the chunks of the
live ones and drops those only dead ones name. Nothing younger than `remote.NAME.gc_grace` is
touched.
(Kills: test_gc_packs_crash.py; a push at the same time: test_gc_concurrent_push.py.)"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import RunResult, git, ok, one_line_error, snapshot
from pack_helpers import all_keys, chunks_of, held, keys_under, unreadable, with_chunks, write
from remote_helpers import (
    FolderStore,
    Store,
    add_remote,
    corrupt_object,
    index_keys,
    key_of,
    locations,
)

from dvlite.objects import chunks
from dvlite.objects.hashing import oid_of_bytes
from dvlite.objects.pack import FILE_KIND, PackWriter
from dvlite.records.repo import Repo
from dvlite.remote.packed import WHOLE_MIN, pack_key

Invoke = Callable[..., RunResult]


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def version(root: Path, dvlite: Invoke, files: dict[str, bytes], message: str) -> None:
    """Write ``files``, add what is tracked, commit and push."""
    write(root, files)
    ok(dvlite("add", *sorted({rel.split("/")[0] for rel in files})))
    commit(root, message)
    ok(dvlite("push"))


def texts(folder: str, n: int, tag: str) -> dict[str, bytes]:
    return {f"{folder}/{i:03}.txt": f"{tag} {folder} {i}\n".encode() * 20 for i in range(n)}


def fresh_pull(repo: Repo, dest: Path, dvlite: Invoke) -> dict[str, bytes]:
    """What a fresh git clone of the repository holds after `dvlite pull`."""
    git(repo.root.parent, "clone", "-q", str(repo.root), str(dest))
    os.chdir(dest)
    try:
        ok(dvlite("pull"))
    finally:
        os.chdir(repo.root)
    return {k: v for k, v in snapshot(dest).items() if not k.startswith(".dvlite")}


def workspace(repo: Repo) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(repo.root).items() if not k.startswith(".dvlite")}


@pytest.fixture
def remote(repo: Repo, dvlite: Invoke, store: Store) -> Store:
    """``store`` as the default remote (format 2), with no grace period, committed."""
    add_remote(store)
    ok(dvlite("remote", "modify", "store", "gc_grace", "0"))
    commit(repo.root, "remote")
    return store


DEAD = 80 + 1 + 3  # what v2 leaves dead: a/ and b/ files, the big file, 3 trees


def two_versions(repo: Repo, dvlite: Invoke, store: Store) -> int:
    """data/a, b, c of 40 small files each, and a big file (chunked); then a and b and the big
    file changed. The number of objects v2 leaves dead: DEAD and the chunks only v1's big file
    has (none when it is stored whole)."""
    big = random.Random(1).randbytes(WHOLE_MIN + 10)
    v1 = {**texts("data/a", 40, "v1"), **texts("data/b", 40, "v1"), **texts("data/c", 40, "v1")}
    version(repo.root, dvlite, {**v1, "big.bin": big}, "v1")
    v2 = {**texts("data/a", 40, "v2"), **texts("data/b", 40, "v2"), "big.bin": big[::-1]}
    version(repo.root, dvlite, v2, "v2")
    old, new = chunks_of(store, {oid_of_bytes(big)}), chunks_of(store, {oid_of_bytes(big[::-1])})
    return DEAD + len(old - new)


# -- what goes and what stays ----------------------------------------------------------------
@pytest.mark.parametrize("whole", [False, True], ids=["chunked", "whole"])
def test_gc_cloud_removes_the_dead_and_a_fresh_clone_pulls_the_rest(
    repo: Repo,
    dvlite: Invoke,
    remote: Store,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    whole: bool,
) -> None:
    if whole:  # big files stored whole under objects/, as `remote repack` leaves format 1's
        monkeypatch.setattr(chunks, "CHUNKED_MIN", 1 << 40)
    dead = two_versions(repo, dvlite, remote)
    assert (dead == DEAD) is whole  # chunked: v1's big file has chunks of its own
    before = held(remote)
    assert len(index_keys(remote)) == 2

    report = json.loads(ok(dvlite("gc", "-w", "--cloud", "-f", "--json")).stdout)

    live = set(repo.cache.iter_oids())  # after gc -w -f, the cache holds what the workspace uses
    needed = with_chunks(remote, live)  # and the chunks of its big file
    assert (needed == live) is whole
    assert held(remote) == needed
    assert set(report["cloud_removed"]) == before - needed
    assert len(before - needed) == dead
    assert unreadable(remote, live) == set()
    # nothing else is left: one index file, the packs it names, the big file if it names it whole
    [index] = index_keys(remote)
    named = locations(remote)
    packs = {pack_key(loc.pack) for loc in named.values() if loc.pack}
    loose = {key_of(oid) for oid, loc in named.items() if not loc.pack}
    assert keys_under(remote, "index") | keys_under(remote, "packs") == {index, *packs}
    assert keys_under(remote, "objects") == loose
    assert len(loose) == whole and len(packs) == 1  # the v1 pack (1/3 live) and v2's merged
    assert not keys_under(remote, "locks")  # released
    assert report["cloud_repack"]["packs_rewritten"] == 2

    assert fresh_pull(repo, tmp_path_factory.mktemp("fresh") / "c", dvlite) == workspace(repo)
    checked = ok(dvlite("fsck", "--remote"))
    assert f"checked {len(needed):,} objects on remote 'store': all good" in checked.stdout
    # run again: nothing more to do, nothing changes
    keys = all_keys(remote)
    again = json.loads(ok(dvlite("gc", "-w", "--cloud", "-f", "--json")).stdout)
    assert again["cloud_removed"] == [] and again["cloud_repack"]["index"] is None
    assert all_keys(remote) == keys


def test_dry_says_what_would_go_and_changes_nothing(
    repo: Repo, dvlite: Invoke, remote: Store
) -> None:
    dead = two_versions(repo, dvlite, remote)
    before = {k: remote.read(k) for k in all_keys(remote)}
    report = json.loads(ok(dvlite("gc", "-w", "--cloud", "-f", "--dry", "--json")).stdout)
    assert len(report["cloud_removed"]) == dead
    assert report["cloud_repack"]["packs_rewritten"] == 2
    assert {k: remote.read(k) for k in all_keys(remote)} == before
    assert ok(dvlite("gc", "-w", "--cloud", "-f", "--dry")).stdout.endswith(
        f"would remove {dead} objects from the remote store\n"
    )


def test_nothing_younger_than_the_grace_period_is_removed(
    repo: Repo, dvlite: Invoke, store: Store
) -> None:
    add_remote(store)  # gc_grace unset: an hour
    commit(repo.root, "remote")
    dead = two_versions(repo, dvlite, store)
    before = {k: remote_bytes for k in all_keys(store) if (remote_bytes := store.read(k))}
    report = json.loads(ok(dvlite("gc", "-w", "--cloud", "-f", "--json")).stdout)
    assert report["cloud_removed"] == []
    assert {k: store.read(k) for k in all_keys(store)} == before

    ok(dvlite("remote", "modify", "store", "gc_grace", "0"))
    report = json.loads(ok(dvlite("gc", "-w", "--cloud", "-f", "--json")).stdout)
    assert len(report["cloud_removed"]) == dead


@pytest.mark.parametrize("value", ["soon", "inf", "nan"])
def test_gc_grace_must_be_seconds(repo: Repo, dvlite: Invoke, remote: Store, value: str) -> None:
    line = one_line_error(dvlite("remote", "modify", "store", "gc_grace", value))
    assert line == (
        f"Error: remote.store.gc_grace must be a number of seconds, 0 or more, not {value!r}"
    )


@pytest.mark.parametrize(("changed", "rewritten"), [(1, False), (60, True)])
def test_a_pack_mostly_dead_is_rewritten_and_one_mostly_live_is_kept(
    repo: Repo, dvlite: Invoke, tmp_path_factory: pytest.TempPathFactory, changed: int,
    rewritten: bool,
) -> None:  # fmt: skip
    store = FolderStore(tmp_path_factory.mktemp("remote") / "store")
    add_remote(store)
    ok(dvlite("remote", "modify", "store", "gc_grace", "0"))
    rng = random.Random(changed)
    files = {f"data/{i:03}.bin": rng.randbytes(100_000) for i in range(100)}  # a 10 MB pack
    version(repo.root, dvlite, files, "v1")
    [first] = keys_under(store, "packs")
    new = {f"data/{i:03}.bin": rng.randbytes(100_000) for i in range(changed)}
    version(repo.root, dvlite, new, "v2")
    dead = {oid_of_bytes(files[rel]) for rel in new}

    ok(dvlite("gc", "-w", "--cloud", "-f"))

    assert (first not in all_keys(store)) is rewritten
    assert held(store) & dead == set()
    assert unreadable(store, set(repo.cache.iter_oids())) == set()
    assert len(index_keys(store)) == 1


# -- what no index names, and damage -------------------------------------------------------------
def test_packs_no_index_names_and_superseded_index_files_go_once_old(
    repo: Repo, dvlite: Invoke, store: Store
) -> None:
    add_remote(store)
    commit(repo.root, "remote")
    version(repo.root, dvlite, texts("data", 5, "v1"), "v1")
    version(repo.root, dvlite, texts("data", 5, "v2"), "v2")
    old = {k: store.read(k) for k in index_keys(store)}
    writer = PackWriter()  # what a push killed before its index file leaves
    writer.add(oid_of_bytes(b"orphan"), FILE_KIND, b"orphan")
    orphan_id, orphan = writer.finish()
    store.write(pack_key(orphan_id), orphan)

    ok(dvlite("gc", "-w", "--cloud", "-f"))  # within the grace period: all stays
    assert pack_key(orphan_id) in all_keys(store)
    assert set(old) <= all_keys(store)

    ok(dvlite("remote", "modify", "store", "gc_grace", "0"))
    ok(dvlite("gc", "-w", "--cloud", "-f"))
    assert pack_key(orphan_id) not in all_keys(store)
    assert not set(old) & all_keys(store)
    [new] = index_keys(store)
    for key, data in old.items():  # as if that gc had been killed before deleting them
        store.write(key, data)
    live = held(store)
    ok(dvlite("gc", "-w", "--cloud", "-f"))
    assert index_keys(store) == [new]
    assert held(store) == live


def test_a_damaged_index_file_is_replaced_and_gc_goes_on(
    repo: Repo, dvlite: Invoke, remote: Store, tmp_path_factory: pytest.TempPathFactory
) -> None:
    dead = two_versions(repo, dvlite, remote)
    bad = "index/" + "ab" * 16 + ".idx"
    remote.write(bad, b"DVLI but not an index file")
    report = json.loads(ok(dvlite("gc", "-w", "--cloud", "-f", "--json")).stdout)
    assert len(report["cloud_removed"]) == dead
    assert bad not in all_keys(remote)
    live = set(repo.cache.iter_oids())
    assert held(remote) == with_chunks(remote, live) and unreadable(remote, live) == set()
    assert fresh_pull(repo, tmp_path_factory.mktemp("fresh") / "c", dvlite) == workspace(repo)


def test_whole_objects_on_a_format_2_remote_are_packed_or_removed(
    repo: Repo, dvlite: Invoke, store: Store, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A remote written with loose objects (format 1) whose config now says format 2: gc
    packs the small live ones and removes the dead ones."""
    add_remote(store, format=1)
    ok(dvlite("remote", "modify", "store", "gc_grace", "0"))
    commit(repo.root, "remote")
    assert two_versions(repo, dvlite, store) == DEAD  # format 1: nothing chunked
    assert not keys_under(store, "packs")
    ok(dvlite("remote", "modify", "store", "format", "2"))
    commit(repo.root, "format 2")

    ok(dvlite("gc", "-w", "--cloud", "-f"))

    live = set(repo.cache.iter_oids())
    assert held(store) == live
    [big] = keys_under(store, "objects")  # the one object too big for a pack
    assert len(keys_under(store, "packs")) == 1
    assert fresh_pull(repo, tmp_path_factory.mktemp("fresh") / "c", dvlite) == workspace(repo)
    assert big == key_of(oid_of_bytes((repo.root / "big.bin").read_bytes()))


def test_a_corrupt_object_in_a_pack_to_rewrite_leaves_that_pack_as_it_is(
    repo: Repo, dvlite: Invoke, remote: Store
) -> None:
    two_versions(repo, dvlite, remote)
    victim = oid_of_bytes((repo.root / "data" / "c" / "000.txt").read_bytes())  # live, in v1's
    [v1_pack] = {loc.pack for oid, loc in locations(remote).items() if oid == victim}
    corrupt_object(remote, victim)

    result = dvlite("gc", "-w", "--cloud", "-f")

    assert result.exit_code == 0, result.output
    where = f"{remote.url}/{pack_key(v1_pack)}"
    assert result.stderr.startswith(f"Warning: corrupt object {victim} at {where} (bytes ")
    assert result.stderr.endswith("; left as it was on the remote\n")
    assert pack_key(v1_pack) in all_keys(remote)  # kept, with what is live in it
    live = set(repo.cache.iter_oids())
    assert held(remote) == with_chunks(remote, live)
    assert unreadable(remote, live) == {victim}  # as it was before gc; nothing else
