"""`dvlite remote repack`: a remote pushed with format 1 (loose objects) is packed, its config
then says format 2, and a fresh clone pulls identical bytes; on a format 2 remote, every index
file is merged into one and small packs into few, chunk lists and chunks with the rest; a
damaged object leaves its pack as it is. Nothing is dropped. Folder and S3."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import RunResult, git, ok, snapshot
from pack_helpers import all_keys, held, keys_under, unreadable, write
from remote_helpers import Store, add_remote, corrupt_object, index_keys, key_of, locations

from dvlite.objects import chunks, pack
from dvlite.objects.hashing import oid_of_bytes
from dvlite.records.repo import Repo
from dvlite.remote.packed import WHOLE_MIN, pack_key
from dvlite.transfer.roots import cached_tree

Invoke = Callable[..., RunResult]


def versions(repo: Repo, dvlite: Invoke, n: int) -> None:
    """``n`` commits, each pushed: data/ of 30 small files (10 changed each time), a big file."""
    rng = random.Random(n)
    for v in range(n):
        files = {f"data/{f}/{i:02}.txt": b"v%d %d\n" % (v, i) * 30 for f in "ab" for i in range(15)}
        if v:
            files = dict(list(files.items())[:10])
        files["big.bin"] = rng.randbytes(WHOLE_MIN + v)
        write(repo.root, files)
        ok(dvlite("add", "data", "big.bin"))
        git(repo.root, "add", "-A")
        git(repo.root, "commit", "-qm", f"v{v}")
        ok(dvlite("push"))


def fresh_pull_all(repo: Repo, dest: Path, dvlite: Invoke) -> dict[str, bytes]:
    """A fresh clone's workspace after `pull`, having fetched every commit's data (-A)."""
    git(repo.root.parent, "clone", "-q", str(repo.root), str(dest))
    os.chdir(dest)
    try:
        ok(dvlite("fetch", "-A"))
        ok(dvlite("pull"))
    finally:
        os.chdir(repo.root)
    return {k: v for k, v in snapshot(dest).items() if not k.startswith(".dvlite")}


def workspace(repo: Repo) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(repo.root).items() if not k.startswith(".dvlite")}


def test_a_format_1_remote_is_packed_and_its_config_says_format_2(
    repo: Repo, dvlite: Invoke, store: Store, tmp_path_factory: pytest.TempPathFactory
) -> None:
    add_remote(store, format=1)
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "remote")
    versions(repo, dvlite, 3)
    loose = {"xxh128:" + k[8:10] + k[11:]: len(store.read(k)) for k in keys_under(store, "objects")}
    assert not keys_under(store, "packs") and not keys_under(store, "index")
    big = {oid for oid, size in loose.items() if size >= WHOLE_MIN}
    assert len(big) == 3

    result = ok(dvlite("remote", "repack"))

    assert result.stdout == (
        f"remote store: packed {len(loose) - 3} whole objects, wrote 1 new pack\n"
        "remote.store.format is now 2: commit .dvlite/config\n"
    )
    assert "format = 2" in (repo.root / ".dvlite" / "config").read_text()
    assert held(store) == set(loose)  # nothing dropped: every revision's objects
    assert unreadable(store, set(loose)) == set()
    assert keys_under(store, "objects") == {key_of(oid) for oid in big}  # the small ones went
    named = locations(store)
    assert {oid for oid, loc in named.items() if not loc.pack} == big
    trees = {oid for oid, loc in named.items() if loc.kind == pack.TREE_KIND}
    assert trees == {oid for oid in loose if cached_tree(repo, oid) is not None}
    assert len(trees) == 6  # data/ and data/a of each revision, data/b (the first data/a)
    git(repo.root, "commit", "-qam", "format 2")
    assert fresh_pull_all(repo, tmp_path_factory.mktemp("f") / "c", dvlite) == workspace(repo)
    assert ok(dvlite("remote", "repack")).stdout == "remote store: nothing to repack\n"


@pytest.mark.parametrize("whole", [False, True], ids=["chunked", "whole"])
def test_index_files_and_small_packs_of_a_format_2_remote_are_merged(
    repo: Repo,
    dvlite: Invoke,
    store: Store,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    whole: bool,
) -> None:
    if whole:  # big files stored whole under objects/, as `remote repack` leaves format 1's
        monkeypatch.setattr(chunks, "CHUNKED_MIN", 1 << 40)
    add_remote(store)
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "remote")
    versions(repo, dvlite, 4)
    before = held(store)
    assert len(index_keys(store)) == len(keys_under(store, "packs")) == 4

    dry = json.loads(ok(dvlite("remote", "repack", "--dry", "--json")).stdout)
    assert dry["repacked"]["packs_rewritten"] == 0  # all of it younger than the grace period
    ok(dvlite("remote", "modify", "store", "gc_grace", "0"))
    keys = all_keys(store)
    dry = json.loads(ok(dvlite("remote", "repack", "--dry", "--json")).stdout)
    assert dry["repacked"]["packs_rewritten"] == 4 and dry["repacked"]["indexes_removed"] == 4
    assert all_keys(store) == keys

    result = ok(dvlite("remote", "repack"))

    assert result.stdout == (
        "remote store: rewrote 4 packs, replaced 4 index files, wrote 1 new pack\n"
    )
    assert len(index_keys(store)) == len(keys_under(store, "packs")) == 1
    assert held(store) == before and unreadable(store, before) == set()
    assert len(keys_under(store, "objects")) == (4 if whole else 0)  # the big files, whole
    lists = {oid for oid, loc in locations(store).items() if loc.kind == pack.LIST_KIND}
    assert len(lists) == (0 if whole else 4)  # or their chunk lists, moved as they were
    assert fresh_pull_all(repo, tmp_path_factory.mktemp("f") / "c", dvlite) == workspace(repo)


def test_a_corrupt_loose_object_is_left_where_it_is(
    repo: Repo, dvlite: Invoke, store: Store
) -> None:
    add_remote(store, format=1)
    versions(repo, dvlite, 1)
    victim = oid_of_bytes(b"v0 3\n" * 30)
    store.write(key_of(victim), b"not what it was")
    result = dvlite("remote", "repack")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(
        f"Warning: corrupt object {victim} at {store.url}/{key_of(victim)} (hashes to "
    )
    assert store.read(key_of(victim)) == b"not what it was"
    assert victim not in locations(store)


def test_a_damaged_chunk_list_leaves_its_pack_as_it_is(
    repo: Repo, dvlite: Invoke, store: Store
) -> None:
    """A chunk list does not hash to the file's oid it is stored under: repack checks it by
    decoding it (its own hash), and leaves the pack of one that does not decode."""
    add_remote(store)
    ok(dvlite("remote", "modify", "store", "gc_grace", "0"))
    versions(repo, dvlite, 3)
    big = oid_of_bytes((repo.root / "big.bin").read_bytes())
    loc = locations(store)[big]
    assert loc.kind == pack.LIST_KIND
    keys = {k: store.read(k) for k in keys_under(store, "packs")}
    corrupt_object(store, big)  # its first byte: no magic
    damaged = store.read(pack_key(loc.pack))

    result = dvlite("remote", "repack")

    assert result.exit_code == 0, result.output
    where = f"{store.url}/{pack_key(loc.pack)} (bytes {loc.offset}-{loc.end})"
    assert result.stderr == (
        f"Warning: corrupt object {big} at {where}: not a dvlite chunk list (no magic); "
        "left as it was on the remote\n"
    )
    assert store.read(pack_key(loc.pack)) == damaged  # kept, still named where it was
    assert locations(store)[big] == loc
    others = set(keys) - {pack_key(loc.pack)}  # the other two packs merged into one
    assert len(others) == 2 and not others & all_keys(store)
    assert len(keys_under(store, "packs") - set(keys)) == 1
    assert result.stdout == (
        "remote store: rewrote 2 packs, replaced 3 index files, wrote 1 new pack\n"
    )
    assert unreadable(store, held(store)) == {big}
