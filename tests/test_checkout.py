import json
import os
import shutil
import stat

import pytest
from helpers import git, object_path, oid, snapshot


def _dataset(repo, dvlite) -> None:
    root = repo.root
    root.joinpath("data", "sub").mkdir(parents=True)
    root.joinpath("data", "a.txt").write_text("a")
    root.joinpath("data", "sub", "b.txt").write_text("b")
    root.joinpath("data", "run.sh").write_text("#!/bin/sh\n")
    os.chmod(root / "data" / "run.sh", 0o755)
    root.joinpath("model.bin").write_bytes(b"m")
    assert dvlite("add", "data", "model.bin").exit_code == 0


def test_restores_deleted_files_and_dirs(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    before = snapshot(repo.root)
    shutil.rmtree(repo.root / "data")
    (repo.root / "model.bin").unlink()
    result = dvlite("checkout")
    assert result.exit_code == 0, result.output
    assert result.stdout == "4 added, 0 modified, 0 deleted\n"
    assert snapshot(repo.root) == before
    assert os.stat(repo.root / "data" / "run.sh").st_mode & 0o111 == 0o111 & ~_umask()
    assert not os.stat(repo.root / "data" / "a.txt").st_mode & 0o111
    assert dvlite("status").stdout == ""
    assert dvlite("checkout").stdout == ""  # nothing to do: silent


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_restores_empty_tracked_folder(repo, dvlite) -> None:
    (repo.root / "empty").mkdir()
    assert dvlite("add", "empty").exit_code == 0
    (repo.root / "empty").rmdir()
    assert dvlite("checkout").exit_code == 0
    assert (repo.root / "empty").is_dir()


def test_removes_files_the_tree_no_longer_has(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    (repo.root / "data" / "extra").mkdir()
    (repo.root / "data" / "extra" / "new.txt").write_text("new")
    assert dvlite("add", "data").exit_code == 0  # the new file is in the cache now
    # go back to a pointer without extra/: the file is in the cache, so no --force is needed
    (repo.root / "data.dvl").write_text(_pointer_without_extra(repo, dvlite))
    result = dvlite("checkout", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "added": [],
        "modified": [],
        "deleted": ["data/extra/new.txt"],
    }
    assert not (repo.root / "data" / "extra").exists()


def _pointer_without_extra(repo, dvlite) -> str:
    saved = (repo.root / "data.dvl").read_text()
    shutil.move(repo.root / "data" / "extra", repo.root / "extra-aside")
    assert dvlite("add", "data").exit_code == 0
    text = (repo.root / "data.dvl").read_text()
    shutil.move(repo.root / "extra-aside", repo.root / "data" / "extra")
    (repo.root / "data.dvl").write_text(saved)
    return text


def test_checkout_older_commit_pointer(repo, dvlite) -> None:
    root = repo.root
    root.joinpath("model.bin").write_bytes(b"v1")
    dvlite("add", "model.bin")
    git(root, "commit", "-qm", "v1")
    root.joinpath("model.bin").write_bytes(b"version two")
    dvlite("add", "model.bin")
    git(root, "commit", "-qm", "v2")
    git(root, "checkout", "-q", "HEAD~1", "--", "model.bin.dvl")
    assert dvlite("status").stdout == "model.bin.dvl\n    modified:     model.bin\n"
    result = dvlite("checkout", "model.bin.dvl")
    assert result.exit_code == 0, result.output
    assert result.stdout == "0 added, 1 modified, 0 deleted\n"
    assert root.joinpath("model.bin").read_bytes() == b"v1"


def test_refuses_to_overwrite_unsaved_changes(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    root = repo.root
    root.joinpath("data", "a.txt").write_text("unsaved edit")
    root.joinpath("data", "sub", "b.txt").unlink()  # would be restored
    root.joinpath("data", "unsaved-new.txt").write_text("would be deleted")
    root.joinpath("model.bin").write_bytes(b"unsaved model")
    before = snapshot(root)
    result = dvlite("checkout")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: checkout would overwrite or delete changes that are not in the cache: "
        "data/a.txt, data/unsaved-new.txt, model.bin; "
        "`dvlite add` them to keep them, or use --force to discard them\n"
    )
    assert snapshot(root) == before  # nothing touched, not even the deleted file restored
    result = dvlite("checkout", "--force")
    assert result.exit_code == 0, result.output
    assert root.joinpath("data", "a.txt").read_text() == "a"
    assert root.joinpath("data", "sub", "b.txt").read_text() == "b"
    assert not root.joinpath("data", "unsaved-new.txt").exists()
    assert root.joinpath("model.bin").read_bytes() == b"m"


def test_refusal_names_at_most_five_paths(repo, dvlite) -> None:
    (repo.root / "d").mkdir()
    for i in range(8):
        (repo.root / "d" / f"f{i}").write_text(str(i))
    dvlite("add", "d")
    for i in range(8):
        (repo.root / "d" / f"f{i}").write_text(f"edit {i}")
    result = dvlite("checkout")
    assert result.exit_code == 1
    assert "d/f0, d/f1, d/f2, d/f3, d/f4 and 3 more;" in result.stderr


def test_changes_that_are_in_the_cache_are_overwritten(repo, dvlite) -> None:
    root = repo.root
    root.joinpath("f").write_text("v1")
    dvlite("add", "f")
    v1 = root.joinpath("f.dvl").read_text()
    root.joinpath("f").write_text("v2")
    dvlite("add", "f")
    root.joinpath("f.dvl").write_text(v1)
    result = dvlite("checkout")
    assert result.exit_code == 0, result.output
    assert root.joinpath("f").read_text() == "v1"


def test_missing_object_is_named_and_the_rest_checked_out(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    shutil.rmtree(repo.root / "data")
    obj = object_path(repo.cache_dir, oid(b"b"))
    os.chmod(obj, 0o644)
    obj.unlink()
    result = dvlite("checkout")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: not in the cache, not checked out: data/sub/b.txt; "
        "run `dvlite pull` to fetch them\n"
    )
    assert not (repo.root / "data" / "sub" / "b.txt").exists()
    assert (repo.root / "data" / "a.txt").read_text() == "a"  # the rest is checked out


def test_corrupt_object_is_not_installed(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    shutil.rmtree(repo.root / "data")
    obj = object_path(repo.cache_dir, oid(b"b"))
    os.chmod(obj, 0o644)
    obj.write_bytes(b"X")  # same size, other bytes
    result = dvlite("checkout")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: corrupt objects in the cache, not checked out: data/sub/b.txt; "
        "moved aside; run `dvlite pull` to fetch good copies\n"
    )
    assert not (repo.root / "data" / "sub" / "b.txt").exists()
    assert (repo.root / "data" / "a.txt").read_text() == "a"  # the good ones are restored
    assert not obj.exists()  # moved aside, so that fetch gets a good copy
    assert (repo.cache_dir / "corrupt" / (obj.parent.name + obj.name)).read_bytes() == b"X"
    assert not [p for p in (repo.root / "data").rglob("*") if ".dvlite-tmp-" in p.name]


@pytest.mark.parametrize("link", ["copy", "reflink,copy"])
def test_copy_link_types_give_writable_files(repo, dvlite, link) -> None:
    dvlite("config", "cache.type", link)
    _dataset(repo, dvlite)
    shutil.rmtree(repo.root / "data")
    assert dvlite("checkout").exit_code == 0
    path = repo.root / "data" / "a.txt"
    assert not path.is_symlink()
    assert os.stat(path).st_nlink == 1
    assert os.access(path, os.W_OK) or os.geteuid() == 0
    assert os.stat(path).st_mode & 0o200


def test_hardlink_and_symlink_workspaces(repo, dvlite) -> None:
    root = repo.root
    dvlite("config", "cache.type", "hardlink")
    _dataset(repo, dvlite)
    obj = object_path(repo.cache_dir, oid(b"a"))
    a = root / "data" / "a.txt"
    # add already links the workspace to the cache
    assert os.stat(a).st_ino == os.stat(obj).st_ino
    assert not os.stat(a).st_mode & 0o222
    assert dvlite("status").stdout == ""
    # an executable file keeps its exec bit (a copy: a link would share the object's mode)
    run = root / "data" / "run.sh"
    assert os.stat(run).st_mode & 0o100
    assert dvlite("status").stdout == ""

    dvlite("config", "cache.type", "symlink")
    assert dvlite("checkout", "--relink").exit_code == 0
    assert a.is_symlink() and os.path.realpath(a) == str(obj)
    assert dvlite("status").stdout == ""
    shutil.rmtree(root / "data")
    assert dvlite("checkout").exit_code == 0
    assert a.is_symlink()
    assert a.read_text() == "a"

    dvlite("config", "cache.type", "copy")
    assert dvlite("checkout", "--relink").exit_code == 0
    assert not a.is_symlink() and os.stat(a).st_nlink == 1
    assert os.stat(a).st_mode & 0o200
    assert stat.S_IMODE(os.stat(obj).st_mode) == 0o444  # the cache object was never touched
    assert dvlite("status").stdout == ""


def test_symlink_workspace_edit_is_detected_and_cache_safe(repo, dvlite) -> None:
    dvlite("config", "cache.type", "symlink")
    root = repo.root
    root.joinpath("f").write_text("v1")
    assert dvlite("add", "f").exit_code == 0
    assert (root / "f").is_symlink()
    (root / "f").unlink()
    (root / "f").write_text("v2")
    assert dvlite("status").stdout == "f.dvl\n    modified:     f\n"
    assert dvlite("checkout").exit_code == 1
    assert dvlite("checkout", "--force").exit_code == 0
    assert (root / "f").read_text() == "v1"


def test_exec_bit_restored_by_checkout(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    os.chmod(repo.root / "data" / "run.sh", 0o644)
    result = dvlite("checkout")
    assert result.exit_code == 0, result.output
    assert os.stat(repo.root / "data" / "run.sh").st_mode & 0o100


def test_checkout_targets(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    shutil.rmtree(repo.root / "data")
    (repo.root / "model.bin").unlink()
    assert dvlite("checkout", "model.bin").exit_code == 0
    assert (repo.root / "model.bin").exists()
    assert not (repo.root / "data").exists()


def test_file_where_a_folder_must_go(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    shutil.rmtree(repo.root / "data" / "sub")
    (repo.root / "data" / "sub").write_text("b")  # same bytes as b.txt: in the cache
    result = dvlite("checkout")
    assert result.exit_code == 0, result.output
    assert (repo.root / "data" / "sub" / "b.txt").read_text() == "b"


def test_folder_where_a_file_must_go(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    (repo.root / "model.bin").unlink()
    (repo.root / "model.bin" / "inner").mkdir(parents=True)
    (repo.root / "model.bin" / "inner" / "x").write_bytes(b"m")  # in the cache
    result = dvlite("checkout")
    assert result.exit_code == 0, result.output
    assert (repo.root / "model.bin").read_bytes() == b"m"


def test_missing_tree_object(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    shutil.rmtree(repo.cache_dir)
    result = dvlite("checkout")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: not in the cache, not checked out: data; run `dvlite pull` to fetch them\n"
    )


def test_reflink_only_where_unsupported_is_a_clear_error(repo, dvlite) -> None:
    import tempfile

    from dvlite.objects.fsutil import reflink

    with tempfile.TemporaryDirectory(dir=repo.root) as d:
        src = os.path.join(d, "a")
        open(src, "w").close()
        if reflink(src, os.path.join(d, "b")):
            pytest.skip("this filesystem clones files")
    dvlite("config", "cache.type", "reflink")
    repo.root.joinpath("f").write_text("x")
    assert dvlite("add", "f").exit_code == 0  # the cache gets a plain copy
    repo.root.joinpath("f").unlink()
    result = dvlite("checkout")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: none of the link types reflink works for {repo.root / 'f'}; "
        "add copy to them (`dvlite config cache.type reflink,copy`)\n"
    )
    assert not repo.root.joinpath("f").exists()


@pytest.mark.parametrize("link", ["hardlink", "symlink"])
def test_exec_bit_on_a_linked_file_never_changes_the_cache_object(repo, dvlite, link) -> None:
    root = repo.root
    (root / "d").mkdir()
    (root / "d" / "tool").write_text("#!/bin/sh\n")
    os.chmod(root / "d" / "tool", 0o755)
    assert dvlite("add", "d").exit_code == 0
    obj = object_path(repo.cache_dir, oid(b"#!/bin/sh\n"))
    # a workspace made by hand (or an older dvlite): the executable is a link to its object
    (root / "d" / "tool").unlink()
    if link == "hardlink":
        os.link(obj, root / "d" / "tool")
    else:
        os.symlink(obj, root / "d" / "tool")
    assert dvlite("checkout").exit_code == 0
    assert stat.S_IMODE(os.stat(obj).st_mode) == 0o444
    assert not (root / "d" / "tool").is_symlink()
    assert os.stat(root / "d" / "tool").st_mode & 0o100
