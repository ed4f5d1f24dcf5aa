""".dvliteignore: gitignore's matching (checked against git itself), ignored files left out of
trees, status, push and pull, never touched by checkout; check-ignore; init's template."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helpers import TmpDir, clone, git, ok, one_line_error, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dvlite.objects.state import State
from dvlite.records.ignore import IGNORE_FILE, TEMPLATE, Ignore
from dvlite.records.repo import Repo
from dvlite.records.workspace import Workspace

# -- matching, with `git check-ignore` as the judge ----------------------------------------------
PATTERN_SETS = [
    ["*.log", "!keep.log"],
    ["/top", "a/b", "sub/"],
    ["**/deep", "x/**/y", "z/**", "!z/keep"],
    ["*.[ch]", "file?.txt", "[!a]*.md", "[a-c]x", "[]]q", "[^m]n"],
    ["\\#hash", "\\!bang", "sp\\ ", "trail   ", "# comment", "", "a\\*b"],
    ["a*b*c", "*x*y*", "**"],
    ["!*", "*.tmp"],
    ["build/", "!build/keep/", "out/*", "!out/k.txt"],
    ["a/*/c", "/a/b/*.txt", "[unclosed", "foo/**/"],
    ["*/b", "a/**", "!a/b/c.txt"],
]
PATHS = [
    "top", "a/top", "a/b", "a/b/c.txt", "a/x/c", "a/b/d.txt", "sub/f", "sub", "x/sub/g",
    "keep.log", "s.log", "d/keep.log", "deep", "q/r/deep", "x/y", "x/1/2/y", "z/1", "z/keep",
    "m.c", "n.h", "file1.txt", "file12.txt", "b.md", "a.md", "bx", "dx", "]q", "mn", "xn",
    "#hash", "!bang", "sp ", "trail", "a*b", "axb", "abc", "aXbYc", "pxqy", "t.tmp", "w",
    "build/k", "build/keep/f", "out/k.txt", "out/j.txt", "[unclosed", "foo/1/2/f",
    "c/b", "c/d/b",
]  # fmt: skip


def _make(root: Path, paths: list[str]) -> None:
    for rel in paths:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text("x")


@pytest.mark.parametrize("patterns", PATTERN_SETS)
def test_matching_agrees_with_git(tmp_path: Path, patterns: list[str]) -> None:
    root = tmp_path / "r"
    root.mkdir()
    git(root, "init", "-q")
    # folders that are also paths above: make the files that can exist
    paths = [p for p in PATHS if not any(q.startswith(p + "/") for q in PATHS)]
    _make(root, paths)
    text = "\n".join(patterns) + "\n"
    (root / ".gitignore").write_text(text)
    (root / IGNORE_FILE).write_text(text)
    _compare(root, PATHS)


def test_nested_ignore_files_agree_with_git(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    git(root, "init", "-q")
    paths = ["a/x.log", "a/b/x.log", "a/b/keep.txt", "a/b/c/y.txt", "a/z.txt", "t.txt", "b/c"]
    _make(root, paths)
    for folder, text in {
        "": "*.log\n/t.txt\n",
        "a": "!x.log\nz.txt\n",
        "a/b": "*\n!keep.txt\n",
    }.items():
        for name in (".gitignore", IGNORE_FILE):
            (root / folder / name).write_text(text)
    _compare(root, [*paths, "a/b/c", "a/b"])


def _compare(root: Path, paths: list[str]) -> None:
    ignore = Ignore(root)
    wrong = []
    for rel in paths:
        mine = ignore.ignores(rel, (root / rel).is_dir())
        theirs = subprocess.run(["git", "check-ignore", "-q", rel], cwd=root).returncode == 0
        if mine != theirs:
            wrong.append((rel, mine, theirs))
    assert wrong == []


TREE = [
    "a/b/c.txt", "a/b/d.log", "a/c", "a/x/c.txt", "ab/c.log", "b/a/b", "b/ba", "c.txt",
    "d/a.log", "d/e/f/a.txt", "e/b/c/d.log",
]  # fmt: skip
PIECES = ["a", "b", "c", "*", "?", "/", "**", "[a-c]", "[!b]", ".txt", ".log", "\\*"]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.booleans(), st.lists(st.sampled_from(PIECES), min_size=1, max_size=5)),
        min_size=1,
        max_size=4,
    )
)
def test_the_scan_keeps_what_git_keeps(tmp_path_factory, lines) -> None:
    """The files a scan of data/ keeps are those `git ls-files --others --exclude-standard`
    lists, for random pattern lines (negations among them)."""
    root = tmp_path_factory.mktemp("r")
    git(root, "init", "-q")
    _make(root / "data", TREE)
    text = "".join(("!" if neg else "") + "".join(parts) + "\n" for neg, parts in lines)
    (root / "data" / ".gitignore").write_text(text)
    (root / "data" / IGNORE_FILE).write_text(text)
    listed = git(root, "ls-files", "--others", "--exclude-standard", "-z", "data")
    theirs = {p[len("data/") :] for p in listed.split("\0") if p}
    reader = Workspace(State(root / "state.db"), ignore=Ignore(root))
    node = reader.read(str(root / "data"), "data")
    mine = {f.rel[len("data/") :] for f in node.walk_files()}
    assert mine == theirs, text


def test_a_hostile_pattern_cannot_stall_a_match(tmp_path: Path) -> None:
    """Stars are matched as atomic groups: a pattern of many stars on a long name that almost
    matches is answered at once (plain backtracking would take longer than the universe)."""
    (tmp_path / IGNORE_FILE).write_text("*a" * 40 + "*b\n")
    rules = Ignore(tmp_path).rules("")
    assert rules is not None
    assert rules.candidates("a" * 250) == set()
    assert rules.candidates("a" * 200 + "b") == {"a" * 200 + "b"}


# -- the workspace ---------------------------------------------------------------------------------
def _data(tmp_dir: TmpDir) -> None:
    tmp_dir.gen(
        {
            "data": {
                "a.csv": "a",
                ".DS_Store": "finder",
                "__pycache__": {"m.pyc": "bytecode"},
                "sub": {"b.csv": "b", "scratch.tmp": "t", ".ipynb_checkpoints": {"c": "c"}},
            }
        }
    )


def test_init_writes_the_template_and_stages_it(repo: Repo) -> None:
    assert (repo.root / IGNORE_FILE).read_text() == TEMPLATE
    assert IGNORE_FILE in git(repo.root, "diff", "--cached", "--name-only").split()
    for line in (".DS_Store", "__pycache__/", ".ipynb_checkpoints/"):
        assert line in TEMPLATE.splitlines()
    assert TEMPLATE.startswith("# ")


def test_init_keeps_an_ignore_file_that_exists(scm: TmpDir, dvlite) -> None:
    (scm / IGNORE_FILE).write_text("mine\n")
    ok(dvlite("init"))
    assert (scm / IGNORE_FILE).read_text() == "mine\n"


def test_ignored_files_are_not_in_the_tree_nor_reported(
    repo: Repo, tmp_dir: TmpDir, dvlite
) -> None:
    _data(tmp_dir)
    (tmp_dir / "data" / "sub" / IGNORE_FILE).write_text("*.tmp\n")  # applies below data/sub
    result = json.loads(ok(dvlite("add", "data", "--json")).stdout)
    assert result[0]["files"] == 3  # a.csv, sub/b.csv and sub/.dvliteignore
    listed = {e["path"] for e in json.loads(ok(dvlite("ls", "data", "--json")).stdout)}
    assert listed == {"data/a.csv", "data/sub/b.csv", "data/sub/.dvliteignore"}
    assert ok(dvlite("status")).stdout == ""
    (tmp_dir / "data" / "sub" / "more.tmp").write_text("new, ignored")
    (tmp_dir / "data" / "Thumbs.db").write_text("ignored too")
    assert ok(dvlite("status")).stdout == ""
    (tmp_dir / "data" / "new.csv").write_text("seen")
    assert ok(dvlite("status", "--json")).stdout.count('"new"') == 1


def test_a_changed_ignore_file_changes_the_tree(repo: Repo, tmp_dir: TmpDir, dvlite) -> None:
    _data(tmp_dir)
    ok(dvlite("add", "data"))
    ok(dvlite("status"))  # folder rows are in the state database now
    (tmp_dir / IGNORE_FILE).write_text("*.csv\n", encoding="utf-8")
    changes = json.loads(ok(dvlite("status", "--json")).stdout)[0]["changes"]
    assert {(c["path"], c["state"]) for c in changes} >= {("data/a.csv", "deleted")}
    # and with the template back, the old tree again, from the folder rows
    (tmp_dir / IGNORE_FILE).write_text(TEMPLATE)
    assert ok(dvlite("status")).stdout == ""


def test_push_and_pull_never_carry_ignored_files(
    repo: Repo, tmp_dir: TmpDir, dvlite, folder_store, monkeypatch
) -> None:
    _data(tmp_dir)
    ok(dvlite("add", "data"))
    ok(dvlite("remote", "add", "-d", "store", folder_store.url))
    git(tmp_dir, "add", "-A")
    git(tmp_dir, "commit", "-qm", "data")
    ok(dvlite("push"))
    other = clone(tmp_dir, monkeypatch)
    ok(dvlite("pull"))
    assert set(snapshot(other / "data")) == {"a.csv", "sub", "sub/b.csv", "sub/scratch.tmp"}


def test_checkout_never_deletes_or_overwrites_an_ignored_file(
    repo: Repo, tmp_dir: TmpDir, dvlite
) -> None:
    tmp_dir.gen({"data": {"a.csv": "v1", "notes.txt": "recorded"}})
    ok(dvlite("add", "data"))
    git(tmp_dir, "add", "-A")
    git(tmp_dir, "commit", "-qm", "v1")
    (tmp_dir / "data" / "a.csv").write_text("v2")
    (tmp_dir / "data" / ".DS_Store").write_text("finder")
    ok(dvlite("add", "data"))
    git(tmp_dir, "commit", "-qam", "v2")
    git(tmp_dir, "checkout", "-q", "HEAD~1")
    ok(dvlite("checkout"))
    assert (tmp_dir / "data" / "a.csv").read_text() == "v1"
    assert (tmp_dir / "data" / ".DS_Store").read_text() == "finder"  # not in either tree
    # a file the record has, ignored since: status says the record has it, checkout leaves it
    (tmp_dir / IGNORE_FILE).write_text(TEMPLATE + "notes.txt\n")
    (tmp_dir / "data" / "notes.txt").write_text("edited, and now ignored")
    assert "deleted:      data/notes.txt" in ok(dvlite("status")).stdout
    ok(dvlite("checkout", "--force"))
    assert (tmp_dir / "data" / "notes.txt").read_text() == "edited, and now ignored"
    git(tmp_dir, "checkout", "-q", "main")  # a switch (the post-checkout path) leaves it too
    ok(dvlite("checkout", "--force"))
    assert (tmp_dir / "data" / "notes.txt").read_text() == "edited, and now ignored"
    assert (tmp_dir / "data" / "a.csv").read_text() == "v2"


def test_add_refuses_an_ignored_path(repo: Repo, tmp_dir: TmpDir, dvlite) -> None:
    _data(tmp_dir)
    assert one_line_error(dvlite("add", "data/__pycache__")) == (
        "Error: data/__pycache__ is ignored by .dvliteignore:5 (__pycache__/); "
        "remove or negate that line to add it"
    )


def test_a_malformed_ignore_file_is_one_error_line(repo: Repo, tmp_dir: TmpDir, dvlite) -> None:
    _data(tmp_dir)
    (tmp_dir / "data" / IGNORE_FILE).write_bytes(b"\xff\xfe*.csv\n")
    assert one_line_error(dvlite("add", "data")) == (
        "Error: data/.dvliteignore is not valid UTF-8; fix or delete it"
    )


def test_a_symlinked_ignore_file_is_not_followed(repo: Repo, tmp_dir: TmpDir) -> None:
    (tmp_dir / "elsewhere").write_text("*\n")
    (tmp_dir / "sub").mkdir()
    (tmp_dir / "sub" / IGNORE_FILE).symlink_to(tmp_dir / "elsewhere")
    assert not Ignore(tmp_dir).ignores("sub/x")


# -- check-ignore ----------------------------------------------------------------------------------
def test_check_ignore(repo: Repo, tmp_dir: TmpDir, dvlite) -> None:
    _data(tmp_dir)
    (tmp_dir / "data" / "sub" / IGNORE_FILE).write_text("*.tmp\n!keep.tmp\n")
    result = ok(dvlite("check-ignore", "data/.DS_Store", "data/a.csv", "data/sub/x.tmp"))
    assert result.stdout == "data/.DS_Store\ndata/sub/x.tmp\n"
    result = ok(dvlite("check-ignore", "-d", "data/__pycache__/m.pyc", "data/sub/keep.tmp"))
    assert result.stdout == (
        ".dvliteignore:5:__pycache__/\tdata/__pycache__/m.pyc\n"
        "data/sub/.dvliteignore:2:!keep.tmp\tdata/sub/keep.tmp\n"
    )
    found = json.loads(ok(dvlite("check-ignore", "--json", "data/sub/x.tmp")).stdout)
    assert found == [
        {
            "path": "data/sub/x.tmp",
            "ignored": True,
            "source": "data/sub/.dvliteignore",
            "line": 1,
            "pattern": "*.tmp",
        }
    ]
    none = dvlite("check-ignore", "data/a.csv", "data/sub/keep.tmp")
    assert (none.exit_code, none.stdout) == (1, "")
    assert dvlite("check-ignore", "cache/").stdout == ""  # a folder named by a trailing /
    assert ok(dvlite("check-ignore", "x/__pycache__/")).stdout == "x/__pycache__/\n"


def test_check_ignore_of_a_path_outside(repo: Repo, dvlite, tmp_path: Path) -> None:
    assert one_line_error(dvlite("check-ignore", "/etc/passwd")) == (
        f"Error: /etc/passwd is outside the repository {repo.root}"
    )


def test_a_branch_switch_through_the_hook_leaves_ignored_files(
    repo: Repo, tmp_dir: TmpDir, dvlite, on_path
) -> None:
    tmp_dir.gen({"data": {"a.csv": "v1", "notes.txt": "recorded"}})
    ok(dvlite("add", "data"))
    git(tmp_dir, "add", "-A")
    git(tmp_dir, "commit", "-qm", "v1")
    git(tmp_dir, "checkout", "-qb", "other")
    (tmp_dir / "data" / "notes.txt").write_text("recorded on other")
    (tmp_dir / "data" / "a.csv").write_text("v2")
    ok(dvlite("add", "data"))
    git(tmp_dir, "commit", "-qam", "other")
    ok(dvlite("install"))
    (tmp_dir / IGNORE_FILE).write_text(TEMPLATE + "notes.txt\n")  # not committed: stays
    (tmp_dir / "data" / "notes.txt").write_text("mine, ignored")
    git(tmp_dir, "checkout", "-q", "main")
    assert (tmp_dir / "data" / "a.csv").read_text() == "v1"
    assert (tmp_dir / "data" / "notes.txt").read_text() == "mine, ignored"


def test_stage_outputs_and_deps_leave_ignored_files_out(
    pipeline: Repo, tmp_dir: TmpDir, dvlite
) -> None:
    ok(dvlite("repro", "prepare"))
    recorded = (tmp_dir / "dvlite.lock").read_text()
    (tmp_dir / "data" / "prepared" / ".DS_Store").write_text("finder")
    assert "prepare" not in ok(dvlite("status")).stdout  # its output is as recorded
    ok(dvlite("repro", "prepare"))
    assert (tmp_dir / "dvlite.lock").read_text() == recorded
