"""`gc --cloud` while another clone pushes, really at the same time (two processes, folder and
S3): nothing the pushing clone's commits reference is lost. What protects them: a push writes
its packs before its index file, and gc deletes no pack, index file or whole object younger
than `remote.NAME.gc_grace`, counts what young index files name as live, and reads again the
index files that appeared while it ran before deleting anything. Once older than the grace
period, the pushing clone's objects are like any others: here gc runs without --force and they
are on no other remote, so they stay (rewritten into gc's packs)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import git, invoke, ok, snapshot
from pack_helpers import held, unreadable
from remote_helpers import Store, add_remote

from dvlite.ops.gc import used_objects
from dvlite.records.repo import Repo

GRACE = 5  # seconds: longer than any one push of this test takes

# the other clone: commits with new files only (beside the first revision's), each pushed at
# once, until the file argv[1] appears (at most 60); `[sys.executable, "-c", PUSHING, stop]`
PUSHING = """
import os, subprocess, sys
def dvlite(*args):
    subprocess.run([sys.executable, "-m", "dvlite", *args], check=True, capture_output=True)
for k in range(60):
    if os.path.exists(sys.argv[1]):
        break
    folder = os.path.join("data", "new", str(k))
    os.makedirs(folder)
    for i in range(40):
        with open(os.path.join(folder, f"{i}.bin"), "wb") as f:
            f.write(os.urandom(2048))
    dvlite("add", "data")
    subprocess.run(["git", "add", "-A"], check=True)
    subprocess.run(["git", "commit", "-qm", f"new {k}"], check=True)
    dvlite("push")
"""


def dvlite_in(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dvlite", *args], cwd=root, capture_output=True, text=True
    )


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def test_gc_cloud_while_another_clone_pushes_loses_nothing_of_its_commits(
    repo: Repo, store: Store, tmp_path_factory: pytest.TempPathFactory
) -> None:
    base = tmp_path_factory.mktemp("clones")
    origin = base / "origin.git"
    git(base, "init", "-q", "--bare", "-b", "main", str(origin))
    root = repo.root
    git(root, "remote", "add", "origin", str(origin))
    add_remote(store)
    ok(invoke("remote", "modify", "store", "gc_grace", str(GRACE)))
    ok(invoke("remote", "add", "backup", str(base / "backup")))  # holds this clone's old data
    (base / "backup").mkdir()
    commit(root, "remotes")
    for v in range(3):  # two old revisions, then the one both clones start from
        data = root / "data" / "old"
        data.mkdir(parents=True, exist_ok=True)
        for i in range(60):
            path = data / f"{i}.txt"
            if path.exists():
                path.chmod(0o644)
            path.write_text(f"revision {v} file {i}\n" * 10)
        ok(invoke("add", "data"))
        commit(root, f"revision {v}")
    ok(invoke("push", "-A"))
    ok(invoke("push", "-A", "-r", "backup"))
    git(root, "push", "-q", "origin", "main")
    start = used_objects(Repo.find(root), [])
    dead = held(store) - start
    assert len(dead) == 2 * (60 + 2)  # the old revisions' files and trees (data, data/old)

    other = base / "other"
    git(base, "clone", "-q", str(origin), str(other))
    assert dvlite_in(other, "pull").returncode == 0
    time.sleep(GRACE + 0.5)  # the old revisions' packs and index files are old now

    stop = base / "stop"
    pushing = subprocess.Popen(
        [sys.executable, "-c", PUSHING, str(stop)],
        cwd=other,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    runs, overlapped = [], 0
    deadline = time.monotonic() + 60
    while pushing.poll() is None:
        result = dvlite_in(root, "gc", "-w", "--cloud", "--json")
        assert result.returncode == 0, result.stderr
        runs.append(json.loads(result.stdout))
        overlapped += pushing.poll() is None
        # once gc has rewritten the other clone's packs too (old enough now), twice: stop it
        if sum(bool(r["cloud_repack"]["packs_rewritten"]) for r in runs[1:]) >= 2:
            stop.touch()
        assert time.monotonic() < deadline, "gc never rewrote the other clone's packs"
    _, err = pushing.communicate(timeout=120)
    assert pushing.returncode == 0, err
    assert overlapped >= 3, f"only {overlapped} gc ran while the other clone pushed"
    pushes = int(git(other, "rev-list", "--count", "HEAD")) - int(
        git(root, "rev-list", "--count", "HEAD")
    )
    assert pushes >= 2

    # this clone's dead objects went (the backup has them); the other clone's all stayed
    assert set(runs[0]["cloud_removed"]) == dead
    assert held(store) & dead == set()
    theirs = used_objects(Repo.find(other), [])
    revs = git(other, "rev-list", f"HEAD~{pushes}..HEAD").split()
    for rev in revs:
        git(other, "checkout", "-q", rev)
        theirs |= used_objects(Repo.find(other), [])
    git(other, "checkout", "-q", "main")
    assert unreadable(store, theirs) == set()

    fresh = base / "fresh"
    git(base, "clone", "-q", str(other), str(fresh))
    fetched = dvlite_in(fresh, "fetch", *(a for r in revs for a in ("--rev", r)))
    assert fetched.returncode == 0, fetched.stderr
    assert dvlite_in(fresh, "pull").returncode == 0
    assert snapshot(fresh / "data") == snapshot(other / "data")
