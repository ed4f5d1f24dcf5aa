"""``push``: upload what a remote lacks.

Push asks the remote about the roots first and walks down only into trees the remote lacks:
trees are uploaded after their contents, so a tree on the remote means everything below it
is there, and a whole unchanged subtree costs one question.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from dvlite.errors import CorruptObjectError
from dvlite.remote import Obj, Remote, open_remote
from dvlite.repo import Repo
from dvlite.transfer.result import Failure, TransferError, TransferProgress, TransferResult
from dvlite.transfer.roots import Root, entry_of, roots
from dvlite.transfer.synced import load_synced, reachable, save_synced
from dvlite.tree import DIR, FILE


@dataclass
class PushPlan:
    files: list[Obj] = field(default_factory=list)
    trees: list[list[Obj]] = field(default_factory=list)  # waves: a tree after everything below it
    parents: dict[str, set[str]] = field(default_factory=dict)
    failed: list[Failure] = field(default_factory=list)
    present: set[str] = field(default_factory=set)  # roots already on the remote

    @property
    def size(self) -> int:
        return sum(o.size for o in self.files) + sum(
            max(o.size, 0) for wave in self.trees for o in wave
        )


def plan_push(repo: Repo, remote: Remote, start: list[Root]) -> PushPlan:
    """What the remote lacks below ``start``, asking it one level of the trees at a time."""
    cache = repo.cache
    plan = PushPlan()
    synced = load_synced(repo, remote)
    bases = {
        synced[r.rel]
        for r in start
        if r.remember and r.entry.type == DIR and synced.get(r.rel, r.entry.oid) != r.entry.oid
    }
    bases = {b for b in bases if cache.exists(b)}
    known: set[str] = set()
    seen: set[str] = set()
    children: dict[str, list[str]] = {}
    level = [(r.rel, r.entry) for r in start]
    first = True
    while level:
        fresh = []
        for rel, entry in level:
            if entry.oid not in seen and entry.oid not in known:
                seen.add(entry.oid)
                fresh.append((rel, entry))
        if not fresh and not first:
            break
        ask = [e.oid for _, e in fresh] + (sorted(bases) if first else [])
        present = remote.exists(ask)
        if first:
            plan.present = {e.oid for _, e in fresh if e.oid in present}
            for base in bases & present:
                reachable(repo, base, known)
            first = False
        level = []
        for rel, entry in fresh:
            if entry.oid in present or entry.oid in known:
                continue
            if not cache.exists(entry.oid):
                plan.failed.append(Failure(rel, entry.oid, "not in cache", cache.path(entry.oid)))
                continue
            if entry.type == FILE:
                plan.files.append(Obj(entry.oid, entry.size, rel))
                continue
            try:
                tree = cache.load_tree(entry.oid)
            except CorruptObjectError:
                plan.failed.append(
                    Failure(rel, entry.oid, "corrupt in cache", cache.path(entry.oid))
                )
                continue
            children[entry.oid] = [c.oid for c in tree]
            plan.trees.append([Obj(entry.oid, len(tree.to_bytes()), rel)])
            for child in tree:
                plan.parents.setdefault(child.oid, set()).add(entry.oid)
                level.append((f"{rel}/{child.name}", child))
    # waves by height, so a tree goes up only after every tree below it
    height: dict[str, int] = {}
    planned = {wave[0].oid: wave[0] for wave in plan.trees}

    def height_of(oid: str) -> int:
        if oid not in planned:
            return 0
        if oid not in height:
            height[oid] = 1 + max((height_of(c) for c in children.get(oid, ())), default=0)
        return height[oid]

    waves: dict[int, list[Obj]] = {}
    for oid, obj in planned.items():
        waves.setdefault(height_of(oid), []).append(obj)
    plan.trees = [waves[h] for h in sorted(waves)]
    return plan


def push(
    repo: Repo,
    targets: Iterable[str | Path] | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    revs: Iterable[str] = (),
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    progress: TransferProgress | None = None,
    run_cache: bool = True,
) -> TransferResult:
    """Upload what the remote lacks of the tracked data (or ``targets``); raises
    TransferError after uploading the rest when some objects could not be sent.

    Without targets (and with ``run_cache``), also the run-cache entries the remote lacks
    whose outputs it then holds."""
    rem = open_remote(repo, remote, jobs=jobs)
    targets = list(targets or ())
    with repo.lock():
        start = roots(
            repo,
            targets,
            revs=revs,
            all_branches=all_branches,
            all_tags=all_tags,
            all_commits=all_commits,
        )
        start = [replace(r, above=()) for r in start]  # trees above a subtree are not pushed
        return _push_roots(repo, rem, start, progress, runs=run_cache and not targets)


def push_oids(
    repo: Repo,
    remote: str | None,
    oids: Iterable[str],
    *,
    jobs: int | None = None,
    progress: TransferProgress | None = None,
) -> TransferResult:
    """Upload the objects ``oids`` name and everything below the trees among them."""
    rem = open_remote(repo, remote, jobs=jobs)
    start = [Root(oid, entry_of(repo, oid), oid, remember=False) for oid in dict.fromkeys(oids)]
    with repo.lock():
        return _push_roots(repo, rem, start, progress)


def _push_roots(
    repo: Repo,
    rem: Remote,
    start: list[Root],
    progress: TransferProgress | None,
    *,
    runs: bool = False,
) -> TransferResult:
    plan = plan_push(repo, rem, start)
    count = len(plan.files) + sum(len(w) for w in plan.trees)
    if progress:
        progress.start(count, plan.size)
    advance = progress.advance if progress else None
    failed = list(plan.failed)
    bad: set[str] = {f.oid for f in failed}
    moved, size = 0, 0
    errors = rem.upload(repo.cache, plan.files, advance)
    for obj in plan.files:
        if obj.oid in errors:
            failed.append(_cache_failure(repo, obj, errors[obj.oid]))
            bad.add(obj.oid)
        else:
            moved += 1
            size += obj.size
    # a tree whose contents did not all arrive must not go up: it would claim they are there
    stack = list(bad)
    blocked: set[str] = set()
    while stack:
        for parent in plan.parents.get(stack.pop(), ()):
            if parent not in blocked:
                blocked.add(parent)
                stack.append(parent)
    for wave in plan.trees:
        wave = [o for o in wave if o.oid not in blocked]
        errors = rem.upload(repo.cache, wave, advance)
        for obj in wave:
            if obj.oid in errors:
                failed.append(_cache_failure(repo, obj, errors[obj.oid]))
                for parent in plan.parents.get(obj.oid, ()):
                    blocked.add(parent)
            else:
                moved += 1
                size += max(obj.size, 0)
    synced = {
        r.rel: r.entry.oid
        for r in start
        if r.remember and r.entry.oid not in blocked and r.entry.oid not in {f.oid for f in failed}
    }
    save_synced(repo, rem, synced)
    result = TransferResult(rem.name, rem.url, moved, size, tuple(failed))
    if runs:
        from dvlite.transfer.runs import push_runs

        sent = {o.oid for o in plan.files} | {o.oid for wave in plan.trees for o in wave}
        sent -= blocked | {f.oid for f in failed}
        got = push_runs(repo, rem, plan.present | sent)
        result = replace(
            result,
            transferred=result.transferred + got.objects,
            size=result.size + got.size,
            runs=got.entries,
        )
    if failed:
        raise TransferError("push", result)
    return result


def _cache_failure(repo: Repo, obj: Obj, exc: BaseException) -> Failure:
    if isinstance(exc, CorruptObjectError):
        return Failure(obj.rel, obj.oid, "corrupt in cache", repo.cache.path(obj.oid))
    return Failure(obj.rel, obj.oid, "not in cache", repo.cache.path(obj.oid))
