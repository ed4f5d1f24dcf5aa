"""Trust in daily use: what a corrupt object, a killed run, a long file name, a full disk or a
missing bucket do to pull, checkout, fetch, fsck, gc and the hooks. Real git, real files, a
folder remote, S3 through moto where the remote's kind matters."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import SLOW_DISK, git, object_path
from remote_helpers import BOTH_FORMATS, FolderStore, corrupt_object, make_bucket, object_bytes

from dvlite.objects.fsutil import TMP_MARK
from dvlite.objects.hashing import hash_file, oid_of_bytes
from dvlite.records import pointer as ptr
from dvlite.records.repo import Repo


def commit_with_remote(
    repo: Repo, dvlite, store: Path, *paths: str, fmt: int | None = None
) -> None:
    assert dvlite("add", *paths).exit_code == 0
    assert dvlite("remote", "add", "-d", "store", str(store)).exit_code == 0
    if fmt is not None:
        assert dvlite("remote", "modify", "store", "format", str(fmt)).exit_code == 0
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "data")


def clone_of(repo: Repo, tmp_path_factory, monkeypatch) -> Path:
    there = tmp_path_factory.mktemp("clone") / "repo"
    git(repo.root, "clone", "-q", str(repo.root), str(there))
    monkeypatch.chdir(there)
    return there


def pointer_oid(path: Path, rel: str, repo_root: Path) -> str:
    """The oid of the file ``rel`` below the tracked folder whose pointer is ``path``."""
    cache = Repo(repo_root).cache
    entry_oid = ptr.load(path).oid
    parts = rel.split("/")
    for name in parts:
        entry = next(e for e in cache.load_tree(entry_oid) if e.name == name)
        entry_oid = entry.oid
    return entry_oid


def damage(path: Path, data: bytes = b"damaged") -> None:
    path.chmod(0o644)
    path.write_bytes(data)


# -- 6: one corrupt object does not block its folder ------------------------------------------
@BOTH_FORMATS
def test_pull_checks_out_every_file_whose_object_arrived(
    repo, dvlite, tmp_path_factory, monkeypatch, fmt
) -> None:
    store = tmp_path_factory.mktemp("store")
    repo.root.joinpath("data").mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        repo.root.joinpath("data", name).write_text(f"content of {name}")
    commit_with_remote(repo, dvlite, store, "data", fmt=fmt)
    assert dvlite("push").exit_code == 0
    bad = pointer_oid(repo.root / "data.dvl", "b.txt", repo.root)
    corrupt_object(FolderStore(store), bad)  # in its pack, on format 2

    there = clone_of(repo, tmp_path_factory, monkeypatch)
    result = dvlite("pull")
    assert result.exit_code == 1
    assert "corrupt on remote: data/b.txt" in result.stderr
    assert "Traceback" not in result.output
    assert (there / "data" / "a.txt").read_text() == "content of a.txt"
    assert (there / "data" / "c.txt").read_text() == "content of c.txt"
    assert not (there / "data" / "b.txt").exists()

    result = dvlite("checkout")  # installs what it has, names what it lacks
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: not in the cache, not checked out: data/b.txt; run `dvlite pull` to fetch them\n"
    )
    assert sorted(os.listdir(there / "data")) == ["a.txt", "c.txt"]


def test_checkout_of_a_folder_installs_what_the_cache_has(repo, dvlite) -> None:
    repo.root.joinpath("data").mkdir()
    for name in ("a.txt", "b.txt"):
        repo.root.joinpath("data", name).write_text(f"content of {name}")
    assert dvlite("add", "data").exit_code == 0
    gone = pointer_oid(repo.root / "data.dvl", "a.txt", repo.root)
    os.unlink(object_path(repo.cache_dir, gone))
    import shutil

    shutil.rmtree(repo.root / "data")
    result = dvlite("checkout")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: not in the cache, not checked out: data/a.txt; run `dvlite pull` to fetch them\n"
    )
    assert os.listdir(repo.root / "data") == ["b.txt"]


# -- 7: a damaged cache object can be repaired ---------------------------------------------------
def test_fetch_replaces_a_cache_object_that_checkout_found_corrupt(
    repo, dvlite, tmp_path_factory
) -> None:
    store = tmp_path_factory.mktemp("store")
    repo.root.joinpath("model.bin").write_bytes(b"weights" * 100)
    commit_with_remote(repo, dvlite, store, "model.bin")
    assert dvlite("push").exit_code == 0
    oid = ptr.load(repo.root / "model.bin.dvl").oid
    damage(object_path(repo.cache_dir, oid))
    os.unlink(repo.root / "model.bin")

    result = dvlite("checkout")
    assert result.exit_code == 1
    assert "corrupt objects in the cache, not checked out: model.bin" in result.stderr
    result = dvlite("fetch")
    assert result.exit_code == 0, result.output
    assert "1 objects fetched" in result.stdout or "1 object fetched" in result.stdout
    assert dvlite("checkout").exit_code == 0
    assert repo.root.joinpath("model.bin").read_bytes() == b"weights" * 100


def test_pull_replaces_a_corrupt_cache_object(repo, dvlite, tmp_path_factory) -> None:
    store = tmp_path_factory.mktemp("store")
    repo.root.joinpath("model.bin").write_bytes(b"weights" * 100)
    commit_with_remote(repo, dvlite, store, "model.bin")
    assert dvlite("push").exit_code == 0
    oid = ptr.load(repo.root / "model.bin.dvl").oid
    damage(object_path(repo.cache_dir, oid))
    os.unlink(repo.root / "model.bin")

    result = dvlite("pull")
    assert result.exit_code == 0, result.output
    assert repo.root.joinpath("model.bin").read_bytes() == b"weights" * 100
    assert hash_file(object_path(repo.cache_dir, oid))[0] == oid


def test_fsck_repair_fetches_good_copies_of_corrupt_and_missing_objects(
    repo, dvlite, tmp_path_factory
) -> None:
    store = tmp_path_factory.mktemp("store")
    repo.root.joinpath("data").mkdir()
    for name in ("a.txt", "b.txt"):
        repo.root.joinpath("data", name).write_text(f"content of {name}")
    commit_with_remote(repo, dvlite, store, "data")
    assert dvlite("push").exit_code == 0
    a = pointer_oid(repo.root / "data.dvl", "a.txt", repo.root)
    b = pointer_oid(repo.root / "data.dvl", "b.txt", repo.root)
    damage(object_path(repo.cache_dir, a))
    os.unlink(object_path(repo.cache_dir, b))

    result = dvlite("fsck")
    assert result.exit_code == 1
    assert "1 corrupt, 1 missing" in result.stdout
    result = dvlite("fsck", "--repair")
    assert result.exit_code == 0, result.output
    assert "repaired 2 objects from remote 'store'" in result.stdout
    assert "all good" in result.stdout
    assert hash_file(object_path(repo.cache_dir, a))[0] == a
    assert hash_file(object_path(repo.cache_dir, b))[0] == b
    assert dvlite("fsck").exit_code == 0


def test_unprotect_leaves_the_cache_object_intact_when_the_file_is_written(repo, dvlite) -> None:
    assert dvlite("config", "cache.type", "hardlink").exit_code == 0
    repo.root.joinpath("data").mkdir()
    repo.root.joinpath("data", "a.txt").write_text("original")
    assert dvlite("add", "data").exit_code == 0
    oid = pointer_oid(repo.root / "data.dvl", "a.txt", repo.root)
    target = repo.root / "data" / "a.txt"
    assert os.stat(target).st_ino == os.stat(object_path(repo.cache_dir, oid)).st_ino

    result = dvlite("unprotect", "data")
    assert result.exit_code == 0, result.output
    assert result.stdout == "unprotected 1 file\n"
    assert os.stat(target).st_ino != os.stat(object_path(repo.cache_dir, oid)).st_ino
    with open(target, "a") as f:  # writable for its owner, as root or not
        f.write(" and edited")
    assert target.read_text() == "original and edited"
    assert object_path(repo.cache_dir, oid).read_text() == "original"
    assert dvlite("fsck").exit_code == 0
    assert "data" in dvlite("status").stdout


# -- 8: the pre-commit framework's first push of a new branch -----------------------------------
def test_pre_commit_first_push_of_a_new_repo_sends_its_data(
    repo, dvlite, tmp_path_factory, monkeypatch
) -> None:
    store = tmp_path_factory.mktemp("store")
    repo.root.joinpath("a.txt").write_text("first")
    commit_with_remote(repo, dvlite, store, "a.txt")
    repo.root.joinpath("b.txt").write_text("second")
    assert dvlite("add", "b.txt").exit_code == 0
    git(repo.root, "commit", "-qm", "more data")
    origin = tmp_path_factory.mktemp("origin")
    git(origin, "init", "-q", "--bare")
    git(repo.root, "remote", "add", "origin", str(origin))
    # what pre-commit sets for a push that includes the root commit (no FROM_REF, no TO_REF)
    for key in ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PRE_COMMIT_REMOTE_NAME", "origin")
    monkeypatch.setenv("PRE_COMMIT_REMOTE_URL", str(origin))
    monkeypatch.setenv("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/main")
    monkeypatch.setenv("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main")
    result = dvlite("hook", "pre-push")
    assert result.exit_code == 0, result.output
    assert "dvlite: pushed 2 objects to the data remote store" in result.stderr
    for name in ("a.txt", "b.txt"):
        oid = ptr.load(repo.root / f"{name}.dvl").oid
        assert oid_of_bytes(object_bytes(FolderStore(store), oid)) == oid


def test_pre_commit_push_with_an_all_zeros_from_ref_sends_every_new_commit(
    repo, dvlite, tmp_path_factory, monkeypatch
) -> None:
    store = tmp_path_factory.mktemp("store")
    repo.root.joinpath("a.txt").write_text("first")
    commit_with_remote(repo, dvlite, store, "a.txt")
    head = git(repo.root, "rev-parse", "HEAD").strip()
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", "0" * 40)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", head)
    monkeypatch.setenv("PRE_COMMIT_REMOTE_NAME", "origin")
    monkeypatch.setenv("PRE_COMMIT_REMOTE_URL", "/nowhere")
    result = dvlite("hook", "pre-push")
    assert result.exit_code == 0, result.output
    oid = ptr.load(repo.root / "a.txt.dvl").oid
    assert oid_of_bytes(object_bytes(FolderStore(store), oid)) == oid


# -- 9: killed runs leave no temporary files behind ---------------------------------------------
def _kill_when(args: list[str], cwd: Path, ready) -> None:
    proc = subprocess.Popen([sys.executable, "-c", SLOW_DISK, *args], cwd=cwd)
    try:
        for _ in range(4000):
            if ready():
                break
            assert proc.poll() is None, f"{args} finished before it could be killed"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def _workspace_tmp(root: Path) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(d, n), root)
        for d, dirs, names in os.walk(root)
        for n in names
        if TMP_MARK in n and ".dvlite" not in Path(d).relative_to(root).parts
    )


def test_killed_checkout_leaves_no_temporary_files_after_the_next_run(repo, dvlite) -> None:
    data = repo.root / "data"
    data.mkdir()
    for i in range(6):
        (data / f"big{i}.bin").write_bytes(os.urandom(3 << 20))
    assert dvlite("add", "data").exit_code == 0
    import shutil

    shutil.rmtree(data)
    _kill_when(["checkout"], repo.root, lambda: bool(_workspace_tmp(repo.root)))
    left = _workspace_tmp(repo.root)
    assert left and all(p.startswith("data/") for p in left)

    result = dvlite("fsck")
    assert result.exit_code == 1
    assert f"temporary file left by a killed run: {left[0]}" in result.stdout
    result = dvlite("checkout")
    assert result.exit_code == 0, result.output
    assert _workspace_tmp(repo.root) == []
    assert dvlite("status").stdout == ""
    assert dvlite("fsck").exit_code == 0


def test_killed_folder_push_leaves_tmp_files_that_fsck_reports_and_gc_removes(
    repo, dvlite, tmp_path_factory
) -> None:
    store = tmp_path_factory.mktemp("store")
    repo.root.joinpath("big.bin").write_bytes(os.urandom(8 << 20))
    commit_with_remote(repo, dvlite, store, "big.bin")

    def remote_tmp() -> list[Path]:
        return sorted(p for p in store.rglob("*") if p.is_file() and TMP_MARK in p.name)

    _kill_when(["push"], repo.root, lambda: bool(remote_tmp()))
    left = remote_tmp()
    assert len(left) == 1
    result = dvlite("fsck", "--remote")
    assert result.exit_code == 1
    rel = left[0].relative_to(store).as_posix()
    assert f"temporary file of a killed (or running) push: {store}/{rel}" in result.stdout
    assert dvlite("gc", "-w", "--cloud", "-f").exit_code == 0
    assert remote_tmp() == left  # younger than the grace period: it may be a live push's
    old = time.time() - 2 * 3600
    os.utime(left[0], (old, old))
    result = dvlite("gc", "-w", "--cloud", "-f")
    assert result.exit_code == 0, result.output
    assert remote_tmp() == []
    assert dvlite("push").exit_code == 0
    assert dvlite("fsck", "--remote").exit_code == 0


# -- 10: file names -----------------------------------------------------------------------------
def test_a_250_byte_file_name_round_trips_add_and_checkout(repo, dvlite) -> None:
    name = "n" * 246 + ".bin"
    data = repo.root / "data"
    data.mkdir()
    (data / name).write_bytes(b"long name")
    (data / "short.txt").write_text("short")
    assert dvlite("add", "data").exit_code == 0
    import shutil

    shutil.rmtree(data)
    result = dvlite("checkout")
    assert result.exit_code == 0, result.output
    assert (data / name).read_bytes() == b"long name"
    assert (data / "short.txt").read_text() == "short"


def test_a_user_file_whose_name_contains_the_temp_mark_is_tracked(repo, dvlite) -> None:
    data = repo.root / "data"
    data.mkdir()
    (data / "a.dvlite-tmp-x").write_text("mine")
    (data / f".b{TMP_MARK}123-notours").write_text("also mine")
    assert dvlite("add", "data").exit_code == 0
    import shutil

    shutil.rmtree(data)
    assert dvlite("checkout").exit_code == 0
    assert (data / "a.dvlite-tmp-x").read_text() == "mine"
    assert (data / f".b{TMP_MARK}123-notours").read_text() == "also mine"
    assert ptr.load(repo.root / "data.dvl").files == 2


# -- 11: messages ---------------------------------------------------------------------------------
@pytest.fixture
def tiny_disk(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("tiny")
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)])
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield where
    subprocess.run(["umount", str(where)], check=True)


def test_a_full_local_disk_during_pull_names_the_local_cache(
    repo, dvlite, tmp_path_factory, monkeypatch, tiny_disk
) -> None:
    store = tmp_path_factory.mktemp("store")
    repo.root.joinpath("big.bin").write_bytes(os.urandom(3 << 20))
    commit_with_remote(repo, dvlite, store, "big.bin")
    assert dvlite("push").exit_code == 0
    clone_of(repo, tmp_path_factory, monkeypatch)
    assert dvlite("config", "--local", "cache.dir", str(tiny_disk / "cache")).exit_code == 0
    result = dvlite("pull")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: no space left on the local disk of the cache ({tiny_disk / 'cache'}); "
        "free some space there, then run the command again\n"
    )


def test_a_missing_bucket_is_named_by_status_fsck_and_gc(repo, dvlite, s3) -> None:
    repo.root.joinpath("a.txt").write_text("a")
    assert dvlite("add", "a.txt").exit_code == 0
    assert dvlite("remote", "add", "-d", "store", "s3://no-such-bucket/x").exit_code == 0
    assert dvlite("remote", "modify", "store", "endpoint_url", s3).exit_code == 0
    make_bucket(s3, "other")
    line = (
        "Error: remote 'store' (s3://no-such-bucket/x): bucket 'no-such-bucket' does not "
        "exist; create it or fix the url\n"
    )
    for args in (["status", "--remote"], ["fsck", "--remote"], ["gc", "-w", "--cloud", "-f"]):
        result = dvlite(*args)
        assert (result.exit_code, result.stdout, result.stderr) == (1, "", line), args


def test_permission_denied_on_a_folder_remote_hints_at_the_folder(
    repo, dvlite, tmp_path_factory, monkeypatch
) -> None:
    store = tmp_path_factory.mktemp("store")
    repo.root.joinpath("a.txt").write_text("a")
    commit_with_remote(repo, dvlite, store, "a.txt")
    real = os.makedirs

    def denied(path, *args, **kwargs):  # the OS boundary: a folder we may not write into
        if str(path).startswith(str(store)):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "makedirs", denied)
    result = dvlite("push")
    monkeypatch.setattr(os, "makedirs", real)
    assert result.exit_code == 1
    assert "AWS" not in result.stderr and "credentials" not in result.stderr
    assert result.stderr.startswith(f"Error: permission denied by remote 'store' ({store}): ")
    assert result.stderr.endswith(f"; check that this user may read and write the folder {store}\n")


def test_push_refuses_a_pointer_whose_kind_dir_names_a_file_object(
    repo, dvlite, tmp_path_factory
) -> None:
    store = tmp_path_factory.mktemp("store")
    repo.root.joinpath("a.txt").write_text("a")
    commit_with_remote(repo, dvlite, store, "a.txt")
    assert dvlite("push").exit_code == 0
    pointer = repo.root / "a.txt.dvl"
    pointer.write_text(pointer.read_text().replace("kind: file", "kind: dir"))
    result = dvlite("push")
    assert result.exit_code == 1
    assert "Everything is up to date" not in result.output
    assert "Traceback" not in result.output
    assert "a.txt" in result.stderr and "is not a tree" in result.stderr
