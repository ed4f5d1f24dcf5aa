"""An interrupted push leaves nothing incomplete under a final name on the remote, and
running it again completes it: a real kill of a real `dvlite push`, not a staged aftermath.
On a remote of format 1, whose objects are copied whole one by one (format 2 writes packs,
then their index file: tests/test_packs_concurrent.py)."""

import os
import signal
import subprocess
import sys
import time

from helpers import SLOW_DISK, git, snapshot

from dvlite.objects.fsutil import TMP_MARK
from dvlite.objects.hashing import hash_file


def _objects(store) -> list[str]:
    """Objects under their final names (a killed copy may leave a temporary file beside)."""
    base = store / "objects"
    if not base.is_dir():
        return []
    return [f"{d.name}/{n}" for d in base.iterdir() for n in os.listdir(d) if TMP_MARK not in n]


def assert_whole(store) -> None:
    for name in _objects(store):
        assert hash_file(store / "objects" / name)[0] == "xxh128:" + name.replace("/", "")


def test_killed_push_leaves_no_partial_object_and_push_again_completes(
    repo, dvlite, tmp_path_factory
) -> None:
    store = tmp_path_factory.mktemp("store")
    data = repo.root / "data"
    for i in range(4):
        (data / f"part{i}").mkdir(parents=True)
        for j in range(40):
            (data / f"part{i}" / f"{j:02}.bin").write_bytes(os.urandom(4096))
    (data / "big.bin").write_bytes(os.urandom(3 << 20))
    assert dvlite("add", "data").exit_code == 0
    assert dvlite("remote", "add", "-d", "store", str(store)).exit_code == 0
    assert dvlite("remote", "modify", "store", "format", "1").exit_code == 0
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "data")

    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_DISK, "push"], cwd=repo.root, stdout=subprocess.PIPE, text=True
    )
    try:
        for _ in range(3000):
            if len(_objects(store)) >= 20:
                break
            assert proc.poll() is None, "push finished before it could be interrupted"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL

    pushed = _objects(store)
    assert 20 <= len(pushed) < 166  # part of the 161 files and 5 trees
    assert_whole(store)  # every object under its final name is whole
    result = dvlite("push")
    assert result.exit_code == 0, result.output
    assert_whole(store)
    assert len(_objects(store)) == 166  # 161 files and 5 trees

    clone = tmp_path_factory.mktemp("clone") / "repo"
    git(repo.root, "clone", "-q", str(repo.root), str(clone))
    os.chdir(clone)
    result = dvlite("pull")
    assert result.exit_code == 0, result.output
    assert snapshot(clone / "data") == snapshot(data)
