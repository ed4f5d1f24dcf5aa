"""Everyday commands, end to end on real git repositories: du, move, commit, doctor."""

from __future__ import annotations

import json

from helpers import TmpDir, git, ok, one_line_error

import dvlite as dv
from dvlite.records.repo import Repo


# -- du --------------------------------------------------------------------------------------------
def _two_versions(tmp_dir: TmpDir, dvlite) -> None:
    tmp_dir.gen({"data": {"a.csv": "aaaa", "sub": {"b.csv": "bb", "c.csv": "c"}}})
    tmp_dir.gen({"model.bin": "m" * 10})
    ok(dvlite("add", "data", "model.bin"))
    git(tmp_dir, "add", "-A")
    git(tmp_dir, "commit", "-qm", "v1")
    git(tmp_dir, "tag", "v1")
    (tmp_dir / "data" / "sub" / "d.csv").write_text("dddddddd")
    ok(dvlite("add", "data"))


def test_du_per_item_and_total_at_the_workspace_and_a_revision(
    repo: Repo, tmp_dir: TmpDir, dvlite
) -> None:
    _two_versions(tmp_dir, dvlite)
    now = json.loads(ok(dvlite("du", "--json")).stdout)
    assert now == {
        "rev": "workspace",
        "items": [
            {"path": "data", "source": "data.dvl", "kind": "dir", "size": 15, "files": 4},
            {
                "path": "model.bin",
                "source": "model.bin.dvl",
                "kind": "file",
                "size": 10,
                "files": 1,
            },
        ],
        "size": 25,
        "files": 5,
    }
    then = json.loads(ok(dvlite("du", "--rev", "v1", "--json")).stdout)
    assert (then["rev"], then["size"], then["files"]) == ("v1", 17, 4)
    assert ok(dvlite("du")).stdout == (
        "15 B         4 files  data/\n"
        "10 B          1 file  model.bin\n"
        "25 B         5 files  total\n"
    )
    assert dv.du(rev="v1", repo=repo.root).size == 17


def test_du_of_a_path_inside_a_tracked_folder_reads_its_trees(
    repo: Repo, tmp_dir: TmpDir, dvlite
) -> None:
    _two_versions(tmp_dir, dvlite)
    inside = json.loads(ok(dvlite("du", "data/sub", "--json")).stdout)
    assert inside["items"] == [
        {"path": "data/sub", "source": "data.dvl", "kind": "dir", "size": 11, "files": 3}
    ]
    old = json.loads(ok(dvlite("du", "data/sub/b.csv", "--rev", "v1", "--json")).stdout)
    assert old["items"][0]["size"] == 2
    assert one_line_error(dvlite("du", "data/nope")) == (
        "Error: data/nope: not in data, as data.dvl records it"
    )


def test_du_errors(repo: Repo, tmp_dir: TmpDir, dvlite) -> None:
    _two_versions(tmp_dir, dvlite)
    assert one_line_error(dvlite("du", "elsewhere")) == ("Error: elsewhere: nothing tracked there")
    assert one_line_error(dvlite("du", "--rev", "nosuch")) == (
        "Error: unknown git revision 'nosuch'"
    )
