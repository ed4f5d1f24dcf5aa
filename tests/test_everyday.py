"""Everyday commands, end to end on real git repositories: du, move, commit, doctor."""

from __future__ import annotations

import json

from helpers import TmpDir, git, oid, ok, one_line_error
from pipeline_helpers import runs

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


# -- move ------------------------------------------------------------------------------------------
def _committed(tmp_dir: TmpDir, dvlite) -> None:
    tmp_dir.gen({"data": {"a.csv": "a", "sub": {"b.csv": "b"}}, "model.bin": "weights"})
    ok(dvlite("add", "data", "model.bin"))
    git(tmp_dir, "add", "-A")
    git(tmp_dir, "commit", "-qm", "data")


def test_move_a_folder_with_its_pointer_and_gitignore_line(
    repo: Repo, tmp_dir: TmpDir, dvlite
) -> None:
    _committed(tmp_dir, dvlite)
    before = (tmp_dir / "data.dvl").read_text()
    result = ok(dvlite("move", "data", "datasets/raw"))
    assert result.stdout == "moved data to datasets/raw\n"
    assert (tmp_dir / "datasets" / "raw" / "sub" / "b.csv").read_text() == "b"
    assert not (tmp_dir / "data").exists() and not (tmp_dir / "data.dvl").exists()
    assert (tmp_dir / "datasets" / "raw.dvl").read_text() == before.replace(
        "path: data\n", "path: raw\n"
    )
    assert (tmp_dir / "datasets" / ".gitignore").read_text() == "/raw\n"
    assert "/data" not in (tmp_dir / ".gitignore").read_text()
    staged = git(tmp_dir, "status", "--porcelain").splitlines()
    assert "A  datasets/.gitignore" in staged and "M  .gitignore" in staged
    assert any(line.startswith("R  data.dvl -> datasets/raw.dvl") for line in staged) or {
        "D  data.dvl",
        "A  datasets/raw.dvl",
    } <= set(staged)
    assert ok(dvlite("status")).stdout == ""
    git(tmp_dir, "commit", "-qm", "moved")
    assert git(tmp_dir, "status", "--porcelain") == ""  # nothing left unstaged


def test_move_a_file_by_its_pointer_hashes_nothing_again(
    repo: Repo, tmp_dir: TmpDir, dvlite
) -> None:
    _committed(tmp_dir, dvlite)
    result = dv.move("model.bin.dvl", "models/v1.bin", repo=repo.root)
    assert (result.src, result.dst, result.pointer) == (
        "model.bin",
        "models/v1.bin",
        "models/v1.bin.dvl",
    )
    assert "v1.bin" in repo.state.files_in("models")  # carried over: status reads no byte of it
    assert ok(dvlite("status")).stdout == ""
    (tmp_dir / "models" / "v1.bin").unlink()  # and the pointer is a real one: checkout restores
    ok(dvlite("checkout"))
    assert (tmp_dir / "models" / "v1.bin").read_text() == "weights"


def test_move_refusals(pipeline: Repo, tmp_dir: TmpDir, dvlite) -> None:
    tmp_dir.gen({"ds": {"a.csv": "a", "sub": {"b.csv": "b"}}, "f.bin": "f"})
    ok(dvlite("add", "ds", "f.bin"))
    ok(dvlite("repro"))
    cases = {
        ("model.bin", "elsewhere"): "Error: model.bin is an output of stage 'train': "
        "dvlite.lock records it, so it moves by editing the stage in dvlite.yaml (its outs and "
        "its command), then `dvlite repro train`",
        ("ds/a.csv", "x.csv"): "Error: ds/a.csv is inside ds, which ds.dvl tracks; move it "
        "with mv, then `dvlite add ds` (or move all of ds)",
        ("nope", "x"): "Error: nope is not tracked by dvlite (no nope.dvl); use mv",
        ("f.bin", "tool.py"): "Error: cannot move f.bin to tool.py: it exists; "
        "give a new path (dvlite moves nothing into a folder, nor over a file)",
        ("f.bin", "/tmp/out.bin"): f"Error: /tmp/out.bin is outside the repository {pipeline.root}",
        ("ds", "ds/inner"): "Error: cannot move ds to ds/inner: a folder cannot move into itself",
        ("f.bin", "ds/sub/m.bin"): "Error: cannot move f.bin to ds/sub/m.bin: it is "
        "inside ds, which ds.dvl tracks",
        ("f.bin", "x/.DS_Store"): "Error: cannot move f.bin to x/.DS_Store: "
        ".dvliteignore:3 (.DS_Store) ignores it",
        ("f.bin", "data/prepared/f.bin"): "Error: cannot move f.bin to data/prepared/f.bin: "
        "stage 'prepare' writes data/prepared there",
        ("f.bin", "tool.py/f.bin"): "Error: cannot move f.bin to tool.py/f.bin: tool.py is a file",
    }
    for (src, dst), error in cases.items():
        assert one_line_error(dvlite("move", src, dst)) == error
    assert (tmp_dir / "f.bin.dvl").is_file() and (tmp_dir / "ds.dvl").is_file()  # nothing moved


