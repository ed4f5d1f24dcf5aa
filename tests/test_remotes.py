"""Remotes end to end through the CLI: one test class run on each kind of remote (the ``store``
fixture: folder, then S3 on the moto server), then the errors and the configuration."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from helpers import TmpDir, clone, git, invoke, ok, one_line_error
from remote_helpers import (
    BOTH_FORMATS,
    Store,
    add_remote,
    corrupt_object,
    index_keys,
    key_of,
    locations,
    lose_object,
    make_bucket,
    object_url,
)

from dvlite.records.repo import Repo

DATA = {
    "data": {
        "train": {"cats": {"1.txt": "cat one", "2.txt": "cat two"}, "dogs": {"1.txt": "dog one"}},
        "labels.csv": "a,b\n1,2\n",
    },
    "model.bin": b"\x00model\xff" * 100,
}


@pytest.fixture
def project(repo: Repo, tmp_dir: TmpDir, store: Store, fmt: int | None) -> Repo:
    """A committed repository with tracked data and the store as its default remote."""
    tmp_dir.gen(DATA)
    ok(invoke("add", "data", "model.bin"))
    add_remote(store, format=fmt)
    git(tmp_dir, "add", "-A")
    git(tmp_dir, "commit", "-q", "-m", "v1")
    return repo


def files_under(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts and ".dvlite" not in p.parts
    }


def cached(repo_root: Path) -> set[str]:
    """The objects in a repository's cache (whole or packed)."""
    return set(Repo(repo_root).cache.iter_oids())


def push_json(*args: str) -> dict:
    return json.loads(ok(invoke("push", "--json", *args)).stdout)


