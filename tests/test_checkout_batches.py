"""Checkout works out and applies its deltas a batch at a time, and a plan too big to hold is
worked out again to be applied: with batches of 2 and room for 3 deltas, every boundary a
small dataset has is crossed. Nothing may be written before the whole plan is checked."""

from __future__ import annotations

import json
import shutil

import pytest
from helpers import ok, snapshot

from dvlite.ops import checkout


@pytest.fixture(autouse=True)
def tiny_batches(monkeypatch) -> None:
    monkeypatch.setattr(checkout, "BATCH", 2)
    monkeypatch.setattr(checkout, "KEEP", 3)


def _folders(repo, dvlite) -> dict:
    for f in range(4):
        folder = repo.root / "data" / f"f{f}"
        folder.mkdir(parents=True)
        for i in range(5):
            (folder / f"{i}.txt").write_text(f"{f}/{i}\n")
    ok(dvlite("add", "data"))
    return snapshot(repo.root / "data")


def test_an_empty_workspace_is_checked_out_in_batches(repo, dvlite) -> None:
    before = _folders(repo, dvlite)
    shutil.rmtree(repo.root / "data")
    result = json.loads(ok(dvlite("checkout", "--json")).stdout)
    assert len(result["added"]) == 20 and snapshot(repo.root / "data") == before
    assert ok(dvlite("status")).stdout == ""


def test_a_plan_worked_out_twice_changes_what_differs(repo, dvlite) -> None:
    before = _folders(repo, dvlite)
    for f in range(4):
        (repo.root / "data" / f"f{f}" / "0.txt").unlink()
    (repo.root / "data" / "f1" / "extra.txt").write_text("0/1\n")  # cached bytes: deletable
    result = json.loads(ok(dvlite("checkout", "--json")).stdout)
    assert sorted(result["added"]) == [f"data/f{f}/0.txt" for f in range(4)]
    assert result["deleted"] == ["data/f1/extra.txt"]
    assert snapshot(repo.root / "data") == before


def test_an_unsaved_change_late_in_the_plan_stops_it_before_any_write(repo, dvlite) -> None:
    _folders(repo, dvlite)
    for f in range(3):
        (repo.root / "data" / f"f{f}" / "0.txt").unlink()
    (repo.root / "data" / "f3" / "4.txt").write_text("not in the cache")
    after_edit = snapshot(repo.root / "data")
    result = dvlite("checkout")
    assert result.exit_code == 1 and "data/f3/4.txt" in result.stderr
    assert snapshot(repo.root / "data") == after_edit  # not one of the 3 files came back


def test_folders_and_files_that_swap_places_across_batches(repo, dvlite) -> None:
    before = _folders(repo, dvlite)
    shutil.rmtree(repo.root / "data" / "f1")
    (repo.root / "data" / "f1").write_text("2/3\n")  # a file where a folder goes
    (repo.root / "data" / "f2" / "0.txt").unlink()
    (repo.root / "data" / "f2" / "0.txt").mkdir()  # a folder where a file goes
    (repo.root / "data" / "f2" / "0.txt" / "x").write_text("0/0\n")  # (both cached bytes)
    ok(dvlite("checkout"))
    assert snapshot(repo.root / "data") == before


def test_a_file_edited_after_the_check_is_left_alone(repo, dvlite, monkeypatch) -> None:
    """A plan too big to keep is worked out again to be applied: a file the user edits
    in between is seen as changed then, and not overwritten."""
    before = _folders(repo, dvlite)
    first = (repo.root / "data.dvl").read_text()
    for f in range(4):
        (repo.root / "data" / f"f{f}" / "1.txt").write_text("a second version, added")
    ok(dvlite("add", "data"))
    (repo.root / "data.dvl").write_text(first)  # back to the first version: 4 files differ
    edited = repo.root / "data" / "f3" / "1.txt"
    check = checkout.Plan.check

    def check_then_edit(plan, **kwargs) -> None:
        check(plan, **kwargs)
        edited.write_text("an edit the cache does not have")

    monkeypatch.setattr(checkout.Plan, "check", check_then_edit)
    ok(dvlite("checkout"))
    assert edited.read_text() == "an edit the cache does not have"
    after = snapshot(repo.root / "data")
    assert {k: v for k, v in after.items() if "f3/1.txt" not in k} == {
        k: v for k, v in before.items() if "f3/1.txt" not in k
    }
