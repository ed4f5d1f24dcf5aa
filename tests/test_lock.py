import os
import subprocess
import sys
import time

import pytest
from helpers import run_main

from dvlite.errors import LockError
from dvlite.objects.oslock import repo_lock


def test_second_writer_gets_a_clear_error(repo) -> None:
    repo.root.joinpath("f").write_text("x")
    with repo.lock():
        result = run_main("add", "f")
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: another dvlite process (pid {os.getpid()}) is working in this repository; "
        "wait for it to finish, then run the command again\n"
    )
    assert not repo.root.joinpath("f.dvl").exists()
    assert run_main("add", "f").returncode == 0  # released


def test_checkout_waits_for_the_lock_too(repo, dvlite) -> None:
    repo.root.joinpath("f").write_text("x")
    dvlite("add", "f")
    with repo.lock():
        result = run_main("checkout", "--force")
    assert result.returncode == 1
    assert "another dvlite process" in result.stderr


def test_killed_holder_leaves_no_stale_lock(repo) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom dvlite.records.repo import Repo\n"
            "with Repo.find().lock():\n    print('locked', flush=True)\n    time.sleep(60)\n",
        ],
        cwd=repo.root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        with (
            pytest.raises(LockError, match=f"pid {holder.pid}"),
            repo_lock(repo.tmp_dir / "lock", timeout=0.1),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    with repo_lock(repo.tmp_dir / "lock", timeout=0.1):
        assert (repo.tmp_dir / "lock").read_text() == str(os.getpid())


def test_waits_briefly_then_succeeds(repo) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nfrom dvlite.records.repo import Repo\n"
            "with Repo.find().lock():\n    print('locked', flush=True)\n    time.sleep(0.3)\n",
        ],
        cwd=repo.root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        with repo_lock(repo.tmp_dir / "lock", timeout=30):
            assert holder.poll() is not None or time.sleep(0) is None
    finally:
        holder.wait()
