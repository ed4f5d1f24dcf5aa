"""On a format 1 remote (loose objects), an interrupted `gc --cloud` leaves no tree without its
children, and `push` and `status --remote` look for every object themselves, so a remote a tree
of which has lost its contents (an older gc, killed) is reported and repaired rather than taken
at its word. (Format 2, packs: tests/test_gc_packs.py and test_gc_packs_crash.py.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from helpers import RunResult, git, ok, snapshot
from remote_helpers import Store, add_remote, key_of

from dvlite.objects.fsutil import TMP_MARK
from dvlite.objects.hashing import PREFIX, hex_of, oid_of_bytes
from dvlite.objects.tree import DIR, FILE, Tree, TreeEntry
from dvlite.ops.gc import deletion_waves
from dvlite.records import pointer
from dvlite.records.repo import Repo
from dvlite.remote import Remote

Invoke = Callable[..., RunResult]


def objects(store: Path) -> set[str]:
    """The oids of a folder remote's objects under their final names."""
    base = store / "objects"
    if not base.is_dir():
        return set()
    return {
        PREFIX + d.name + n
        for d in base.iterdir()
        for n in os.listdir(d)
        if TMP_MARK not in n and len(n) == 30
    }


def trees_lacking_children(store: Path) -> dict[str, set[str]]:
    """Each tree on a folder remote (read from the remote itself) -> its children the remote
    lacks; empty when every tree there is whole."""
    held = objects(store)
    lacking = {}
    for oid in held:
        h = hex_of(oid)
        data = (store / "objects" / h[:2] / h[2:]).read_bytes()
        if not data.startswith(b"["):
            continue
        try:
            tree = Tree.from_bytes(data, oid)
        except Exception:  # a file that happens to start like JSON
            continue
        gone = {c.oid for c in tree} - held
        if gone:
            lacking[oid] = gone
    return lacking


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def clone_and_pull(repo: Repo, dest: Path, dvlite: Invoke) -> Path:
    clone = dest / "clone"
    git(repo.root, "clone", "-q", str(repo.root), str(clone))
    os.chdir(clone)
    try:
        ok(dvlite("pull"))
    finally:
        os.chdir(repo.root)
    return clone


# -- a remote whose tree is there and its files are not -----------------------------------------
def test_a_tree_whose_files_are_gone_is_reported_and_pushed_again(
    repo: Repo, dvlite: Invoke, store: Store, tmp_path_factory
) -> None:
    root = repo.root
    files = {"a/1.txt": "one", "a/2.txt": "two", "b/3.txt": "three", "top.txt": "top"}
    for name, text in files.items():
        (root / "data" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "data" / name).write_text(text)
    ok(dvlite("add", "data"))
    add_remote(store)
    ok(dvlite("remote", "modify", "store", "format", "1"))
    commit(root, "data")
    ok(dvlite("push"))
    assert dvlite("status", "--remote", "-q").exit_code == 0

    # what a gc that deleted in oid order and was killed left: data/a's tree, not its files
    for text in ("one", "two"):
        store.delete(key_of(oid_of_bytes(text.encode())))

    assert dvlite("status", "--remote", "-q").exit_code == 1
    report = json.loads(ok(dvlite("status", "--remote", "--json")).stdout)
    assert report["not_on_remote"] == ["data/a/1.txt", "data/a/2.txt"]
    assert report["missing"] == report["not_in_cache"] == []
    assert "data/a/1.txt" in dvlite("status", "--remote", "-v").stdout

    result = ok(dvlite("push"))
    assert "Everything is up to date" not in result.output
    assert ok(dvlite("status", "--remote", "-q")).exit_code == 0

    clone = clone_and_pull(repo, tmp_path_factory.mktemp("fresh"), dvlite)
    assert snapshot(clone / "data") == snapshot(root / "data")


# -- a real kill of a real gc --cloud -----------------------------------------------------------
REVISIONS, FOLDERS, PER_FOLDER = 3, 6, 120  # 2,160 files, 720 a revision

# `python -m dvlite` on a slow disk (each unlink sleeps), so that the kill lands while objects
# are being deleted; os.unlink is a built-in, not one of our layers.
_SLOW_GC = """
import os, runpy, sys, time
real_unlink = os.unlink
def slow_unlink(path, *args, **kwargs):
    time.sleep(0.001)
    return real_unlink(path, *args, **kwargs)
os.unlink = slow_unlink
sys.argv = ["dvlite", "gc", "-w", "--cloud", "-f"]
runpy.run_module("dvlite", run_name="__main__")
"""


def _revisions(repo: Repo, dvlite: Invoke) -> None:
    """data/ committed three times, every file different each time."""
    for rev in range(REVISIONS):
        for f in range(FOLDERS):
            folder = repo.root / "data" / f"part{f}"
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(PER_FOLDER):
                path = folder / f"{i:03}.txt"
                if path.exists():
                    path.chmod(0o644)
                path.write_text(f"revision {rev} folder {f} file {i}\n")
        ok(dvlite("add", "data"))
        commit(repo.root, f"revision {rev}")


