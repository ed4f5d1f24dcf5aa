import os
import stat

import pytest
from helpers import cache_objects, git, object_path, oid, tree_bytes

from dvlite.objects.state import State


def test_add_file_writes_pointer_gitignore_and_stages(repo, dvlite) -> None:
    root = repo.root
    (root / "model.pkl").write_bytes(b"weights")
    result = dvlite("add", "model.pkl")
    assert result.exit_code == 0, result.output
    assert result.stdout == "    added model.pkl.dvl  (7 B)\n"
    assert (root / "model.pkl.dvl").read_text() == (
        f"version: 1\npath: model.pkl\nkind: file\noid: {oid(b'weights')}\nsize: 7\n"
    )
    assert (root / ".gitignore").read_text() == "/model.pkl\n"
    staged = git(root, "diff", "--cached", "--name-only").split()
    assert {".gitignore", "model.pkl.dvl"} <= set(staged)
    assert "model.pkl" not in staged
    assert object_path(repo.cache_dir, oid(b"weights")).read_bytes() == b"weights"
    mode = stat.S_IMODE(os.stat(object_path(repo.cache_dir, oid(b"weights"))).st_mode)
    assert mode == 0o444
    assert (root / "model.pkl").read_bytes() == b"weights"


def test_add_directory_builds_merkle_trees_by_hand(repo, dvlite) -> None:
    root = repo.root
    (root / "data" / "sub").mkdir(parents=True)
    (root / "data" / "b.txt").write_bytes(b"bee")
    (root / "data" / "a.sh").write_bytes(b"#!/bin/sh\n")
    os.chmod(root / "data" / "a.sh", 0o755)
    (root / "data" / "sub" / "c.bin").write_bytes(b"\x00\x01")
    (root / "data" / "empty").mkdir()

    assert dvlite("add", "data").exit_code == 0

    sub = tree_bytes([{"name": "c.bin", "type": "file", "oid": oid(b"\x00\x01"), "size": 2}])
    assert (
        sub
        == b'[{"name":"c.bin","oid":"' + oid(b"\x00\x01").encode() + b'","size":2,"type":"file"}]'
    )
    empty = b"[]"
    top = tree_bytes(
        [
            {"name": "a.sh", "type": "file", "oid": oid(b"#!/bin/sh\n"), "size": 10, "exec": True},
            {"name": "b.txt", "type": "file", "oid": oid(b"bee"), "size": 3},
            {"name": "empty", "type": "dir", "oid": oid(empty), "size": 0},
            {"name": "sub", "type": "dir", "oid": oid(sub), "size": 2},
        ]
    )
    objects = cache_objects(repo.cache_dir)
    assert objects[oid(top)] == top
    assert objects[oid(sub)] == sub
    assert objects[oid(empty)] == empty
    assert (root / "data.dvl").read_text() == (
        f"version: 1\npath: data\nkind: dir\noid: {oid(top)}\nsize: 15\nfiles: 3\n"
    )


def test_identical_content_gives_identical_pointer_bytes(repo, dvlite) -> None:
    root = repo.root
    (root / "a").mkdir()
    (root / "b").mkdir()
    for folder in ("a", "b"):
        (root / folder / "d").mkdir()
        (root / folder / "d" / "x").write_text("same")
    assert dvlite("add", "a/d", "b/d").exit_code == 0
    assert (root / "a" / "d.dvl").read_bytes() == (root / "b" / "d.dvl").read_bytes()


def test_add_many_at_once(repo, dvlite) -> None:
    repo.root.joinpath("one").write_text("1")
    repo.root.joinpath("two").write_text("2")
    (repo.root / "dir").mkdir()
    (repo.root / "dir" / "three").write_text("3")
    result = dvlite("add", "one", "two", "dir", "--json")
    assert result.exit_code == 0, result.output
    import json

    report = json.loads(result.stdout)
    assert [r["pointer"] for r in report] == ["one.dvl", "two.dvl", "dir.dvl"]
    assert report[2] == {
        "path": "dir",
        "pointer": "dir.dvl",
        "kind": "dir",
        "oid": report[2]["oid"],
        "size": 1,
        "files": 1,
        "changed": True,
    }
    assert (repo.root / ".gitignore").read_text() == "/one\n/two\n/dir\n"