# -- commit ----------------------------------------------------------------------------------------
def test_commit_of_a_pointer_is_add_of_its_data(repo: Repo, tmp_dir: TmpDir, dvlite) -> None:
    _committed(tmp_dir, dvlite)
    (tmp_dir / "data" / "sub" / "b.csv").write_text("fixed by hand")
    (tmp_dir / "model.bin").write_text("retrained")
    done = json.loads(ok(dvlite("commit", "data/sub/b.csv", "--json")).stdout)
    assert done == [{"target": "data.dvl", "changed": True}]
    assert "model.bin.dvl" in ok(dvlite("status")).stdout  # only what was named
    assert ok(dvlite("commit")).stdout == "unchanged data.dvl\ncommitted model.bin.dvl\n"
    assert ok(dvlite("status")).stdout == ""
    staged = git(tmp_dir, "diff", "--cached", "--name-only").split()
    assert staged == ["data.dvl", "model.bin.dvl"]


def test_commit_records_stage_outputs_made_by_hand(pipeline: Repo, tmp_dir: TmpDir, dvlite) -> None:
    ok(dvlite("repro"))
    runs(tmp_dir)
    (tmp_dir / "model.bin").write_text("a model fixed by hand")
    assert "train" in ok(dvlite("status")).stdout
    assert ok(dvlite("commit", "train")).stdout == "committed dvlite.lock:train\n"
    assert runs(tmp_dir) == []  # nothing ran
    lock = (tmp_dir / "dvlite.lock").read_text()
    assert oid(b"a model fixed by hand") in lock
    # evaluate reads model.bin: it is out of date now, train is not
    status = ok(dvlite("status", "--json")).stdout
    assert "dvlite.yaml:evaluate" in status and "dvlite.yaml:train" not in status
    assert ok(dvlite("commit", "model.bin")).stdout == "unchanged dvlite.lock:train\n"
    assert "dvlite.lock" in git(tmp_dir, "diff", "--cached", "--name-only").split()
    (tmp_dir / "model.bin").unlink()  # the hand-made version is in the cache
    ok(dvlite("checkout"))
    assert (tmp_dir / "model.bin").read_text() == "a model fixed by hand"


def test_commit_of_a_stage_that_never_ran(pipeline: Repo, tmp_dir: TmpDir, dvlite) -> None:
    (tmp_dir / "stats.txt").write_text("made by hand")
    assert dv.commit(["stats"], repo=tmp_dir)[0].changed
    assert runs(tmp_dir) == []
    assert "stats:" in (tmp_dir / "dvlite.lock").read_text()
    assert "dvlite.yaml:stats" not in ok(dvlite("status", "--json")).stdout


def test_commit_refuses_a_stage_whose_deps_changed_unless_forced(
    pipeline: Repo, tmp_dir: TmpDir, dvlite
) -> None:
    ok(dvlite("repro"))
    (tmp_dir / "params.yaml").write_text(
        '{"prepare": {"seed": 1}, "train": {"lr": 0.5, "layers": 2}}\n'
    )
    (tmp_dir / "model.bin").write_text("by hand")
    assert one_line_error(dvlite("commit", "train")) == (
        "Error: stage 'train': its params changed (train.lr) since it last ran, so its outputs "
        "may not be what its command makes now; run `dvlite repro train`, or `dvlite commit "
        "--force train` to record them as they are"
    )
    (tmp_dir / "data" / "raw.txt").write_text("raw-2")
    error = one_line_error(dvlite("commit", "stats"))
    assert "its deps changed (data/raw.txt)" in error
    assert ok(dvlite("commit", "--force", "train")).stdout == "committed dvlite.lock:train\n"
    assert "lr: 0.5" in (tmp_dir / "dvlite.lock").read_text()


