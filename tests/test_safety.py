"""Nothing is lost: a full disk, a kill or Ctrl-C in the middle of add leaves the workspace
intact and the cache free of partial objects, and the next run works."""

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from helpers import assert_cache_sound, snapshot

from dvlite.objects.fsutil import JOURNAL, TMP_MARK, clean_stale_tmp


def _dataset(root) -> None:
    (root / "data" / "sub").mkdir(parents=True)
    for i in range(20):
        (root / "data" / f"f{i:02}").write_bytes(os.urandom(100) + bytes([i]))
    (root / "data" / "sub" / "big").write_bytes(os.urandom(3 << 20))  # the streaming-copy path


def _tmp_files(repo) -> list[str]:
    tmp = repo.cache_dir / "tmp"
    return sorted(os.listdir(tmp)) if tmp.is_dir() else []


@pytest.mark.parametrize("fail_after", [0, 5, 18, 21])
def test_enospc_in_the_middle_of_add(repo, dvlite, monkeypatch, fail_after) -> None:
    _dataset(repo.root)
    before = snapshot(repo.root)
    real_write = os.write
    calls = 0

    def full_disk(fd: int, data: bytes) -> int:
        nonlocal calls
        calls += 1
        if calls > fail_after:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full_disk)
    result = dvlite("add", "data")
    monkeypatch.setattr(os, "write", real_write)

    assert result.exit_code == 1
    assert result.stderr == (
        "Error: No space left on device; free some space, then run the command again\n"
    )
    assert snapshot(repo.root) == before  # workspace intact, no pointer, no .gitignore
    assert_cache_sound(repo.cache_dir)
    assert _tmp_files(repo) == []
    # with space again, the same command finishes the job
    result = dvlite("add", "data")
    assert result.exit_code == 0, result.output
    assert dvlite("status").stdout == ""


def test_enospc_while_writing_the_pointer(repo, dvlite, monkeypatch) -> None:
    repo.root.joinpath("f").write_bytes(b"x" * 10)
    dvlite("add", "f")
    old_pointer = repo.root.joinpath("f.dvl").read_bytes()
    repo.root.joinpath("f").write_bytes(b"y" * 10)
    real_write = os.write
    calls = 0

    def full_disk(fd: int, data: bytes) -> int:
        nonlocal calls
        calls += 1
        if calls > 1:  # the object gets in, the pointer does not
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full_disk)
    result = dvlite("add", "f")
    monkeypatch.setattr(os, "write", real_write)
    assert result.exit_code == 1
    assert repo.root.joinpath("f.dvl").read_bytes() == old_pointer  # old or new, never torn
    assert not [p for p in os.listdir(repo.root) if TMP_MARK in p]
    assert repo.root.joinpath("f").read_bytes() == b"y" * 10


# A child process whose disk is slow (each write sleeps), so the test can interrupt it
# for certain while it is writing an object; os.write is a built-in, not one of our layers.
_SLOW_ADD = textwrap.dedent(
    """
    import os, sys, time
    real_write = os.write
    def slow_write(fd, data):
        n = real_write(fd, data[: 1 << 16])
        time.sleep(0.02)
        return n
    os.write = slow_write
    from dvlite.cli import main
    main(sys.argv[1:])
    """
)


def _start_slow_add(repo, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _SLOW_ADD, "add", *args],
        cwd=repo.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _size(path) -> int:
    try:
        return os.path.getsize(path)
    except FileNotFoundError:  # renamed into the cache between the listing and the stat
        return 0


def _wait_until_writing(repo, proc) -> None:
    tmp = repo.cache_dir / "tmp"
    for _ in range(2000):
        if tmp.is_dir() and any(_size(tmp / n) > 0 for n in os.listdir(tmp)):
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.005)
    raise AssertionError("add never started writing")


def _big_file(repo) -> bytes:
    data = os.urandom(3 << 20)  # above the one-read size: streamed, chunk by chunk
    repo.root.joinpath("big.bin").write_bytes(data)
    return data


