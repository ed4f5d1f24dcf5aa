"""Progress of long operations: totals before anything is done, the bytes inside a big file
as they move, and sums that come out exactly at the files' count and size."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest
from helpers import invoke, on_terminal, piped
from remote_helpers import make_bucket

from dvlite.ops.add import add
from dvlite.ops.checkout import checkout
from dvlite.ops.fsck import fsck
from dvlite.ops.pull import pull
from dvlite.records.repo import Repo
from dvlite.transfer import push

BIG = 40 << 20  # bigger than a copy chunk (32 MiB) and than what is sent as bytes (16 MiB)


class Recorder:
    """The progress protocol, recording every call (threads call it)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []
        self._lock = threading.Lock()

    def start(self, files: int, size: int) -> None:
        with self._lock:
            self.calls.append(("start", files, size))

    def advance(self, files: int, size: int) -> None:
        with self._lock:
            self.calls.append(("advance", files, size))

    def sums(self, kind: str) -> tuple[int, int]:
        picked = [c for c in self.calls if c[0] == kind]
        return sum(c[1] for c in picked), sum(c[2] for c in picked)

    def assert_one_big_file(self, size: int = BIG) -> None:
        calls = self.calls
        assert calls and calls[0][0] == "start", calls
        assert self.sums("start") == (1, size), calls
        assert self.sums("advance") == (1, size), calls
        advances = [c for c in calls if c[0] == "advance"]
        completed = next(i for i, c in enumerate(advances) if c[1] == 1)
        before = advances[:completed]
        assert before and all(c[1] == 0 and c[2] > 0 for c in before), calls
        assert sum(c[2] for c in before) <= size, calls


@pytest.fixture
def big(repo: Repo) -> Path:
    path = repo.root / "big.bin"
    path.write_bytes(os.urandom(BIG))
    return path


def test_add_reports_the_bytes_of_a_big_file_as_it_is_hashed(repo: Repo, big: Path) -> None:
    progress = Recorder()
    add(repo, ["big.bin"], progress=progress)
    progress.assert_one_big_file()


def test_add_counts_unchanged_files_at_once(repo: Repo, big: Path) -> None:
    add(repo, ["big.bin"])
    progress = Recorder()
    add(repo, ["big.bin"], progress=progress)
    assert progress.calls == [("start", 1, BIG), ("advance", 1, BIG)]


def test_checkout_reports_the_bytes_of_a_big_file_as_it_is_installed(repo: Repo, big: Path) -> None:
    add(repo, ["big.bin"])
    big.unlink()
    progress = Recorder()
    checkout(repo, progress=progress)
    progress.assert_one_big_file()
    assert big.stat().st_size == BIG


def test_fsck_totals_objects_and_bytes_first(repo: Repo, big: Path) -> None:
    add(repo, ["big.bin"])
    progress = Recorder()
    assert fsck(repo, progress=progress).ok
    progress.assert_one_big_file()


@pytest.fixture(params=["folder", "s3"])
def remote(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The repository's default remote: a folder, or a bucket on the test S3 server."""
    url, endpoint = str(tmp_path_factory.mktemp("store")), ""
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3")
        make_bucket(endpoint, "bucket")
        url = "s3://bucket/store"
    assert invoke("remote", "add", "-d", "store", url).exit_code == 0
    if endpoint:
        assert invoke("remote", "modify", "store", "endpoint_url", endpoint).exit_code == 0
    return str(request.param)


def test_push_and_pull_report_the_bytes_of_a_big_object_as_it_moves(
    repo: Repo, big: Path, remote: str
) -> None:
    add(repo, ["big.bin"])
    progress = Recorder()
    push(repo, ["big.bin"], progress=progress)
    progress.assert_one_big_file()

    for obj in (repo.cache_dir / "objects").rglob("*"):
        if obj.is_file() and obj.stat().st_size == BIG:
            obj.unlink()
    big.unlink()
    progress = Recorder()
    pull(repo, ["big.bin"], progress=progress)
    progress.assert_one_big_file()
    assert big.stat().st_size == BIG


def test_the_bar_shows_files_and_mib_on_a_terminal(repo: Repo) -> None:
    (repo.root / "big.bin").write_bytes(os.urandom(5 << 20))
    shown = on_terminal(
        [sys.executable, "-m", "dvlite", "add", "--no-stage", "big.bin"],
        cwd=repo.root,
        COLUMNS="200",
    )
    assert "Hashing" in shown, shown
    assert "1/1 file " in shown, shown
    assert "5.0 MiB/5.0 MiB" in shown, shown
    assert "/?" not in shown and " MB" not in shown, shown


def test_no_bar_when_not_on_a_terminal(repo: Repo) -> None:
    (repo.root / "big.bin").write_bytes(os.urandom(5 << 20))
    result = piped("add", "--no-stage", "big.bin", cwd=repo.root)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_the_bar_fills_by_files_when_no_bytes_are_known() -> None:
    from dvlite.cli.base import Bar

    bar = Bar("Verifying")
    bar.start(3, 0)  # a remote's listing: objects, no sizes
    bar.advance(1, 0)
    task = bar.rich.tasks[0]
    shown = " ".join(str(column.render(task)) for column in bar.rich.columns[2:4])
    assert shown.strip() == "1/3 files", shown
    assert task.completed / task.total == 1 / 3  # a file is all there is to count


def test_the_bar_and_its_eta_follow_files_and_bytes_both() -> None:
    from dvlite.cli.base import FILE_COST, Bar

    bar = Bar("Pushing")
    bar.start(20_001, 20_000 * 4096 + (1 << 30))  # 20k small files and one of 1 GiB
    bar.advance(20_000, 20_000 * 4096)  # the small ones done: far from a tenth of the bytes
    task = bar.rich.tasks[0]
    small = 20_000 * (4096 + FILE_COST)
    assert task.completed == small
    assert task.total == small + (1 << 30) + FILE_COST
    bar.advance(0, 1 << 29)  # half of the big file's bytes, counted as they move
    assert bar.rich.tasks[0].completed == small + (1 << 29)
