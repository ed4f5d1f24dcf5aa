import json
import os
import shutil

from helpers import object_path, oid


def _dataset(repo, dvlite) -> None:
    repo.root.joinpath("data", "sub").mkdir(parents=True)
    repo.root.joinpath("data", "a.txt").write_text("a")
    repo.root.joinpath("data", "sub", "b.txt").write_text("b")
    repo.root.joinpath("model.bin").write_bytes(b"m")
    assert dvlite("add", "data", "model.bin").exit_code == 0


def test_clean_is_silent(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    result = dvlite("status")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert dvlite("status", "-q").exit_code == 0
    assert json.loads(dvlite("status", "--json").stdout) == []


def test_no_pointers_at_all(repo, dvlite) -> None:
    result = dvlite("status")
    assert (result.exit_code, result.stdout) == (0, "")


def test_modified_new_deleted_down_to_the_file(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    root = repo.root
    root.joinpath("data", "a.txt").write_text("changed")
    root.joinpath("data", "sub", "b.txt").unlink()
    root.joinpath("data", "sub", "new.txt").write_text("n")
    root.joinpath("model.bin").unlink()
    result = dvlite("status")
    assert result.exit_code == 0
    assert result.stdout == (
        "data.dvl\n"
        "    modified:     data/a.txt\n"
        "    deleted:      data/sub/b.txt\n"
        "    new:          data/sub/new.txt\n"
        "model.bin.dvl\n"
        "    deleted:      model.bin\n"
    )
    assert dvlite("status", "-q").exit_code == 1
    assert dvlite("status", "-q").stdout == ""
    assert json.loads(dvlite("status", "--json").stdout) == [
        {
            "source": "data.dvl",
            "changes": [
                {"path": "data/a.txt", "state": "modified"},
                {"path": "data/sub/b.txt", "state": "deleted"},
                {"path": "data/sub/new.txt", "state": "new"},
            ],
        },
        {"source": "model.bin.dvl", "changes": [{"path": "model.bin", "state": "deleted"}]},
    ]


def test_exec_bit_change_is_a_modification(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    os.chmod(repo.root / "data" / "a.txt", 0o755)
    assert json.loads(dvlite("status", "--json").stdout) == [
        {"source": "data.dvl", "changes": [{"path": "data/a.txt", "state": "modified"}]}
    ]


def test_executable_single_file_is_clean_after_add(repo, dvlite) -> None:
    script = repo.root / "run.sh"
    script.write_text("#!/bin/sh\n")
    os.chmod(script, 0o755)
    assert dvlite("add", "run.sh").exit_code == 0
    assert dvlite("status").stdout == ""
    script.unlink()
    assert dvlite("checkout").exit_code == 0
    assert os.stat(script).st_mode & 0o100


def test_not_in_cache(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    obj = object_path(repo.cache_dir, oid(b"b"))
    os.chmod(obj, 0o644)
    obj.unlink()
    assert json.loads(dvlite("status", "--json").stdout) == [
        {"source": "data.dvl", "changes": [{"path": "data/sub/b.txt", "state": "not in cache"}]}
    ]
    shutil.rmtree(repo.cache_dir)
    result = dvlite("status")
    assert result.exit_code == 0
    assert result.stdout == (
        "data.dvl\n    not in cache: data\nmodel.bin.dvl\n    not in cache: model.bin\n"
    )


def test_targets_and_subfolder(repo, dvlite, monkeypatch) -> None:
    _dataset(repo, dvlite)
    repo.root.joinpath("data", "a.txt").write_text("changed")
    repo.root.joinpath("model.bin").write_text("changed")
    for target in ("model.bin", "model.bin.dvl"):
        result = dvlite("status", target)
        assert result.stdout == "model.bin.dvl\n    modified:     model.bin\n", target
    monkeypatch.chdir(repo.root / "data")
    result = dvlite("status", "--json", "../data")
    assert json.loads(result.stdout) == [
        {"source": "data.dvl", "changes": [{"path": "data/a.txt", "state": "modified"}]}
    ]
    result = dvlite("status")  # everything, from anywhere in the repository
    assert [t["source"] for t in json.loads(dvlite("status", "--json").stdout)] == [
        "data.dvl",
        "model.bin.dvl",
    ]
    assert result.exit_code == 0


def test_target_errors(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    result = dvlite("status", "nope")
    assert (result.exit_code, result.stderr) == (1, "Error: nope is not tracked by dvlite\n")
    result = dvlite("status", "data/a.txt")
    assert result.exit_code == 1
    assert (
        result.stderr
        == "Error: data/a.txt is not tracked by dvlite (it is inside data, tracked by data.dvl)\n"
    )
    repo.root.joinpath("empty").mkdir()
    result = dvlite("status", "empty")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: empty: no tracked data in this folder\n",
    )


def test_folder_replaced_by_file_and_back(repo, dvlite) -> None:
    _dataset(repo, dvlite)
    shutil.rmtree(repo.root / "data" / "sub")
    repo.root.joinpath("data", "sub").write_text("now a file")
    assert json.loads(dvlite("status", "--json").stdout) == [
        {
            "source": "data.dvl",
            "changes": [
                {"path": "data/sub/b.txt", "state": "deleted"},
                {"path": "data/sub", "state": "new"},
            ],
        }
    ]


def test_names_that_look_like_rich_markup_are_printed_verbatim(repo, dvlite) -> None:
    (repo.root / "d" / "a[").mkdir(parents=True)
    (repo.root / "d" / "a[" / "b]").write_text("x")
    (repo.root / "[red]c").write_text("y")
    result = dvlite("add", "d", "[red]c")
    assert result.stdout == "    added d.dvl  (1 file, 1 B)\n    added [red]c.dvl  (1 B)\n"
    (repo.root / "d" / "a[" / "b]").write_text("changed")
    (repo.root / "[red]c").unlink()
    result = dvlite("status")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "[red]c.dvl\n    deleted:      [red]c\nd.dvl\n    modified:     d/a[/b]\n"
    )
    import shutil

    shutil.rmtree(repo.cache_dir)
    assert "missing: d\n" in dvlite("fsck").stdout
    assert dvlite("remove", "[red]c.dvl").stdout == "removed [red]c.dvl\n"