def test_no_stage_and_autostage_false(repo, dvlite) -> None:
    root = repo.root
    git(root, "commit", "-qm", "init")
    (root / "f").write_text("x")
    assert dvlite("add", "--no-stage", "f").exit_code == 0
    assert git(root, "diff", "--cached", "--name-only") == ""
    assert (root / "f.dvl").exists()
    assert dvlite("config", "core.autostage", "false").exit_code == 0
    (root / "g").write_text("y")
    assert dvlite("add", "g").exit_code == 0
    assert git(root, "diff", "--cached", "--name-only") == ""
    assert (root / "g.dvl").exists()


def test_readd_after_change_updates_pointer(repo, dvlite) -> None:
    root = repo.root
    (root / "f").write_text("v1")
    dvlite("add", "f")
    (root / "f").write_text("v2")
    result = dvlite("add", "f")
    assert result.stdout == "    added f.dvl  (2 B)\n"
    assert f"oid: {oid(b'v2')}\n" in (root / "f.dvl").read_text()
    assert (root / ".gitignore").read_text() == "/f\n"


def test_readd_unchanged_is_a_noop_without_reading(repo, dvlite) -> None:
    root = repo.root
    root.joinpath("data").mkdir()
    for i in range(3):
        root.joinpath("data", f"f{i}").write_text(str(i))
    assert dvlite("add", "data").exit_code == 0
    before = (root / "data.dvl").read_bytes()
    pointer_mtime = os.stat(root / "data.dvl").st_mtime_ns
    # Rewrite a file in place (same inode, size and mtime): only a re-read could notice, so an
    # unchanged pointer proves the state database answered and the file was not read again.
    path = root / "data" / "f0"
    st = os.stat(path)
    with open(path, "r+b") as f:
        f.write(b"Z")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    result = dvlite("add", "data")
    assert result.exit_code == 0, result.output
    assert result.stdout == "unchanged data.dvl  (3 files, 3 B)\n"
    assert (root / "data.dvl").read_bytes() == before
    assert os.stat(root / "data.dvl").st_mtime_ns == pointer_mtime


def test_readd_unchanged_uses_state_rows(repo, dvlite) -> None:
    root = repo.root
    root.joinpath("data").mkdir()
    root.joinpath("data", "f").write_text("x")
    dvlite("add", "data")
    rows = State(repo.tmp_dir / "state.db").load("data")
    st = os.stat(root / "data" / "f")
    assert rows == {"data/f": ("data/f", st.st_ino, st.st_mtime_ns, 1, oid(b"x"))}


@pytest.mark.parametrize(
    ("setup", "arg", "message"),
    [
        (lambda r: None, "missing", "Error: missing: no such file or directory\n"),
        (lambda r: None, "/", "Error: / is outside the repository {root}\n"),
        (lambda r: None, "../elsewhere", "Error: ../elsewhere is outside the repository {root}\n"),
        (lambda r: None, ".git", "Error: .git is inside .git/, which dvlite does not track\n"),
        (
            lambda r: None,
            ".dvlite/config",
            "Error: .dvlite/config is inside .dvlite/, which dvlite does not track\n",
        ),
        (
            lambda r: None,
            ".",
            "Error: cannot add the repository root; add the folders or files inside it\n",
        ),
        (
            lambda r: r.joinpath("x.dvl").write_text("version: 1\n"),
            "x.dvl",
            "Error: x.dvl is a pointer file; add the data it points to instead\n",
        ),
    ],
)
def test_add_bad_paths(repo, dvlite, setup, arg, message) -> None:
    setup(repo.root)
    result = dvlite("add", arg)
    assert result.exit_code == 1
    assert result.stderr == message.format(root=repo.root)