class TestRemote:
    def test_round_trip_in_a_fresh_clone(
        self, project: Repo, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        result = push_json()
        assert result["transferred"] == 9  # 5 files and 4 trees
        assert result["failed"] == []
        there = clone(project.root, monkeypatch)
        assert not (there / "data").exists()
        out = ok(invoke("pull"))
        assert "9 objects fetched" in out.stdout
        assert files_under(there) == files_under(project.root)
        assert ok(invoke("status")).stdout == ""
        assert ok(invoke("pull")).stdout == "Everything is up to date.\n"

    def test_partial_pull_of_a_subdirectory(
        self, project: Repo, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        ok(invoke("push"))
        there = clone(project.root, monkeypatch)
        ok(invoke("pull", "data/train/cats"))
        got = files_under(there)
        assert {k for k in got if k.startswith("data/")} == {
            "data/train/cats/1.txt",
            "data/train/cats/2.txt",
        }
        assert got["data/train/cats/1.txt"] == b"cat one"
        # the trees on the path (data, train) and the subtree with its two files
        assert len(cached(there)) == 5

    @BOTH_FORMATS
    def test_only_missing_objects_move(self, project: Repo, store: Store, fmt: int) -> None:
        assert push_json()["transferred"] == 9
        before, had = store.keys(), set(locations(store))
        assert push_json()["transferred"] == 0
        assert store.keys() == before
        (project.root / "data" / "train" / "dogs" / "1.txt").write_text("dog changed")
        ok(invoke("add", "data"))
        # the changed file and the three trees on its path
        assert push_json()["transferred"] == 4
        new = store.keys() - before
        assert before <= store.keys()
        if fmt == 1:
            assert len(new) == 4
        else:  # one pack of the four, and one index file naming them
            assert sorted(k.split("/")[0] for k in new) == ["index", "packs"]
            assert len(set(locations(store)) - had) == 4

    @BOTH_FORMATS
    def test_corrupt_object_on_the_remote(
        self, project: Repo, store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        ok(invoke("push"))
        bad = project.cache.load_tree(project.cache.load_tree(_root(project)).by_name["train"].oid)
        cat = project.cache.load_tree(bad.by_name["cats"].oid).by_name["1.txt"]
        corrupt_object(store, cat.oid)
        url = object_url(store, cat.oid)
        there = clone(project.root, monkeypatch)
        result = invoke("pull")
        assert result.exit_code == 1
        assert f"corrupt on remote: data/train/cats/1.txt ({url})" in result.stderr
        assert result.stderr.startswith(
            "Error: 1 object(s) could not be fetched from remote 'store'"
        )
        assert cat.oid not in cached(there)
        # everything else arrived; model.bin, complete, was checked out
        assert len(cached(there)) == 8
        assert (there / "model.bin").read_bytes() == DATA["model.bin"]
        assert not (there / "data" / "train" / "cats" / "1.txt").exists()

    @BOTH_FORMATS
    def test_interrupted_push_is_completed_by_the_next_one(
        self, project: Repo, store: Store, fmt: int
    ) -> None:
        ok(invoke("push"))
        keys = sorted(store.keys())
        if fmt == 1:
            # what an interrupted push leaves: some files, no trees (they go last), maybe a
            # partial upload under a temporary name, and no record of a completed push
            for record in (project.tmp_dir / "remotes").glob("*.json"):
                record.unlink()
            trees = {key_of(o) for o in _trees(project)}
            for key in keys[::2] + sorted(trees):
                if key in store.keys():  # noqa: SIM118
                    store.delete(key)
            if store.writes_tmp:  # a partial upload under a temporary name
                tmp = "objects/aa/.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.dvlite-tmp-1-abcd"
                store.write(tmp, b"partial")
        else:  # its packs, and not the index file naming them (written last)
            for key in index_keys(store):
                store.delete(key)
        sent = push_json()["transferred"]
        if fmt == 1:
            assert sent >= len(_trees(project))
        else:  # nothing counts as there until an index file names it: all of it again
            assert sent == 9
        assert set(keys) <= store.keys()
        result = ok(invoke("fsck", "--remote"))
        assert result.stdout.endswith(": all good\n")

    def test_push_of_data_missing_from_the_cache(self, project: Repo) -> None:
        ok(invoke("push", "data"))
        shutil.rmtree(project.root / ".dvlite" / "cache")
        result = invoke("push")
        assert result.exit_code == 1
        assert "not in cache: model.bin (" in result.stderr

    def test_all_commits_brings_the_data_of_old_commits(
        self, project: Repo, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        ok(invoke("push"))
        (project.root / "model.bin").write_bytes(b"model v2")
        ok(invoke("add", "model.bin"))
        git(project.root, "commit", "-q", "-am", "v2")
        ok(invoke("push"))
        there = clone(project.root, monkeypatch)
        ok(invoke("pull", "--all-commits"))
        assert (there / "model.bin").read_bytes() == b"model v2"
        ok(invoke("remote", "remove", "store"))  # offline from here on
        git(there, "checkout", "-q", "HEAD~1", "--", "model.bin.dvl")
        ok(invoke("checkout"))
        assert (there / "model.bin").read_bytes() == DATA["model.bin"]

    def test_status_remote(self, project: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
        result = ok(invoke("status", "--remote", "--json"))
        report = json.loads(result.stdout)
        assert report["not_on_remote"] == [
            "data/labels.csv",
            "data/train/cats/1.txt",
            "data/train/cats/2.txt",
            "data/train/dogs/1.txt",
            "model.bin",
        ]
        assert (report["not_in_cache"], report["missing"]) == ([], [])
        assert invoke("status", "--remote", "-q").exit_code == 1
        ok(invoke("push"))
        assert (
            ok(invoke("status", "--remote", "store")).stdout
            == "Cache and remote 'store' are in sync.\n"
        )
        clone(project.root, monkeypatch)
        report = json.loads(ok(invoke("status", "--remote", "--json")).stdout)
        assert "model.bin" in report["not_in_cache"]
        assert "data/train/cats/1.txt" in report["not_in_cache"]
        assert report["not_on_remote"] == []

    @BOTH_FORMATS
    def test_fsck_remote(self, project: Repo, store: Store, fmt: int) -> None:
        ok(invoke("push"))
        result = ok(invoke("fsck", "--remote"))
        assert result.stdout == "checked 9 objects on remote 'store': all good\n"
        oid = _pointer_oid(project, "model.bin.dvl")
        corrupt_object(store, oid)
        url = object_url(store, oid)
        labels = project.cache.load_tree(_root(project)).by_name["labels.csv"].oid
        lose_object(store, labels)
        result = invoke("fsck", "--remote", "store")
        assert result.exit_code == 1
        missing = "missing: data/labels.csv\n"
        verdict = "checked 8 objects on remote 'store': 1 corrupt, 1 missing"
        if fmt == 1:  # by the object's file
            assert result.stdout == f"corrupt: {url}\n{missing}{verdict}\n"
            return
        # by the data it belongs to, in which pack; and the pack, damaged
        pack = url.split(" (bytes ")[0]
        assert result.stdout == (
            f"damaged: {pack}: its bytes do not hash to its name "
            "(1 of its 8 objects corrupt)\n"
            f"corrupt: model.bin ({url})\n{missing}"
            f"{verdict}, 1 damaged file\n"
        )


def _pointer_oid(repo: Repo, rel: str) -> str:
    from dvlite.records import pointer

    return pointer.load(repo.root / rel).oid


def _root(repo: Repo) -> str:
    return _pointer_oid(repo, "data.dvl")


def _trees(repo: Repo) -> set[str]:
    found, stack = set(), [_root(repo)]
    while stack:
        oid = stack.pop()
        found.add(oid)
        stack.extend(e.oid for e in repo.cache.load_tree(oid) if e.type == "dir")
    return found


# -- errors ------------------------------------------------------------------------------------
@pytest.fixture
def tracked(repo: Repo, tmp_dir: TmpDir) -> Repo:
    tmp_dir.gen({"model.bin": "weights"})
    ok(invoke("add", "model.bin"))
    return repo


def test_s3_remote_down(tracked: Repo, s3: str) -> None:
    ok(invoke("remote", "add", "-d", "store", "s3://bucket/x"))
    ok(invoke("remote", "modify", "store", "endpoint_url", "http://127.0.0.1:9"))
    line = one_line_error(invoke("push"))
    assert line.startswith(
        "Error: cannot connect to remote 'store' (s3://bucket/x) at http://127.0.0.1:9"
    )


def test_s3_bucket_missing(tracked: Repo, s3: str) -> None:
    ok(invoke("remote", "add", "-d", "store", "s3://no-such-bucket/x"))
    ok(invoke("remote", "modify", "store", "endpoint_url", s3))
    line = one_line_error(invoke("push"))
    assert line == (
        "Error: remote 'store' (s3://no-such-bucket/x): bucket 'no-such-bucket' does not exist; "
        "create it or fix the url"
    )
    os.remove(tracked.cache.path(_pointer_oid(tracked, "model.bin.dvl")))
    assert one_line_error(invoke("fetch")) == line


def test_s3_no_credentials(tracked: Repo, s3: str, monkeypatch: pytest.MonkeyPatch) -> None:
    make_bucket(s3, "bucket")
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tracked.root / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tracked.root / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    ok(invoke("remote", "add", "-d", "store", "s3://bucket/x"))
    ok(invoke("remote", "modify", "store", "endpoint_url", s3))
    line = one_line_error(invoke("push"))
    assert line.startswith(
        "Error: no credentials for remote 'store' (s3://bucket/x): set AWS_ACCESS_KEY_ID"
    )
    # credentials kept in config.local work, and stay out of the committed config
    ok(invoke("remote", "modify", "--local", "store", "access_key_id", "testing"))
    ok(invoke("remote", "modify", "--local", "store", "secret_access_key", "testing"))
    assert "testing" not in (tracked.dvlite_dir / "config").read_text()
    assert "secret_access_key = testing" in (tracked.dvlite_dir / "config.local").read_text()
    assert ok(invoke("push")).stdout == "1 object pushed (7 B)\n"


def test_s3_wrong_credentials(tracked: Repo, s3: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import settings
    from moto.core.responses import ActionAuthenticatorMixin

    make_bucket(s3, "bucket")
    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    monkeypatch.setattr(ActionAuthenticatorMixin, "request_count", 0)
    ok(invoke("remote", "add", "-d", "store", "s3://bucket/x"))
    ok(invoke("remote", "modify", "store", "endpoint_url", s3))
    line = one_line_error(invoke("push"))
    assert line.startswith("Error: access denied by remote 'store' (s3://bucket/x): ")
    assert "check the credentials" in line


def test_folder_remote_missing_on_fetch(tracked: Repo, tmp_path: Path) -> None:
    ok(invoke("remote", "add", "-d", "store", str(tmp_path / "nowhere")))
    os.remove(tracked.cache.path(_pointer_oid(tracked, "model.bin.dvl")))
    line = one_line_error(invoke("fetch"))
    assert line == (
        f"Error: remote 'store' ({tmp_path / 'nowhere'}): "
        f"folder {tmp_path / 'nowhere'} does not exist; create it or fix the url"
    )


def test_missing_fsspec_backend_names_the_extra(tracked: Repo) -> None:
    try:  # gcsfs is not a dependency: the error must name the extra
        import gcsfs  # noqa: F401
    except ImportError:
        pass
    else:  # pragma: no cover - only where gcsfs happens to be installed
        return
    ok(invoke("remote", "add", "-d", "store", "gs://bucket/x"))
    line = one_line_error(invoke("push"))
    assert (
        line == "Error: remote 'store' (gs://bucket/x) needs the gcsfs package: "
        "pip install 'dvlite[gcs]'"
    )


# -- configuration -----------------------------------------------------------------------------
def test_remote_config_commands(repo: Repo, tmp_dir: TmpDir) -> None:
    ok(invoke("remote", "add", "a", "s3://bucket/a"))
    ok(invoke("remote", "add", "-d", "b", "../b-store"))
    assert ok(invoke("remote", "list")).stdout == "a\ts3://bucket/a\nb\t../b-store  (default)\n"
    assert ok(invoke("remote", "default")).stdout == "b\n"
    ok(invoke("remote", "default", "a"))
    assert ok(invoke("config", "core.remote")).stdout == "a\n"
    ok(invoke("remote", "modify", "a", "region", "eu-west-1"))
    ok(invoke("remote", "modify", "a", "jobs", "16"))
    ok(invoke("remote", "modify", "--local", "a", "secret_access_key", "s3cr3t"))
    assert "s3cr3t" not in (repo.dvlite_dir / "config").read_text()
    listed = json.loads(ok(invoke("remote", "list", "--json")).stdout)
    assert listed[0] == {
        "name": "a",
        "url": "s3://bucket/a",
        "format": "2",
        "jobs": "16",
        "region": "eu-west-1",
        "secret_access_key": "****",
        "default": True,
    }
    result = invoke("remote", "modify", "a", "colour", "blue")
    assert (result.exit_code, result.stderr.split(";")[0]) == (
        1,
        "Error: 'colour' is not an option of an S3 remote",
    )
    result = invoke("remote", "add", "a", "/elsewhere")
    assert (
        result.stderr
        == "Error: remote 'a' already exists; use --force to replace it, or `remote modify`\n"
    )
    ok(invoke("remote", "remove", "a"))
    assert invoke("config", "core.remote").exit_code == 1
    assert ok(invoke("remote", "list")).stdout == "b\t../b-store\n"
    result = invoke("remote", "remove", "a")
    assert result.stderr == "Error: no remote named 'a' in this repository's config\n"
    result = invoke("push", "-r", "zzz")
    assert (
        result.stderr
        == "Error: no remote named 'zzz' (configured: b); add it with `dvlite remote add zzz URL`\n"
    )


def test_jobs_option_validated(repo: Repo) -> None:
    result = invoke("push", "-j", "0")
    assert result.exit_code == 2


def test_transfers_do_not_need_fsspec_for_status(tracked: Repo) -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom dvlite.cli import main\ntry: main(['status'])\nexcept SystemExit: pass\n"
        "print('fsspec' in sys.modules, 's3fs' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().endswith("False False")
