"""``pull``: fetch, then check out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from dvlite.git.history import Revisions
from dvlite.ops.checkout import CheckoutResult, apply, make_folders, raise_incomplete
from dvlite.ops.checkout import plan as plan_checkout
from dvlite.progress import Progress
from dvlite.records.pointer import Pointer
from dvlite.records.repo import Repo
from dvlite.records.tracked import Tracked, collect
from dvlite.remote import open_remote
from dvlite.transfer.fetch import fetch_roots
from dvlite.transfer.result import TransferError, TransferResult
from dvlite.transfer.roots import Root


def pull(
    repo: Repo,
    targets: Iterable[str | Path] | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    revisions: Revisions = Revisions(),
    force: bool = False,
    progress: Progress | None = None,
    run_cache: bool = True,
) -> TransferResult:
    """Fetch, then check out the workspace's tracked data (or ``targets``). Data whose
    objects all arrived is checked out even when others failed (then TransferError).
    Without targets, the run cache comes too (as with ``fetch``)."""
    rem = open_remote(repo, remote, jobs=jobs)
    targets = list(targets or ())
    for attempt in range(2):
        runs = run_cache and not targets and attempt == 0
        with repo.lock():
            result, start = fetch_roots(repo, rem, targets, revisions, progress, runs=runs)
        done = _check_out(repo, result, start, targets, force)
        # a damaged cache object was moved aside when checkout found it: fetch it once more
        if not (done.corrupt and result.ok):
            break
    result = replace(result, checkout=done.to_dict())
    if result.failed:
        raise TransferError("fetch", result)
    raise_incomplete(done)
    return result


def _check_out(
    repo: Repo, result: TransferResult, start: list[Root], targets: list[str | Path], force: bool
) -> CheckoutResult:
    """Check out every file whose object is in the cache; the rest is listed in the result."""
    here = [r for r in start if not r.rev]
    with repo.lock():
        if result.ok and not any(r.above for r in here):
            items = collect(repo, targets or None)
        else:  # the failures name what is missing; the roots say what to check out
            items = [_as_tracked(r) for r in here]
        skipped: list[str] = []
        deltas = plan_checkout(repo, items, force=force, relink=False, skipped=skipped)
        done = apply(repo, deltas, partial=True)
        done.missing = skipped
        make_folders(repo, [i for i in items if repo.cache.exists(i.pointer.oid)])
    return done


def _as_tracked(root: Root) -> Tracked:
    e = root.entry
    name = root.rel.rsplit("/", 1)[-1]
    return Tracked(root.source, root.rel, Pointer(name, e.type, e.oid, e.size, 0))