def test_killed_gc_cloud_leaves_every_tree_whole(
    repo: Repo, dvlite: Invoke, tmp_path_factory
) -> None:
    store = tmp_path_factory.mktemp("store")
    ok(dvlite("remote", "add", "-d", "store", str(store)))
    ok(dvlite("remote", "modify", "store", "format", "1"))
    ok(dvlite("remote", "modify", "store", "jobs", "1"))  # one deletion at a time
    commit(repo.root, "remote")
    _revisions(repo, dvlite)
    ok(dvlite("push", "-A"))
    before = objects(store)
    kept = FOLDERS * PER_FOLDER + FOLDERS + 1  # the workspace's files and trees
    assert len(before) == REVISIONS * kept

    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_GC],
        cwd=repo.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while len(objects(store)) > len(before) - 40:  # some deletions have happened
            assert proc.poll() is None, "gc finished before it could be interrupted"
            assert time.monotonic() < deadline, "gc deleted nothing within 60 s"
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    left = objects(store)
    assert kept < len(left) < len(before)  # interrupted in the middle
    assert trees_lacking_children(store) == {}

    ok(dvlite("push"))
    assert trees_lacking_children(store) == {}
    clone = clone_and_pull(repo, tmp_path_factory.mktemp("fresh"), dvlite)
    assert snapshot(clone / "data") == snapshot(repo.root / "data")

    # run again, it finishes: only the workspace's objects are left, all of them whole
    ok(dvlite("gc", "-w", "--cloud", "-f"))
    assert len(objects(store)) == kept
    assert trees_lacking_children(store) == {}


# -- the order, as a property of the waves ------------------------------------------------------
def _tree(*entries: TreeEntry) -> Tree:
    return Tree.of(entries)


def _file(name: str) -> TreeEntry:
    return TreeEntry(name, FILE, oid_of_bytes(name.encode()), len(name))


def _dir(name: str, tree: Tree) -> TreeEntry:
    return TreeEntry(name, DIR, tree.oid, tree.size)


def test_deletion_waves_put_every_tree_before_what_it_holds() -> None:
    leaf = _tree(_file("1"), _file("2"))
    shared = _tree(_file("3"))  # also used by a kept revision: not in the drop set
    middle = _tree(_dir("leaf", leaf), _dir("shared", shared), _file("4"))
    top = _tree(_dir("middle", middle), _file("5"))
    trees = {t.oid: t for t in (top, middle, leaf)}
    drop = set(trees) | {_file(n).oid for n in "1245"}

    waves = deletion_waves(drop, trees)

    assert waves == [[top.oid], [middle.oid], [leaf.oid], sorted(_file(n).oid for n in "1245")]
    assert sorted(o for wave in waves for o in wave) == sorted(drop)
    at = {oid: i for i, wave in enumerate(waves) for oid in wave}
    for tree_oid, tree in trees.items():
        for child in tree:
            if child.oid in drop:
                assert at[tree_oid] < at[child.oid]


def test_gc_cloud_deletes_in_waves_parents_first(
    repo: Repo, dvlite: Invoke, tmp_path_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path_factory.mktemp("store")
    ok(dvlite("remote", "add", "-d", "store", str(store)))
    ok(dvlite("remote", "modify", "store", "format", "1"))
    (repo.root / "data" / "a" / "b").mkdir(parents=True)
    (repo.root / "data" / "a" / "b" / "deep.txt").write_text("deep")
    (repo.root / "data" / "a" / "mid.txt").write_text("mid")
    ok(dvlite("add", "data"))
    commit(repo.root, "old")
    ok(dvlite("push"))
    old = objects(store)
    top = pointer.load(repo.root / "data.dvl").oid
    a = repo.cache.load_tree(top).by_name["a"].oid
    b = repo.cache.load_tree(a).by_name["b"].oid
    ok(dvlite("remove", "data.dvl"))
    commit(repo.root, "gone")

    batches: list[list[str]] = []
    real = Remote.delete

    def recording(self: Remote, oids: Iterable[str]) -> None:
        batches.append(list(oids))
        real(self, batches[-1])

    monkeypatch.setattr(Remote, "delete", recording)
    ok(dvlite("gc", "-w", "--cloud", "-f"))
    files = sorted(oid_of_bytes(t) for t in (b"deep", b"mid"))
    assert batches == [[top], [a], [b], files]  # data/, a/, a/b/, then the files
    assert old == {top, a, b, *files}
    assert objects(store) == set()


# -- without --force: a tree that stays keeps what is below it ----------------------------------
def test_gc_cloud_without_force_keeps_the_children_of_a_tree_it_keeps(
    repo: Repo, dvlite: Invoke, tmp_path_factory
) -> None:
    a, b = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    ok(dvlite("remote", "add", "-d", "a", str(a)))
    ok(dvlite("remote", "add", "b", str(b)))
    for name in ("a", "b"):
        ok(dvlite("remote", "modify", name, "format", "1"))
    root = repo.root
    (root / "data").mkdir()
    (root / "data" / "1.txt").write_text("one")
    (root / "data" / "2.txt").write_text("two")
    (root / "model.bin").write_text("model v1")
    ok(dvlite("add", "data", "model.bin"))
    commit(root, "v1")
    old_tree = pointer.load(root / "data.dvl").oid
    ok(dvlite("push", "-r", "a"))
    # b holds the old files and the old model, not the old tree (a push cut short before
    # the tree, or only those files pushed there)
    ok(dvlite("push", "-r", "b", "data/1.txt", "data/2.txt", "model.bin"))
    assert old_tree not in objects(b)

    (root / "data" / "1.txt").chmod(0o644)
    (root / "data" / "1.txt").write_text("one, again")
    (root / "model.bin").chmod(0o644)
    (root / "model.bin").write_text("model v2")
    ok(dvlite("add", "data", "model.bin"))
    commit(root, "v2")
    ok(dvlite("push", "-r", "a"))

    result = json.loads(ok(dvlite("gc", "-w", "--cloud", "-r", "a", "--json")).stdout)
    one, two, model = (oid_of_bytes(t) for t in (b"one", b"two", b"model v1"))
    assert result["cloud_kept_only_copy"] == [old_tree]
    assert result["cloud_removed"] == [model]  # not the files below the tree it keeps
    assert {old_tree, one, two} <= objects(a)
    assert model not in objects(a)
    assert trees_lacking_children(a) == {}
