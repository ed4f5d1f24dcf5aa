"""The run cache on a remote: entries at ``runs/<2 hex>/<30 hex>``, beside ``objects/``. They
are keyed by a hash of a run's inputs, not by their content, so nothing about one can be checked
from its name: push sends an entry only when the remote holds every output it names, and fetch
parses each one (a malformed one is skipped with a warning) and installs it only once every
object it names has arrived, verified."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from dvlite.objects.tree import FILE, TreeEntry
from dvlite.records import runcache
from dvlite.records.compare import missing_objects
from dvlite.records.lockfile import LockedPath
from dvlite.records.repo import Repo
from dvlite.remote import Obj, Remote
from dvlite.transfer.result import TransferResult
from dvlite.transfer.roots import Root


def push_runs(
    repo: Repo, rem: Remote, on_remote: set[str], result: TransferResult
) -> TransferResult:
    """``result`` and the run-cache entries the remote lacks whose outputs it holds, uploaded
    (``on_remote``: objects known to be there; the remote is asked about the rest). Metrics stay
    in git, not in pushed data, so a metric file an entry names goes up with the entry."""
    local = runcache.iter_keys(repo.cache_dir)
    if not local:
        return result
    entries: dict[str, tuple[bytes, tuple[LockedPath, ...], tuple[LockedPath, ...]]] = {}
    for key in sorted(set(local) - rem.list_runs()):
        try:
            data = Path(runcache.entry_path(repo.cache_dir, key)).read_bytes()
        except OSError:
            continue
        if (parsed := runcache.parse(data)) is not None:  # a damaged entry stays home
            entries[key] = (data, *parsed)
    named = {p.oid for _, outs, metrics in entries.values() for p in outs + metrics}
    there = on_remote | rem.exists(named - on_remote)
    metrics = {
        p.oid: Obj(p.oid, p.size, p.path)
        for _, outs, found in entries.values()
        if all(o.oid in there for o in outs)
        for p in found
        if p.kind == FILE and p.oid not in there and repo.cache.exists(p.oid)
    }
    failed = rem.upload(repo.cache, list(metrics.values()))
    there |= set(metrics) - set(failed)
    send = {
        key: data
        for key, (data, outs, found) in entries.items()
        if all(p.oid in there for p in outs + found)
    }
    rem.write_runs(send)
    sent = [o for o in metrics.values() if o.oid not in failed]
    return _counted(result, len(send), len(sent), sum(o.size for o in sent))


def fetch_runs(
    repo: Repo, rem: Remote, fetch: Callable[[list[Root]], TransferResult], result: TransferResult
) -> TransferResult:
    """``result`` and the run-cache entries the cache lacks, downloaded with the objects they
    name (``fetch`` downloads what the cache lacks below some roots)."""
    local = set(runcache.iter_keys(repo.cache_dir))
    wanted = sorted(k for k in rem.list_runs() if runcache.is_key(k) and k not in local)
    if not wanted:
        return result
    warnings: list[str] = []
    valid: dict[str, runcache.Entry] = {}
    for key, data in rem.read_runs(wanted).items():
        if isinstance(data, BaseException):
            continue  # removed since the listing
        if (parsed := runcache.parse(data)) is None:
            warnings.append(f"skipped a malformed run-cache entry: {rem.run_url(key)}")
            continue
        valid[key] = parsed
    got = fetch([_root(p, key) for key, found in valid.items() for p in found[0] + found[1]])
    moved = 0
    for key, (outs, metrics) in valid.items():
        lacking = [p.path for p in outs + metrics if _lacks(repo, p)]
        if lacking:
            warnings.append(
                f"skipped the run-cache entry {rem.run_url(key)}: the remote does not hold "
                f"all of {', '.join(lacking)} intact"
            )
            continue
        runcache.save(repo.cache_dir, key, outs, metrics)
        moved += 1
    return _counted(result, moved, got.transferred, got.size, warnings)


def _counted(
    result: TransferResult, entries: int, objects: int, size: int, warnings: Iterable[str] = ()
) -> TransferResult:
    """``result`` with the run-cache ``entries`` moved, and the ``objects`` moved for them."""
    return replace(
        result,
        transferred=result.transferred + objects,
        size=result.size + size,
        runs=entries,
        warnings=(*result.warnings, *warnings),
    )


def _entry(p: LockedPath) -> TreeEntry:
    return TreeEntry(os.path.basename(p.path), p.kind, p.oid, p.size)


def _root(p: LockedPath, key: str) -> Root:
    return Root(p.path, _entry(p), f"run cache {key}")


def _lacks(repo: Repo, p: LockedPath) -> bool:
    return next(missing_objects(repo.cache, _entry(p), p.path), None) is not None
