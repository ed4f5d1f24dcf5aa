"""``pull``: fetch, then check out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from dvlite.pointer import Pointer
from dvlite.remote import open_remote
from dvlite.repo import Repo
from dvlite.tracked import Tracked
from dvlite.transfer.fetch import fetch_roots
from dvlite.transfer.result import TransferError, TransferProgress, TransferResult
from dvlite.transfer.roots import Root


def pull(
    repo: Repo,
    targets: Iterable[str | Path] | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    revs: Iterable[str] = (),
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    force: bool = False,
    progress: TransferProgress | None = None,
    run_cache: bool = True,
) -> TransferResult:
    """Fetch, then check out the workspace's tracked data (or ``targets``). Data whose
    objects all arrived is checked out even when others failed (then TransferError).
    Without targets, the run cache comes too (as with ``fetch``)."""
    from dvlite import checkout as co

    rem = open_remote(repo, remote, jobs=jobs)
    targets = list(targets or ())
    with repo.lock():
        result, start = fetch_roots(
            repo,
            rem,
            targets,
            revs,
            all_branches,
            all_tags,
            all_commits,
            progress,
            runs=run_cache and not targets,
        )
    here = [r for r in start if not r.rev]
    if result.ok and not any(r.above for r in here):
        done = co.checkout(repo, targets or None, force=force)
    else:  # check out every file whose object arrived; the failures name the rest
        items = [_as_tracked(r) for r in here]
        with repo.lock():
            skipped: list[str] = []
            deltas = co.plan(repo, items, force=force, relink=False, skipped=skipped)
            done = co.apply(repo, deltas, partial=True)
            done.missing = skipped
            co.make_folders(repo, [i for i in items if repo.cache.exists(i.pointer.oid)])
    result = replace(result, checkout=done.to_dict())
    if result.failed:
        raise TransferError("fetch", result)
    co.raise_incomplete(done)
    return result


def _as_tracked(root: Root) -> Tracked:
    e = root.entry
    name = root.rel.rsplit("/", 1)[-1]
    return Tracked(root.source, root.rel, Pointer(name, e.type, e.oid, e.size, 0))
