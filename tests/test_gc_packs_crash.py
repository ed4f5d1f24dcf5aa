"""A `gc --cloud` of a format 2 remote killed (SIGKILL) at random moments of each of its steps
(writing packs, just after its index file, deleting), several times: every
object a kept revision uses stays readable, no live index file names a missing pack, a fresh
clone pulls identical bytes, and the next gc (taking over the dead gc's lock) finishes the job.
Real processes on a slow disk, a real folder remote."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import git, invoke, ok, snapshot
from pack_helpers import Folder, held, keys_under, unreadable
from remote_helpers import locations

from dvlite.objects.fsutil import TMP_MARK
from dvlite.ops.gc import used_objects
from dvlite.records.repo import Repo
from dvlite.remote.lock import LOCK_KEY
from dvlite.remote.packed import pack_key

# dvlite on a slow disk: each write sleeps (helpers.SLOW_DISK), and so does each removal of a
# file of the remote (argv[1]), so that a kill lands while packs are written or deleted
SLOW_REMOTE = """
import os, sys, time
store = sys.argv[1]
real_write, real_unlink = os.write, os.unlink
def slow_write(fd, data):
    n = real_write(fd, data[: 1 << 16])
    time.sleep(0.01)
    return n
def slow_unlink(path, *args, **kwargs):
    if os.fspath(path).startswith(store):
        time.sleep(0.1)
    return real_unlink(path, *args, **kwargs)
os.write, os.unlink = slow_write, slow_unlink
from dvlite.cli import main
main(sys.argv[2:])
"""
FOLDERS, PER_FOLDER, SIZE = 4, 150, 8 << 10  # 4.8 MB a revision


def revision(root: Path, n: int, rng: random.Random) -> None:
    """Rewrite 60% of data/'s files (all of them the first time), add, commit, push."""
    for f in range(FOLDERS):
        for i in range(PER_FOLDER):
            path = root / "data" / f"part{f}" / f"{i:03}.bin"
            if path.exists() and i % 5 >= 3:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                path.chmod(0o644)
            path.write_bytes(rng.randbytes(SIZE))
    ok(invoke("add", "data"))
    git(root, "add", "-A")
    git(root, "commit", "-qm", f"revision {n}")
    ok(invoke("push"))


def packs(store: Path) -> set[str]:
    return {k for k in keys_under(store, "packs") if k.endswith(".pack")}


def whole_state(store: Path, live: set[str]) -> None:
    """What must hold at every moment of a gc, killed or not."""
    assert unreadable(store, live) == set()
    named = {pack_key(loc.pack) for loc in locations(Folder(store)).values() if loc.pack}
    assert named <= packs(store), "a live index file names a missing pack"


def fresh_pull(repo: Repo, dest: Path) -> dict[str, bytes]:
    git(repo.root.parent, "clone", "-q", str(repo.root), str(dest))
    os.chdir(dest)
    try:
        ok(invoke("pull"))
    finally:
        os.chdir(repo.root)
    return snapshot(dest / "data")


def files(store: Path) -> set[str]:
    return {p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file()}


# when to kill a gc: once the remote shows it has reached a step (then a random moment more)
STEPS: dict[str, Callable[[set[str], set[str]], bool]] = {
    "packing": lambda before, now: any("packs/" in k and TMP_MARK in k for k in now),
    "indexed": lambda before, now: any(k.endswith(".idx") for k in now - before),
    "deleting": lambda before, now: any(k.endswith(".idx") for k in before - now),
    "deleting packs": lambda before, now: any(k.endswith(".pack") for k in before - now),
}


def kill_at(proc: subprocess.Popen[bytes], store: Path, step: str, jitter: float) -> bool:
    """SIGKILL ``proc`` once ``step`` is seen on the remote, ``jitter`` seconds later; whether
    it was still running then."""
    before, reached = files(store), STEPS[step]
    deadline = time.monotonic() + 60
    while proc.poll() is None and not reached(before, files(store)):
        assert time.monotonic() < deadline, f"gc never reached {step}"
        time.sleep(0.002)
    time.sleep(jitter)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    return proc.returncode == -signal.SIGKILL


def test_killed_gc_cloud_leaves_every_live_object_readable(
    repo: Repo, tmp_path_factory: pytest.TempPathFactory
) -> None:
    store = tmp_path_factory.mktemp("store")
    ok(invoke("remote", "add", "-d", "store", str(store)))
    ok(invoke("remote", "modify", "store", "gc_grace", "0"))
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "remote")
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    revision(repo.root, 0, rng)
    killed = []
    for n, step in enumerate(list(STEPS) * 2, 1):
        revision(repo.root, n, rng)
        live = used_objects(Repo.find(repo.root), [])
        assert len(held(store)) > len(live)  # the last revision's changed files are dead
        whole_state(store, live)
        proc = subprocess.Popen(
            [sys.executable, "-c", SLOW_REMOTE, str(store), "gc", "-w", "--cloud", "-f"],
            cwd=repo.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if kill_at(proc, store, step, rng.uniform(0, 0.05)):
            killed.append(step)
        else:
            assert proc.returncode == 0
        whole_state(store, live)
        dest = tmp_path_factory.mktemp("fresh") / "clone"
        assert fresh_pull(repo, dest) == snapshot(repo.root / "data"), f"seed {seed}"
    assert set(killed) == set(STEPS), f"seed {seed}: killed while {killed}"

    # the next gc takes over the lock a killed one left (its process is gone) and finishes
    ok(invoke("gc", "-w", "--cloud", "-f"))
    live = used_objects(Repo.find(repo.root), [])
    assert held(store) == live
    whole_state(store, live)
    named = {pack_key(loc.pack) for loc in locations(Folder(store)).values() if loc.pack}
    assert packs(store) == named  # nothing left over (but the killed gcs' temporary files)
    assert len([k for k in keys_under(store, "index") if k.endswith(".idx")]) == 1
    assert LOCK_KEY not in files(store)
