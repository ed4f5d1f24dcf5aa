"""``dvlite model get``: a registered version's bytes in a fresh clone, from a folder remote and
from S3, fetching that model's objects alone; and the tags pushed to a git remote and back."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import git, oid, ok, one_line_error, snapshot
from remote_helpers import Store, add_remote

import dvlite as api
from dvlite.records.repo import Repo

NETS = {"a.bin": b"net a", "sub": b"<dir>", "sub/b.bin": b"net b"}  # the folder model's files


def publish(repo: Repo, dvlite, store: Store) -> Path:  # type: ignore[no-untyped-def]
    """Two versions of churn (a file; v0.1.0 in prod), nets (a folder) and other data, pushed
    with their tags to a bare git remote; returns the bare repository."""
    root = repo.root
    origin = root.parent / f"{root.name}-origin.git"
    git(root.parent, "init", "-q", "--bare", "-b", "main", str(origin))
    git(root, "remote", "add", "origin", str(origin))
    add_remote(store)
    (root / "model.pkl").write_text("weights-1")
    (root / "nets").mkdir()
    (root / "nets" / "a.bin").write_text("net a")
    (root / "nets" / "sub").mkdir()
    (root / "nets" / "sub" / "b.bin").write_text("net b")
    (root / "data").mkdir()
    (root / "data" / "big.bin").write_text("other data, never needed by a model")
    ok(dvlite("add", "model.pkl", "nets", "data"))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "v1")
    ok(dvlite("model", "register", "churn", "model.pkl"))
    ok(dvlite("model", "register", "nets", "nets"))
    ok(dvlite("model", "promote", "churn", "v0.1.0", "prod"))
    (root / "model.pkl").write_text("weights-2")
    ok(dvlite("add", "model.pkl"))
    git(root, "commit", "-qm", "v2")
    ok(dvlite("model", "register", "churn", "model.pkl"))
    ok(dvlite("push", "--all-commits"))
    git(root, "push", "-q", "origin", "main", "--tags")
    return origin


def fresh_clone(origin: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    clone = origin.parent / f"{origin.name}-fresh"
    git(origin.parent, "clone", "-q", str(origin), str(clone))
    (clone / "out").mkdir()
    monkeypatch.chdir(clone / "out")
    return clone


def test_get_in_a_fresh_clone_fetches_just_that_model(repo, dvlite, store, monkeypatch) -> None:
    clone = fresh_clone(publish(repo, dvlite, store), monkeypatch)
    here = clone / "out"
    result = ok(dvlite("model", "get", "churn@prod", "-o", "prod.pkl"))
    assert result.stdout == "Wrote churn v0.1.0 to prod.pkl (9 B); 1 object fetched (9 B)\n"
    assert (here / "prod.pkl").read_text() == "weights-1"
    ok(dvlite("model", "get", "churn@v0.2.0", "-o", "v2.pkl"))
    assert (here / "v2.pkl").read_text() == "weights-2"
    ok(dvlite("model", "get", "churn"))  # the latest, under its own name, here
    assert (here / "model.pkl").read_text() == "weights-2"
    ok(dvlite("model", "get", "churn#prod#1", "-o", "by-tag.pkl"))  # as CI is given it
    ok(dvlite("model", "get", "churn#prod", "-o", "gto.pkl"))
    assert (here / "by-tag.pkl").read_text() == (here / "gto.pkl").read_text() == "weights-1"
    ok(dvlite("model", "get", "nets@latest", "-o", "deploy/nets"))
    assert snapshot(here / "deploy" / "nets") == NETS
    cache = Repo(clone).cache
    assert not cache.exists(oid(b"other data, never needed by a model"))
    assert not (clone / "model.pkl").exists()  # the workspace was not checked out
    # the files written are copies, not links into the cache
    assert os.stat(here / "prod.pkl").st_nlink == 1 and not os.path.islink(here / "prod.pkl")


def test_get_by_each_spec_from_the_api(repo, dvlite, folder_store, monkeypatch) -> None:
    clone = fresh_clone(publish(repo, dvlite, folder_store), monkeypatch)
    got = api.model_get("churn@prod", out="a.pkl", jobs=2)
    assert (got.name, got.version, got.tag, got.kind) == ("churn", "v0.1.0", "churn@v0.1.0", "file")
    assert got.path == str(clone / "out" / "a.pkl") and got.fetched is not None
    again = api.model_get("churn@prod", out="b.pkl")  # in the cache now: nothing to fetch
    assert again.fetched is None
    shown = json.loads(ok(dvlite("model", "get", "nets", "-o", "n", "--json")).stdout)
    assert (shown["kind"], shown["files"], shown["fetched"]["transferred"]) == ("dir", 2, 4)


def test_get_refuses_to_overwrite_unless_forced(repo, dvlite, folder_store, monkeypatch) -> None:
    clone = fresh_clone(publish(repo, dvlite, folder_store), monkeypatch)
    here = clone / "out"
    (here / "model.pkl").write_text("mine")
    assert one_line_error(dvlite("model", "get", "churn")) == (
        "Error: model.pkl already exists; use --force to replace it"
    )
    assert (here / "model.pkl").read_text() == "mine"
    ok(dvlite("model", "get", "churn", "--force"))
    assert (here / "model.pkl").read_text() == "weights-2"
    (here / "nets").mkdir()
    (here / "nets" / "old.txt").write_text("old")
    assert one_line_error(dvlite("model", "get", "nets", "-o", "nets")) == (
        "Error: nets already exists; use --force to replace it"
    )
    ok(dvlite("model", "get", "nets", "-o", "nets", "-f"))
    assert snapshot(here / "nets") == NETS
    ok(dvlite("model", "get", "churn", "-o", "nets", "-f"))  # a file where a folder was
    assert (here / "nets").read_text() == "weights-2"
    assert sorted(os.listdir(here)) == ["model.pkl", "nets"]  # no temporary file left


def test_get_names_what_it_cannot_find(repo, dvlite, folder_store, monkeypatch) -> None:
    fresh_clone(publish(repo, dvlite, folder_store), monkeypatch)
    assert one_line_error(dvlite("model", "get", "churn@v9.9.9")) == (
        "Error: churn@v9.9.9: churn has no version v9.9.9 (its versions: v0.2.0, v0.1.0)"
    )
    assert one_line_error(dvlite("model", "get", "churn@staging")) == (
        "Error: no version of churn is in staging (`dvlite model promote`)"
    )
    assert one_line_error(dvlite("model", "get", "churn@qa")) == (
        "Error: churn@qa: 'qa' is neither a version (vX.Y.Z), a stage (dev, staging, prod) "
        "nor latest"
    )
    assert one_line_error(dvlite("model", "get", "churn#prod#7")) == (
        "Error: no valid stage tag churn#prod#7 (`dvlite model show churn`)"
    )
    assert one_line_error(dvlite("model", "get", "nope@prod")).startswith(
        "Error: no model named 'nope' is registered (models: churn, nets)"
    )
    assert os.listdir(".") == []


def test_get_of_data_never_pushed_fails_and_writes_nothing(
    repo, dvlite, folder_store, monkeypatch
) -> None:
    origin = publish(repo, dvlite, folder_store)
    (repo.root / "model.pkl").write_text("weights-3, never pushed")
    ok(dvlite("add", "model.pkl"))
    git(repo.root, "commit", "-qm", "v3")
    ok(dvlite("model", "register", "churn", "model.pkl"))
    git(repo.root, "push", "-q", "origin", "main", "--tags")
    fresh_clone(origin, monkeypatch)
    result = dvlite("model", "get", "churn@v0.3.0")
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first == (
        f"Error: 1 object(s) could not be fetched from remote 'store' ({folder_store.url}); "
        "the rest were fetched:"
    )
    assert "missing on remote: model.pkl" in result.stderr
    assert os.listdir(".") == []


def test_get_without_a_remote_when_the_cache_has_it(repo, dvlite, monkeypatch) -> None:
    (repo.root / "model.pkl").write_text("weights-1")
    ok(dvlite("add", "model.pkl"))
    git(repo.root, "commit", "-qm", "v1")
    ok(dvlite("model", "register", "churn", "model.pkl"))
    (repo.root / "deploy").mkdir()
    monkeypatch.chdir(repo.root / "deploy")
    result = ok(dvlite("model", "get", "churn"))
    assert result.stdout == "Wrote churn v0.1.0 to model.pkl (9 B)\n"
    assert (repo.root / "deploy" / "model.pkl").read_text() == "weights-1"


def test_tags_pushed_and_fetched_back(repo, dvlite, folder_store, monkeypatch) -> None:
    origin = publish(repo, dvlite, folder_store)
    clone = fresh_clone(origin, monkeypatch)
    assert json.loads(ok(dvlite("model", "list", "--json")).stdout) == [
        {
            "name": "churn",
            "latest": "v0.2.0",
            "stages": {"dev": None, "staging": None, "prod": "v0.1.0"},
        },
        {
            "name": "nets",
            "latest": "v0.1.0",
            "stages": {"dev": None, "staging": None, "prod": None},
        },
    ]
    # promoted in the first repository and pushed; the clone fetches the tags
    monkeypatch.chdir(repo.root)
    ok(dvlite("model", "promote", "churn", "v0.2.0", "prod"))
    git(repo.root, "push", "-q", "origin", "--tags")
    monkeypatch.chdir(clone)
    git(clone, "fetch", "-q", "origin", "--tags")
    listed = json.loads(ok(dvlite("model", "list", "--json")).stdout)
    assert listed[0]["stages"]["prod"] == "v0.2.0"
    ok(dvlite("model", "get", "churn@prod", "-o", "out/p.pkl"))
    assert (clone / "out" / "p.pkl").read_text() == "weights-2"
    # a promotion made in the clone goes the other way
    ok(dvlite("model", "promote", "nets", "v0.1.0", "staging"))
    git(clone, "push", "-q", "origin", "nets#staging#1")
    git(repo.root, "fetch", "-q", "origin", "--tags")
    monkeypatch.chdir(repo.root)
    assert json.loads(ok(dvlite("model", "list", "--json")).stdout)[1]["stages"]["staging"] == (
        "v0.1.0"
    )