def test_commit_errors(pipeline: Repo, tmp_dir: TmpDir, dvlite) -> None:
    assert one_line_error(dvlite("commit", "tool.py")) == (
        "Error: tool.py is not tracked: neither a pointer's data, nor a stage in dvlite.yaml, "
        "nor a stage's output; `dvlite add` it to track it"
    )
    assert one_line_error(dvlite("commit", "train")) == (
        "Error: stage 'train': its output model.bin is not in the workspace; make it first, "
        "or run `dvlite repro train`"
    )
    (tmp_dir / "data" / "raw.txt").unlink()
    assert one_line_error(dvlite("commit", "data/raw.txt")) == (
        "Error: data/raw.txt is not in the workspace; `dvlite checkout` or `dvlite pull` it"
    )


# -- doctor ----------------------------------------------------------------------------------------
def test_doctor_reports_versions_repository_cache_remotes_and_hooks(
    repo: Repo, tmp_dir: TmpDir, dvlite, folder_store, tmp_path_factory
) -> None:
    _committed(tmp_dir, dvlite)
    ok(dvlite("remote", "add", "-d", "store", folder_store.url))
    ok(dvlite("remote", "add", "gone", str(tmp_path_factory.mktemp("x") / "missing")))
    ok(dvlite("install"))
    report = json.loads(ok(dvlite("doctor", "--json")).stdout)
    assert report["dvlite"] == dv.__version__
    assert report["dependencies"]["click"] and report["dependencies"]["xxhash"]
    assert report["root"] == str(repo.root) and report["uses_git"] is True
    cache = report["cache"]
    assert cache["dir"] == str(repo.cache_dir)
    assert cache["objects"] == 5  # 3 files, 2 trees
    assert cache["size"] > 0 and "copy" in cache["working"]
    assert cache["link_types"] == ["reflink", "copy"]
    remotes = {r["name"]: r for r in report["remotes"]}
    assert remotes["store"]["reachable"] and remotes["store"]["default"]
    assert not remotes["gone"]["reachable"] and "does not exist" in remotes["gone"]["error"]
    assert set(report["hooks"].values()) == {"installed"}
    assert report["problems"] == []
    text = ok(dvlite("doctor")).stdout
    assert f"repository: {repo.root}\n" in text
    assert "remote store (default): " in text and ": reachable\n" in text
    assert "hooks: pre-commit installed" in text
    assert list(repo.tmp_dir.glob("*dvlite-tmp*")) == []  # the link trials left nothing


def test_doctor_waits_a_few_seconds_for_a_remote_that_never_answers(repo: Repo, s3) -> None:
    import socket
    import time

    from dvlite.ops.doctor import doctor

    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        dv.remote_add("mute", "s3://bucket/x", repo=repo.root)
        repo.config.set("remote.mute.endpoint_url", f"http://127.0.0.1:{port}")
        started = time.monotonic()
        report = doctor(repo.root, timeout=1)
        assert time.monotonic() - started < 8
    (mute,) = report.remotes
    assert not mute.reachable and mute.error
    assert report.ok  # an unreachable remote is reported, not a problem


def test_doctor_outside_a_repository_and_in_a_broken_one(tmp_dir: TmpDir, dvlite) -> None:
    result = ok(dvlite("doctor"))
    assert "repository: none here (not inside a dvlite repository)" in result.stdout
    git(tmp_dir, "init", "-q")
    ok(dvlite("init"))
    (tmp_dir / ".dvlite" / "config").write_text("[core\nbroken")
    broken = dvlite("doctor")
    assert broken.exit_code == 1
    assert broken.stderr.startswith("problem: malformed config file ")
    assert json.loads(dvlite("doctor", "--json").stdout)["problems"]