def test_add_data_tracked_by_git(repo, dvlite) -> None:
    (repo.root / "d").mkdir()
    (repo.root / "d" / "f").write_text("x")
    git(repo.root, "add", "d/f")
    result = dvlite("add", "d")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: d is tracked by git; "
        "run `git rm -r --cached d` first so that git keeps only its pointer\n"
    )
    assert not (repo.root / "d.dvl").exists()


def test_git_tracking_check_is_literal(repo, dvlite) -> None:
    # a tracked `data1` must not make `data*` look tracked (no pathspec globbing)
    (repo.root / "data1").write_text("tracked by git")
    git(repo.root, "add", "data1")
    (repo.root / "data*").write_text("mine")
    assert dvlite("add", "data*").exit_code == 0
    staged = git(repo.root, "diff", "--cached", "--name-only").split("\n")
    assert "data*.dvl" in staged


def test_add_inside_tracked_dir_is_an_error(repo, dvlite) -> None:
    (repo.root / "d" / "sub").mkdir(parents=True)
    (repo.root / "d" / "sub" / "f").write_text("x")
    dvlite("add", "d")
    result = dvlite("add", "d/sub/f")
    assert result.exit_code == 1
    assert (
        result.stderr
        == "Error: d/sub/f is inside d, which d.dvl already tracks; add d again instead\n"
    )


def test_add_dir_and_path_inside_it_at_once_is_an_error(repo, dvlite) -> None:
    (repo.root / "d").mkdir()
    (repo.root / "d" / "f").write_text("x")
    result = dvlite("add", "d", "d/f")
    assert result.exit_code == 1
    assert result.stderr == "Error: d/f is inside d, which is added too; add only d\n"
    assert not (repo.root / "d.dvl").exists()
    assert not (repo.root / "d" / "f.dvl").exists()


def test_add_dir_holding_a_pointer_is_an_error(repo, dvlite) -> None:
    (repo.root / "d").mkdir()
    (repo.root / "d" / "f").write_text("x")
    dvlite("add", "--no-stage", "d/f")
    result = dvlite("add", "d")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: d holds the pointer file d/f.dvl; remove that tracking first "
        "(`dvlite remove d/f.dvl`; the data stays), or add the files and folders inside d "
        "separately\n"
    )


@pytest.mark.parametrize(
    "name",
    [
        "with space",
        "ünïcødé-数据",
        " leading",
        "trailing ",
        "trailing two  ",
        "star*",
        "#hash",
        "!bang",
        "q?mark",
        "[br]ackets",
        "back\\slash",
    ],
)
def test_odd_names_are_tracked_and_ignored_exactly(repo, dvlite, name) -> None:
    root = repo.root
    (root / "sub").mkdir()
    (root / "sub" / name).write_bytes(b"payload")
    (root / "sub" / "other").write_bytes(b"not ignored")
    result = dvlite("add", f"sub/{name}")
    assert result.exit_code == 0, result.output
    assert (root / "sub" / f"{name}.dvl").is_file()
    ignored = git(
        root, "ls-files", "--others", "--ignored", "--exclude-standard", "-z", "sub"
    ).split("\0")
    assert ignored == [f"sub/{name}", ""]
    untracked = git(root, "ls-files", "--others", "--exclude-standard", "-z", "sub").split("\0")
    assert untracked == ["sub/other", ""]
    staged = git(root, "diff", "--cached", "--name-only", "-z").split("\0")
    assert f"sub/{name}.dvl" in staged
    assert dvlite("status").stdout == ""
    os.remove(root / "sub" / name)
    assert dvlite("checkout").exit_code == 0
    assert (root / "sub" / name).read_bytes() == b"payload"


def test_odd_names_inside_a_directory(repo, dvlite) -> None:
    files = {"a b": b"1", "ñ/日本": b"2", "*": b"3", " x ": b"4"}
    for rel, data in files.items():
        path = repo.root / "d" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert dvlite("add", "d").exit_code == 0
    import shutil

    shutil.rmtree(repo.root / "d")
    assert dvlite("checkout").exit_code == 0
    for rel, data in files.items():
        assert (repo.root / "d" / rel).read_bytes() == data


