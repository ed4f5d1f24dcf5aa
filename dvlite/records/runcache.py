"""The run cache: the outputs of each run that succeeded (and passed its checks), keyed by a
hash of its inputs (cmd, dep oids, param values, declared outputs, the checks), so a stage
due to run on inputs that ran before gets its outputs back instead. An entry is a small JSON
file at ``<cache>/runs/<2 hex>/<30 hex>``, fanned out as ``objects/`` is, so a remote carries
it the same way.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import xxhash

from dvlite.objects import fsutil
from dvlite.objects.store import fanout_keys
from dvlite.records import checks as checkspec
from dvlite.records.lockfile import LockedPath, Params
from dvlite.records.pipeline import Stage

RUNS_DIR = "runs"
VERSION = 1

# what an entry records: the outputs and the metrics of the run
Entry = tuple[tuple[LockedPath, ...], tuple[LockedPath, ...]]


def key(stage: Stage, deps: tuple[LockedPath, ...], params: Params) -> str:
    """32 hex digits naming this stage's inputs."""
    doc = {
        "cmd": stage.cmd,
        "deps": sorted([d.path, d.oid] for d in deps),
        "params": params,
        "outs": sorted(stage.outs),
        "metrics": sorted(stage.kept),  # metrics, and plots kept in git
    }
    if stage.wdir:  # the same command in another folder is another run
        doc["wdir"] = stage.wdir
    if stage.checks:  # an entry is saved only after its checks passed: these checks
        doc["checks"] = checkspec.digest(stage.checks)
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return xxhash.xxh3_128_hexdigest(raw.encode("utf-8"))


def entry_path(cache_root: str | Path, run_key: str) -> str:
    return os.path.join(cache_root, RUNS_DIR, run_key[:2], run_key[2:])


def save(
    cache_root: str | Path,
    run_key: str,
    outs: tuple[LockedPath, ...],
    metrics: tuple[LockedPath, ...],
) -> None:
    doc = {
        "version": VERSION,
        "outs": [o.to_dict() for o in outs],
        "metrics": [m.to_dict() for m in metrics],
    }
    path = entry_path(cache_root, run_key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fsutil.atomic_write(
        path, json.dumps(doc, sort_keys=True, separators=(",", ":")).encode(), fsync=False
    )


def load(cache_root: str | Path, run_key: str) -> Entry | None:
    """The outputs recorded for these inputs; None when there is no (readable) entry."""
    try:
        data = Path(entry_path(cache_root, run_key)).read_bytes()
    except OSError:
        return None
    return parse(data)


def parse(data: bytes) -> Entry | None:
    """An entry's outputs and metrics; None when it is damaged or of another version (an
    entry is never trusted blindly: it may come from a remote)."""
    try:
        doc = json.loads(data)
        if doc.get("version") != VERSION:
            return None
        outs = tuple(LockedPath.from_dict(o, "run cache") for o in doc["outs"])
        metrics = tuple(LockedPath.from_dict(m, "run cache") for m in doc["metrics"])
    except Exception:  # a damaged entry is only a missed shortcut
        return None
    return outs, metrics


def is_key(text: str) -> bool:
    return len(text) == 32 and all(c in "0123456789abcdef" for c in text)


def iter_keys(cache_root: str | Path) -> list[str]:
    """Every run-cache key stored under ``cache_root`` (for push, pull and gc)."""
    return fanout_keys(os.path.join(cache_root, RUNS_DIR))
