"""Git remotes and data remotes together: the pre-push hook, and gc with remotes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from helpers import git
from pack_helpers import held, keys_under
from remote_helpers import FolderStore, stored_oids

from dvlite.objects.hashing import oid_of_bytes
from dvlite.records.repo import Repo


def oid(text: str) -> str:
    return oid_of_bytes(text.encode())


def stored(store: Path) -> set[str]:
    """The objects a folder remote holds (whole, or named by an index file)."""
    return stored_oids(FolderStore(store))


def setup_remotes(repo: Repo, dvlite) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    """A bare git repository as origin and a folder as the default data remote."""
    base = repo.root.parent
    origin, store = base / f"{repo.root.name}-origin.git", base / f"{repo.root.name}-store"
    git(base, "init", "-q", "--bare", "-b", "main", str(origin))
    store.mkdir()
    git(repo.root, "remote", "add", "origin", str(origin))
    assert dvlite("remote", "add", "-d", "store", str(store)).exit_code == 0
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "dvlite with a remote")
    return origin, store


def test_git_push_pushes_the_data_and_a_fresh_clone_pulls_it(repo: Repo, dvlite, on_path) -> None:
    origin, store = setup_remotes(repo, dvlite)
    root = repo.root
    (root / "data").mkdir()
    (root / "data" / "a").write_text("a v1")
    dvlite("add", "data")
    git(root, "commit", "-qm", "v1")
    (root / "data" / "a").write_text("a v2")
    (root / "data" / "b").write_text("b")
    dvlite("add", "data")
    git(root, "commit", "-qm", "v2")
    assert dvlite("install").exit_code == 0

    push = subprocess.run(
        ["git", "push", "-q", "origin", "main"], cwd=root, capture_output=True, text=True
    )
    assert (push.returncode, push.stderr) == (
        0,
        "dvlite: pushed 5 objects to the data remote store\n",
    )
    # every commit pushed, not only the tip: both versions of a, b, and both trees
    assert {oid("a v1"), oid("a v2"), oid("b")} <= stored(store)
    assert len(stored(store)) == 5

    push = subprocess.run(
        ["git", "push", "-q", "origin", "main"], cwd=root, capture_output=True, text=True
    )
    assert (push.returncode, push.stderr) == (0, "")  # nothing new to send

    clone = root.parent / "clone"
    git(root.parent, "clone", "-q", str(origin), str(clone))
    pull = subprocess.run(
        [sys.executable, "-m", "dvlite", "pull"], cwd=clone, capture_output=True, text=True
    )
    assert pull.returncode == 0, pull.stderr
    assert (clone / "data" / "a").read_text() == "a v2"
    assert (clone / "data" / "b").read_text() == "b"


def test_a_failed_data_push_stops_the_git_push(repo: Repo, dvlite, on_path) -> None:
    origin, _store = setup_remotes(repo, dvlite)
    (repo.root / "model.bin").write_text("weights")
    dvlite("add", "model.bin")
    git(repo.root, "commit", "-qm", "model")
    dvlite("install")
    missing = repo.root.parent / "a-file-not-a-folder"
    missing.write_text("")
    assert dvlite("remote", "modify", "store", "url", str(missing)).exit_code == 0
    push = subprocess.run(
        ["git", "push", "origin", "main"], cwd=repo.root, capture_output=True, text=True
    )
    assert push.returncode == 1
    lines = push.stderr.splitlines()
    assert lines[0].startswith("dvlite pre-push: ")
    assert str(missing) in lines[0]
    assert lines[1] == (
        "the git push was stopped so that the commits do not arrive without their data; fix the "
        "above and push again (`git push --no-verify` skips this check)"
    )
    assert git(origin, "branch", "--list") == ""  # git sent nothing


def test_a_user_pre_push_hook_still_gets_the_refs(repo: Repo, dvlite, on_path) -> None:
    _origin, store = setup_remotes(repo, dvlite)
    hook = repo.root / ".git" / "hooks" / "pre-push"
    hook.write_text('#!/bin/sh\nwhile read a b c d; do echo "$1 $a $c" >> pushed.log; done\n')
    hook.chmod(0o755)
    (repo.root / "model.bin").write_text("weights")
    dvlite("add", "model.bin")
    git(repo.root, "commit", "-qm", "model")
    dvlite("install")
    push = subprocess.run(
        ["git", "push", "-q", "origin", "main"], cwd=repo.root, capture_output=True, text=True
    )
    assert push.returncode == 0, push.stderr
    assert (repo.root / "pushed.log").read_text() == "origin refs/heads/main refs/heads/main\n"
    assert oid("weights") in stored(store)


def test_gc_removes_what_a_remote_holds_and_keeps_the_only_copies(repo: Repo, dvlite) -> None:
    _origin, _store = setup_remotes(repo, dvlite)
    root = repo.root
    (root / "model.bin").write_text("v1")
    dvlite("add", "model.bin")
    git(root, "commit", "-qm", "v1")
    assert dvlite("push").exit_code == 0  # v1 is on the remote
    (root / "model.bin").write_text("v2")
    dvlite("add", "model.bin")
    git(root, "commit", "-qm", "v2")
    (root / "model.bin").write_text("v3")  # v2 is only in the cache
    dvlite("add", "model.bin")

    result = dvlite("gc", "-w")
    assert result.stdout == "removed 1 object (2 B) from the cache\n"
    assert result.stderr == (
        "kept 1 unused object (2 B) that no remote holds: they are the only copy. "
        "`dvlite push` them first, or use --force to remove them\n"
    )
    assert set(repo.cache.iter_oids()) == {oid("v2"), oid("v3")}


def test_gc_cloud(repo: Repo, dvlite) -> None:
    _origin, store = setup_remotes(repo, dvlite)
    assert dvlite("remote", "modify", "store", "gc_grace", "0").exit_code == 0
    root = repo.root
    for version in ("v1", "v2", "v3"):
        (root / "model.bin").write_text(version)
        dvlite("add", "model.bin")
        git(root, "commit", "-qm", version)
        assert dvlite("push").exit_code == 0
    git(root, "tag", "release", "HEAD~1")  # v2
    assert len(keys_under(store, "index")) == 3  # one index file a push

    # one remote only: removing from it would leave v1 nowhere, so without --force it stays
    result = dvlite("gc", "-T", "--cloud", "--json")
    data = json.loads(result.stdout)
    assert (data["removed"], data["cloud_removed"]) == ([oid("v1")], [])
    assert data["cloud_kept_only_copy"] == [oid("v1")]
    assert held(store) == {oid("v1"), oid("v2"), oid("v3")}
    # nothing dropped, but the three index files and packs merged into one each
    assert len(keys_under(store, "index")) == len(keys_under(store, "packs")) == 1

    # a second remote with a copy makes it safe
    backup = root.parent / "backup"
    backup.mkdir()
    assert dvlite("remote", "add", "backup", str(backup)).exit_code == 0
    assert dvlite("remote", "modify", "backup", "gc_grace", "0").exit_code == 0
    assert dvlite("pull", "--rev", "HEAD~2").exit_code == 0
    assert dvlite("push", "-r", "backup", "--rev", "HEAD~2").exit_code == 0
    result = dvlite("gc", "-T", "--cloud", "--dry")
    assert result.stdout == (
        f"would remove {oid('v1')}\n"
        f"would remove {oid('v1')} from store\n"
        "would remove 1 object (2 B) from the cache\n"
        "would remove 1 object from the remote store\n"
    )
    assert held(store) == {oid("v1"), oid("v2"), oid("v3")}
    result = dvlite("gc", "-T", "--cloud")
    assert result.exit_code == 0
    assert held(store) == {oid("v2"), oid("v3")}
    assert held(backup) == {oid("v1"), oid("v3")}  # push --rev sends the workspace's too

    result = dvlite("gc", "-w", "--cloud", "-r", "backup", "-f")
    assert result.stdout == (
        "removed 1 object (2 B) from the cache\nremoved 1 object from the remote backup\n"
    )
    assert held(backup) == {oid("v3")}
    assert set(repo.cache.iter_oids()) == {oid("v3")}
    assert len(keys_under(backup, "packs")) == 1