def test_kill_in_the_middle_of_add(repo, dvlite) -> None:
    data = _big_file(repo)
    proc = _start_slow_add(repo, "big.bin")
    try:
        _wait_until_writing(repo, proc)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert repo.root.joinpath("big.bin").read_bytes() == data
    assert not repo.root.joinpath("big.bin.dvl").exists()
    assert_cache_sound(repo.cache_dir)
    stale = _tmp_files(repo)
    assert len(stale) == 1 and f"{TMP_MARK}{proc.pid}-" in stale[0]

    result = dvlite("add", "big.bin")  # no stale lock, and the dead run's leftovers are cleared
    assert result.exit_code == 0, result.output
    assert _tmp_files(repo) == []
    assert_cache_sound(repo.cache_dir)
    assert dvlite("status").stdout == ""


def test_ctrl_c_in_the_middle_of_add(repo) -> None:
    data = _big_file(repo)
    proc = _start_slow_add(repo, "big.bin")
    try:
        _wait_until_writing(repo, proc)
        proc.send_signal(signal.SIGINT)
    finally:
        _, stderr = proc.communicate()
    assert proc.returncode == 130
    assert stderr.strip() in ("Aborted.", "Interrupted."), stderr  # click ends the ^C line first
    assert repo.root.joinpath("big.bin").read_bytes() == data
    assert not repo.root.joinpath("big.bin.dvl").exists()
    assert _tmp_files(repo) == []  # cleaned up on the way out
    assert_cache_sound(repo.cache_dir)


def test_clean_stale_tmp_keeps_files_of_live_processes(tmp_path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / f"{TMP_MARK}{dead.pid}-abcd12340").write_text("left by a killed run")
    (tmp_path / f".obj{TMP_MARK}{dead.pid}-abcd12341").write_text("by an earlier version")
    (tmp_path / f"{TMP_MARK}{os.getpid()}-abcd12340").write_text("mine")
    (tmp_path / f"{TMP_MARK}1-abcd12340").write_text("init never dies")
    (tmp_path / f"a{TMP_MARK}{dead.pid}-x").write_text("a user's file")
    (tmp_path / f"{TMP_MARK}9999999999-abcd12340").write_text("no process has this pid")
    (tmp_path / "unrelated").write_text("kept")
    assert clean_stale_tmp(tmp_path) == 2
    assert sorted(os.listdir(tmp_path)) == sorted(
        [
            f"{TMP_MARK}{os.getpid()}-abcd12340",
            f"{TMP_MARK}1-abcd12340",
            f"a{TMP_MARK}{dead.pid}-x",
            f"{TMP_MARK}9999999999-abcd12340",
            "unrelated",
        ]
    )
    assert clean_stale_tmp(tmp_path / "missing") == 0


def test_taking_the_lock_cleans_the_folders_a_killed_run_recorded(repo) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (repo.root / "d").mkdir()
    (repo.root / ".git").mkdir(exist_ok=True)
    left = [
        repo.root / "d" / f"{TMP_MARK}{dead.pid}-abcd12340",
        repo.root / f"{TMP_MARK}{dead.pid}-abcd12341",
    ]
    kept = [repo.root / f"{TMP_MARK}{os.getpid()}-abcd12342", repo.root / ".git" / left[0].name]
    for path in left + kept:
        path.write_text("a temporary file")
    repo.tmp_dir.mkdir(parents=True, exist_ok=True)
    (repo.tmp_dir / f"{JOURNAL}{dead.pid}-abcd12340").write_bytes(b"d\0\0.git")  # .git: refused
    live = repo.tmp_dir / f"{JOURNAL}{os.getpid()}-abcd12343"
    live.write_bytes(b"d")
    with repo.lock():
        pass
    assert [p.exists() for p in left + kept] == [False, False, True, True]
    assert sorted(n for n in os.listdir(repo.tmp_dir) if n.startswith(JOURNAL)) == [live.name]


def test_original_file_stays_until_its_content_is_cached(repo, dvlite) -> None:
    dvlite("config", "cache.type", "hardlink")
    repo.root.joinpath("f").write_bytes(b"precious")
    assert dvlite("add", "f").exit_code == 0
    # the workspace file is now a link to the object: same bytes, and the cache holds them
    assert repo.root.joinpath("f").read_bytes() == b"precious"
    assert_cache_sound(repo.cache_dir)
