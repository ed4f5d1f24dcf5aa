"""The remote's lock (`locks/gc.lock`): one gc or repack of a remote at a time. A lock held by
another (fresh) stops gc with one line naming its owner and age and how to remove it; a stale one
(older than 30 minutes, or its process gone from this machine) is taken over; a lock file that
is not one dvlite wrote is an unknown owner's, aged by its modification time. Folder, S3, and
a store without create-only writes (fsspec's memory filesystem)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import RunResult, git, ok, one_line_error
from pack_helpers import all_keys, held
from remote_helpers import MemoryStore, Store, add_remote

from dvlite.errors import RemoteError
from dvlite.objects import packindex
from dvlite.objects.hashing import oid_of_bytes
from dvlite.records.repo import Repo
from dvlite.remote import from_config
from dvlite.remote.config import RemoteConfig
from dvlite.remote.lock import LOCK_KEY, STALE_AFTER, RemoteLock, this_owner
from dvlite.remote.packed import index_key

Invoke = Callable[..., RunResult]


def lock_bytes(owner: str = "alice@elsewhere", pid: int = 4242, age: float = 60.0) -> bytes:
    holder = {"owner": owner, "pid": pid, "command": "gc", "time": time.time() - age}
    return json.dumps({**holder, "token": "0123456789abcdef"}).encode()


@pytest.fixture
def dead(repo: Repo, dvlite: Invoke, store: Store) -> Store:
    """A format 2 remote holding an object no revision uses (gc --cloud -f drops it)."""
    add_remote(store)
    ok(dvlite("remote", "modify", "store", "gc_grace", "0"))
    (repo.root / "old.txt").write_text("old")
    ok(dvlite("add", "old.txt"))
    ok(dvlite("push"))
    ok(dvlite("remove", "old.txt.dvl"))
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "remote; old.txt gone")
    return store


def test_a_lock_held_by_another_stops_gc_with_one_line(dvlite: Invoke, dead: Store) -> None:
    dead.write(LOCK_KEY, lock_bytes(age=300))
    before = {k: dead.read(k) for k in all_keys(dead)}
    line = one_line_error(dvlite("gc", "-w", "--cloud", "-f"))
    assert line == (
        f"Error: remote 'store' ({dead.url}) is locked by alice@elsewhere (pid 4242, gc) since "
        "5 min ago: another gc or remote repack is running; wait for it to finish, or if none "
        f"is, delete {dead.url}/{LOCK_KEY} (a lock is taken over once 30 min old)"
    )
    assert {k: dead.read(k) for k in all_keys(dead)} == before  # nothing removed, the lock kept
    assert "locked by alice@elsewhere" in one_line_error(dvlite("remote", "repack"))


def test_a_stale_lock_is_taken_over(dvlite: Invoke, dead: Store) -> None:
    dead.write(LOCK_KEY, lock_bytes(age=STALE_AFTER + 60))
    report = json.loads(ok(dvlite("gc", "-w", "--cloud", "-f", "--json")).stdout)
    assert len(report["cloud_removed"]) == 1
    assert LOCK_KEY not in all_keys(dead)  # released at the end
    assert held(dead) == set()


def test_the_lock_of_a_process_gone_from_this_machine_is_taken_over(
    dvlite: Invoke, dead: Store
) -> None:
    gone = subprocess.Popen([sys.executable, "-c", ""])
    gone.wait()  # its pid names no process now
    dead.write(LOCK_KEY, lock_bytes(owner=this_owner(), pid=gone.pid))
    assert (
        len(json.loads(ok(dvlite("gc", "-w", "--cloud", "-f", "--json")).stdout)["cloud_removed"])
        == 1
    )
    assert LOCK_KEY not in all_keys(dead)


@pytest.mark.parametrize(
    "garbage", [b"\x00\xffnot json", b"[1, 2]", b'{"owner": 1}', b"{" * 100_000, b""]
)
def test_a_lock_file_dvlite_did_not_write_is_an_unknown_owners(
    dvlite: Invoke, dead: Store, garbage: bytes
) -> None:
    dead.write(LOCK_KEY, garbage)
    line = one_line_error(dvlite("gc", "-w", "--cloud", "-f"))
    assert line.startswith(
        f"Error: remote 'store' ({dead.url}) is locked by an unknown owner (the lock file is "
        "not one dvlite wrote) since "
    )
    assert f"delete {dead.url}/{LOCK_KEY}" in line
    assert dead.read(LOCK_KEY) == garbage


@pytest.mark.parametrize("store", ["folder"], indirect=True)  # S3 keeps its own mtimes
def test_an_old_lock_file_dvlite_did_not_write_is_taken_over(dvlite: Invoke, dead: Store) -> None:
    dead.write(LOCK_KEY, b"garbage")
    old = time.time() - STALE_AFTER - 60
    os.utime(dead.path(LOCK_KEY), (old, old))
    ok(dvlite("gc", "-w", "--cloud", "-f"))
    assert LOCK_KEY not in all_keys(dead)


def test_a_lock_in_the_future_is_judged_by_its_files_time(dvlite: Invoke, dead: Store) -> None:
    dead.write(LOCK_KEY, lock_bytes(age=-10 * STALE_AFTER))  # a clock far ahead: not believed
    line = one_line_error(dvlite("gc", "-w", "--cloud", "-f"))
    assert "locked by an unknown owner" in line


def test_gc_releases_the_lock_when_it_fails(dvlite: Invoke, dead: Store) -> None:
    """An error once the lock is taken (here: an index file of a newer dvlite) leaves no lock."""
    _, data = packindex.encode({}, {})
    newer = data[:4] + (9).to_bytes(4, "little") + data[8:]
    dead.write(index_key(oid_of_bytes(newer)), newer)
    assert "upgrade dvlite" in one_line_error(dvlite("gc", "-w", "--cloud", "-f"))
    assert LOCK_KEY not in all_keys(dead)


# -- the lock itself, on each kind of store ------------------------------------------------------
@pytest.fixture(params=["folder", "s3", "memory"])
def any_store(request: pytest.FixtureRequest) -> Store:
    if request.param == "memory":
        store = MemoryStore()
        request.addfinalizer(store.clear)
        return store
    return request.getfixturevalue(f"{request.param}_store")  # type: ignore[no-any-return]


def test_one_holder_at_a_time(any_store: Store, tmp_path: Path) -> None:
    def remote():  # type: ignore[no-untyped-def]
        return from_config(RemoteConfig("store", any_store.url, any_store.options), tmp_path)

    first, second = RemoteLock(remote(), "gc"), RemoteLock(remote(), "remote repack")
    with first:
        with pytest.raises(RemoteError, match=r"is locked by .* \(pid \d+, gc\) since \d+ s ago"):
            second.acquire()
        first.check()  # still its own
    assert LOCK_KEY not in all_keys(any_store)
    with second:
        assert json.loads(any_store.read(LOCK_KEY))["command"] == "remote repack"
        other = lock_bytes()
        any_store.write(LOCK_KEY, other)  # taken over behind its back
        with pytest.raises(RemoteError, match="was taken over while this remote repack ran"):
            second.check()
    assert any_store.read(LOCK_KEY) == other  # not its own: left where it is
