"""dvlite diff and dvlite ls on real git history."""

from __future__ import annotations

import json
import os

from helpers import git

from dvlite.objects.hashing import oid_of_bytes
from dvlite.ops.diff import diff
from dvlite.records.repo import Repo


def oid(text: str) -> str:
    return oid_of_bytes(text.encode())


def history(repo: Repo, dvlite) -> None:  # type: ignore[no-untyped-def]
    """HEAD~1: data/{a,b,sub/c}, model.bin; HEAD: a renamed to a2, b changed, sub/c deleted,
    new/e added, model.bin untracked, notes.txt tracked."""
    root = repo.root
    root.joinpath("data", "sub").mkdir(parents=True)
    (root / "data" / "a").write_text("a")
    (root / "data" / "b").write_text("b")
    (root / "data" / "sub" / "c").write_text("c")
    (root / "model.bin").write_text("weights")
    assert dvlite("add", "data", "model.bin").exit_code == 0
    git(root, "commit", "-qm", "one")
    os.rename(root / "data" / "a", root / "data" / "a2")
    (root / "data" / "b").write_text("bb")
    (root / "data" / "sub" / "c").unlink()
    (root / "data" / "new").mkdir()
    (root / "data" / "new" / "e").write_text("e")
    (root / "notes.txt").write_text("notes")
    assert dvlite("add", "data", "notes.txt").exit_code == 0
    assert dvlite("remove", "model.bin.dvl").exit_code == 0
    git(root, "add", "-A")
    git(root, "commit", "-qm", "two")


def test_diff_between_two_revisions(repo: Repo, dvlite) -> None:
    history(repo, dvlite)
    result = dvlite("diff", "HEAD~1", "HEAD")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "renamed:  data/a -> data/a2\n"
        "added:    data/new/e\n"
        "added:    notes.txt\n"
        "modified: data/b\n"
        "deleted:  data/sub/c\n"
        "deleted:  model.bin\n"
    )
    data = json.loads(dvlite("diff", "HEAD~1", "HEAD", "--json").stdout)
    assert data == {
        "a": "HEAD~1",
        "b": "HEAD",
        "added": [
            {"path": "data/new/e", "new_oid": oid("e"), "new_size": 1},
            {"path": "notes.txt", "new_oid": oid("notes"), "new_size": 5},
        ],
        "modified": [
            {
                "path": "data/b",
                "old_oid": oid("b"),
                "old_size": 1,
                "new_oid": oid("bb"),
                "new_size": 2,
            }
        ],
        "deleted": [
            {"path": "data/sub/c", "old_oid": oid("c"), "old_size": 1},
            {"path": "model.bin", "old_oid": oid("weights"), "old_size": 7},
        ],
        "renamed": [{"path": "data/a2", "old_path": "data/a", "oid": oid("a"), "size": 1}],
        "not_in_cache": [],
    }


def test_diff_head_against_the_workspace(repo: Repo, dvlite) -> None:
    history(repo, dvlite)
    assert dvlite("diff").stdout == ""
    (repo.root / "data" / "new" / "e").write_text("edited, not added")
    (repo.root / "data" / "b").unlink()
    result = dvlite("diff")
    assert (result.exit_code, result.stdout) == (0, "modified: data/new/e\ndeleted:  data/b\n")
    result = dvlite("diff", "HEAD~1")  # an old revision against the workspace
    assert result.stdout == (
        "renamed:  data/a -> data/a2\n"
        "added:    data/new/e\n"
        "added:    notes.txt\n"
        "deleted:  data/b\n"
        "deleted:  data/sub/c\n"
        "deleted:  model.bin\n"
    )


def test_diff_skips_equal_subtrees_without_reading_them(repo: Repo, dvlite) -> None:
    history(repo, dvlite)
    # the unchanged subtree data/new is never loaded: remove it from the cache to prove it
    tree = repo.cache.load_tree(
        repo.cache.load_tree(_pointer_oid(repo, "data.dvl")).by_name["new"].oid
    )
    (repo.root / "notes.txt").write_text("notes 2")
    assert dvlite("add", "notes.txt").exit_code == 0
    git(repo.root, "commit", "-qm", "three")
    os.unlink(repo.cache.path(tree.oid))
    result = diff(Repo(repo.root), "HEAD~1", "HEAD")
    assert [c.path for c in result.modified] == ["notes.txt"]
    assert (result.added, result.deleted, result.renamed, result.missing) == ([], [], [], [])


def test_diff_reports_trees_missing_from_the_cache(repo: Repo, dvlite) -> None:
    history(repo, dvlite)
    os.unlink(repo.cache.path(_pointer_oid(repo, "data.dvl")))
    result = dvlite("diff", "HEAD~1", "HEAD")
    assert result.exit_code == 0
    assert result.stdout == "added:    notes.txt\ndeleted:  model.bin\n"
    assert result.stderr == (
        "Warning: not in the cache, so not compared inside: data; "
        "run `dvlite fetch --rev HEAD~1 --rev HEAD` to get them\n"
    )


def test_diff_unknown_revision(repo: Repo, dvlite) -> None:
    history(repo, dvlite)
    result = dvlite("diff", "nope")
    assert (result.exit_code, result.stderr) == (1, "Error: unknown git revision 'nope'\n")


def _pointer_oid(repo: Repo, rel: str) -> str:
    return (repo.root / rel).read_text().split("oid: ")[1].split()[0]


def test_ls_at_revisions(repo: Repo, dvlite) -> None:
    history(repo, dvlite)
    result = dvlite("ls")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        f"       1 B  {oid('a')}  data/a2\n"
        f"       2 B  {oid('bb')}  data/b\n"
        f"       1 B  {oid('e')}  data/new/e\n"
        f"       5 B  {oid('notes')}  notes.txt\n"
    )
    result = dvlite("ls", "data/sub", "--rev", "HEAD~1")
    assert result.stdout == f"       1 B  {oid('c')}  data/sub/c\n"
    data = json.loads(dvlite("ls", "model.bin", "--rev", "HEAD~1", "--json").stdout)
    assert data == [
        {
            "path": "model.bin",
            "kind": "file",
            "oid": oid("weights"),
            "size": 7,
            "source": "model.bin.dvl",
            "in_cache": True,
        }
    ]
    result = dvlite("ls", "model.bin")
    assert (result.exit_code, result.stderr) == (1, "Error: model.bin: nothing tracked there\n")


def test_ls_shows_a_folder_whose_tree_is_not_in_the_cache(repo: Repo, dvlite) -> None:
    history(repo, dvlite)
    tree_oid = _pointer_oid(repo, "data.dvl")
    os.unlink(repo.cache.path(tree_oid))
    result = dvlite("ls", "data")
    assert result.stdout == f"       4 B  {tree_oid}  data/  (not in the cache)\n"
