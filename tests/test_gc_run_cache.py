"""gc and the run cache: an entry goes with the objects it names, so none points at nothing."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline_helpers import PARAMS, make_pipeline, runs

from dvlite.records import runcache
from dvlite.records.repo import Repo


def two_runs_of_train(repo: Repo, dvlite) -> tuple[set[str], set[str]]:  # type: ignore[no-untyped-def]
    """Run the pipeline with lr=0.9, then back at lr=0.1 (the workspace keeps the latter).
    Returns the run-cache keys of the first runs and those the lr=0.9 runs added."""
    make_pipeline(repo)
    assert dvlite("repro").exit_code == 0
    first = set(runcache.iter_keys(repo.cache_dir))
    params = repo.root / "params.yaml"
    params.write_text(PARAMS.replace('"lr": 0.1', '"lr": 0.9'))
    assert dvlite("repro").exit_code == 0
    other = set(runcache.iter_keys(repo.cache_dir)) - first
    params.write_text(PARAMS)
    assert dvlite("repro").exit_code == 0
    runs(repo.root)
    assert len(other) == 2  # train and evaluate at lr=0.9
    return first, other


def names(repo: Repo, key: str) -> set[str]:
    entry = runcache.load(repo.cache_dir, key)
    assert entry is not None
    return {p.oid for p in entry[0] + entry[1]}


def test_gc_drops_the_entries_of_the_objects_it_drops(repo: Repo, dvlite) -> None:
    first, other = two_runs_of_train(repo, dvlite)
    dry = dvlite("gc", "-w", "-f", "--dry", "--json")
    assert dry.exit_code == 0, dry.output
    planned = json.loads(dry.stdout)
    removed = set(planned["removed"])
    # the lr=0.9 model, and the metrics.json both evaluate runs wrote (metrics stay in git)
    assert len(removed) == 2
    expected = sorted(k for k in first | other if names(repo, k) & removed)
    assert sorted(planned["runs_removed"]) == expected
    assert other <= set(expected)
    shown = dvlite("gc", "-w", "-f", "--dry")
    for key in expected:
        assert f"would remove the run-cache entry {key}\n" in shown.stdout
    assert f"would remove {len(expected)} run-cache entries naming them\n" in shown.stdout
    assert set(runcache.iter_keys(repo.cache_dir)) == first | other  # --dry removed nothing

    result = dvlite("gc", "-w", "-f")
    assert result.exit_code == 0, result.output
    assert f"removed {len(expected)} run-cache entries naming them\n" in result.stdout
    left = set(runcache.iter_keys(repo.cache_dir))
    assert left == (first | other) - set(expected)
    for key in left:  # every entry left names objects the cache holds
        assert all(Path(repo.cache.path(oid)).exists() for oid in names(repo, key))

    # the lr=0.9 runs are gone: train runs again instead of coming back from the run cache
    (repo.root / "params.yaml").write_text(PARAMS.replace('"lr": 0.1', '"lr": 0.9'))
    assert dvlite("repro").exit_code == 0
    assert sorted(runs(repo.root)) == ["evaluate", "train"]


def test_gc_keeps_the_entries_whose_objects_it_keeps(repo: Repo, dvlite) -> None:
    first, other = two_runs_of_train(repo, dvlite)
    result = dvlite("gc", "-w")  # no remote holds the lr=0.9 objects: they are kept
    assert result.exit_code == 0, result.output
    assert "run-cache" not in result.stdout
    assert set(runcache.iter_keys(repo.cache_dir)) == first | other
