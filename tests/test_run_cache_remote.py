"""The run cache travels with push and pull: a run recorded on one machine is restored, not
run again, on a fresh clone; entries from a remote are checked before they are trusted."""

from __future__ import annotations

import json

import pytest
from helpers import clone, git, invoke, ok
from pipeline_helpers import PARAMS, runs
from remote_helpers import BOTH_FORMATS, Store, add_remote, lose_object

from dvlite.records import runcache
from dvlite.records.repo import Repo

STAGES = ["evaluate", "prepare", "stats", "train"]


@pytest.fixture
def ran(pipeline: Repo, store: Store, fmt: int | None) -> Repo:
    """A pipeline committed without its dvlite.lock, run once; the store is its remote."""
    add_remote(store, format=fmt)
    git(pipeline.root, "add", "-A")
    git(pipeline.root, "commit", "-q", "-m", "remote")
    ok(invoke("repro"))
    assert sorted(runs(pipeline.root)) == STAGES
    return pipeline


def try_another_lr(repo: Repo, *, push: bool) -> None:
    """Run train (and evaluate) at lr=0.9 (then ``push``), then go back to lr=0.1, which
    comes from the run cache."""
    (repo.root / "params.yaml").write_text(PARAMS.replace('"lr": 0.1', '"lr": 0.9'))
    ok(invoke("repro"))
    assert sorted(runs(repo.root)) == ["evaluate", "train"]
    if push:
        ok(invoke("push"))
    git(repo.root, "checkout", "HEAD", "--", "params.yaml")  # repro staged it
    ok(invoke("repro"))
    assert runs(repo.root) == []


def remote_runs(where: Store) -> set[str]:
    return {k for k in where.keys() if k.startswith("runs/")}  # noqa: SIM118


def test_pull_brings_the_run_cache_and_repro_restores(
    ran: Repo,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pushed = json.loads(ok(invoke("push", "--json")).stdout)
    assert pushed["runs"] == 4
    assert len(remote_runs(store)) == 4
    there = clone(ran.root, monkeypatch)
    assert not (there / "dvlite.lock").exists()
    pulled = ok(invoke("pull"))
    assert "4 run-cache entries fetched" in pulled.stdout
    result = ok(invoke("repro"))
    assert result.stdout.count("] restored from the run cache") == 4
    assert not (there / "runs.log").exists()  # no stage ran
    for out in ("model.bin", "metrics.json", "stats.txt", "data/prepared/part.txt"):
        assert (there / out).read_bytes() == (ran.root / out).read_bytes()
    assert ok(invoke("push", "--json")).stdout.count('"runs": 0') == 1  # nothing left to send


def test_repro_pull_restores_on_a_fresh_clone(
    ran: Repo,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ok(invoke("push"))
    there = clone(ran.root, monkeypatch)
    result = ok(invoke("repro", "--pull"))
    assert result.stdout.count("] restored from the run cache") == 4
    assert not (there / "runs.log").exists()
    assert "train.lr=0.1" in (there / "model.bin").read_text()


def test_push_sends_only_entries_whose_outputs_the_remote_holds(
    ran: Repo,
    store: Store,
) -> None:
    try_another_lr(ran, push=False)
    assert len(runcache.iter_keys(ran.cache_dir)) == 6
    assert json.loads(ok(invoke("push", "--no-run-cache", "--json")).stdout)["runs"] == 0
    assert remote_runs(store) == set()
    assert json.loads(ok(invoke("push", "model.bin", "--json")).stdout)["runs"] == 0
    # the lr=0.9 model was never pushed, so that run of train stays home; evaluate's run with
    # it has no outputs, only a metric (kept in git, not pushed), which goes up with the entry
    assert json.loads(ok(invoke("push", "--json")).stdout)["runs"] == 5
    assert len(remote_runs(store)) == 5


@BOTH_FORMATS
def test_malformed_or_incomplete_entries_are_skipped_with_a_warning(
    ran: Repo,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ok(invoke("push"))
    keys = sorted(runcache.iter_keys(ran.cache_dir))
    entries = {k: runcache.load(ran.cache_dir, k) for k in keys}
    train = next(k for k, e in entries.items() if e and e[0] and e[0][0].path == "model.bin")
    broken = "ab" + "0" * 30
    store.write(f"runs/ab/{broken[2:]}", b'{"version": 1, "outs": [{"path": "x"}]}')
    model_oid = entries[train][0][0].oid  # type: ignore[index]
    lose_object(store, model_oid)
    there = clone(ran.root, monkeypatch)
    result = invoke("fetch")
    assert result.exit_code == 0, result.output
    url = store.url.rstrip("/")
    assert f"Warning: skipped a malformed run-cache entry: {url}/runs/ab/{broken[2:]}\n" in (
        result.stderr
    )
    assert (
        f"Warning: skipped the run-cache entry {url}/runs/{train[:2]}/{train[2:]}: the remote "
        "does not hold all of model.bin intact\n" in result.stderr
    )
    local = set(runcache.iter_keys(there / ".dvlite" / "cache"))
    assert local == set(keys) - {train}
    ok(invoke("checkout"))
    result = ok(invoke("repro"))
    assert runs(there) == ["train"]  # its entry was not trusted; it made the same model again
    assert result.stdout.count("] restored from the run cache") == 3


def test_gc_cloud_drops_the_remote_entries_of_the_objects_it_drops(
    ran: Repo,
    store: Store,
) -> None:
    ok(invoke("remote", "modify", "store", "gc_grace", "0"))  # format 2: nothing is too new
    try_another_lr(ran, push=True)
    ok(invoke("push"))
    assert len(remote_runs(store)) == 6
    named = {k: {p.oid for p in e[0] + e[1]} for k, e in entries(ran).items()}
    report = json.loads(ok(invoke("gc", "-w", "--cloud", "-f", "--json")).stdout)
    dropped = set(report["cloud_removed"])
    gone = {k for k, oids in named.items() if oids & dropped}
    assert len(gone) >= 2  # train's run at lr=0.9 and an evaluate run, at least
    assert sorted(report["cloud_runs_removed"]) == sorted(gone)
    assert remote_runs(store) == {f"runs/{k[:2]}/{k[2:]}" for k in set(named) - gone}


def entries(repo: Repo) -> dict[str, runcache.Entry]:
    found = {k: runcache.load(repo.cache_dir, k) for k in runcache.iter_keys(repo.cache_dir)}
    return {k: e for k, e in found.items() if e is not None}