def test_name_with_newline_is_refused(repo, dvlite) -> None:
    (repo.root / "a\nb").write_text("x")
    result = dvlite("add", "a\nb")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "line break" in result.stderr
    assert not (repo.root / ".gitignore").exists()


def test_non_utf8_name_is_a_clear_error(repo, dvlite) -> None:
    (repo.root / "d").mkdir()
    with open(os.path.join(os.fsencode(repo.root / "d"), b"bad\xff"), "wb") as f:
        f.write(b"x")
    result = dvlite("add", "d")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: d/bad") and "UTF-8" in result.stderr
    assert result.stderr.count("\n") == 1


def test_symlinks_inside_data_are_followed(repo, dvlite) -> None:
    root = repo.root
    (root / "d" / "real").mkdir(parents=True)
    (root / "d" / "real" / "f").write_bytes(b"target bytes")
    os.symlink("real/f", root / "d" / "link")
    assert dvlite("add", "d").exit_code == 0
    assert "files: 2\n" in (root / "d.dvl").read_text()


def test_symlink_pointing_outside_the_data(repo, dvlite) -> None:
    root = repo.root
    (root / "outside").write_text("x")
    (root / "d").mkdir()
    os.symlink("../outside", root / "d" / "link")
    result = dvlite("add", "d")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: d/link is a symlink to {root / 'outside'}, outside the data; "
        "copy the file in or add its target instead\n"
    )
    assert not (root / "d.dvl").exists()


def test_symlinked_file_as_target_pointing_elsewhere(repo, dvlite) -> None:
    root = repo.root
    (root / "real").write_text("x")
    os.symlink("real", root / "link")
    result = dvlite("add", "link")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: link is a symlink to ")


def test_symlink_loop(repo, dvlite) -> None:
    root = repo.root
    (root / "d").mkdir()
    os.symlink("b", root / "d" / "a")
    os.symlink("a", root / "d" / "b")
    result = dvlite("add", "d")
    assert result.exit_code == 1
    assert result.stderr in ("Error: d/a is a symlink loop\n", "Error: d/b is a symlink loop\n")


def test_symlinked_folder(repo, dvlite) -> None:
    root = repo.root
    (root / "real").mkdir()
    (root / "real" / "f").write_text("x")
    os.symlink("real", root / "alias")
    result = dvlite("add", "alias")
    assert result.exit_code == 1
    assert (
        result.stderr
        == "Error: alias is a symlink to a folder; add the folder it points to instead\n"
    )
    (root / "d").mkdir()
    os.symlink("../real", root / "d" / "inner")
    result = dvlite("add", "d")
    assert result.exit_code == 1
    assert (
        result.stderr
        == "Error: d/inner is a symlink to a folder; dvlite does not follow folder links\n"
    )


def test_special_file_is_refused(repo, dvlite) -> None:
    (repo.root / "d").mkdir()
    os.mkfifo(repo.root / "d" / "pipe")
    result = dvlite("add", "d")
    assert result.exit_code == 1
    assert (
        result.stderr == "Error: d/pipe is not a regular file or folder (socket, pipe or device)\n"
    )


def test_add_from_a_subfolder(repo, dvlite, monkeypatch) -> None:
    (repo.root / "sub").mkdir()
    (repo.root / "sub" / "f").write_text("x")
    monkeypatch.chdir(repo.root / "sub")
    result = dvlite("add", "f")
    assert result.exit_code == 0, result.output
    assert result.stdout == "    added sub/f.dvl  (1 B)\n"
    assert (repo.root / "sub" / ".gitignore").read_text() == "/f\n"


def test_add_large_file_goes_through_the_copy_path(repo, dvlite) -> None:
    data = os.urandom(3 << 20)
    (repo.root / "big").write_bytes(data)
    assert dvlite("add", "big").exit_code == 0
    assert object_path(repo.cache_dir, oid(data)).read_bytes() == data
    assert not any((repo.cache_dir / "tmp").iterdir())
