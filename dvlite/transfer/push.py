"""``push``: upload what a remote lacks. Push trusts no tree on the remote: it asks about every
object reachable from what it pushes in one batch (a listing, when that costs fewer requests),
and sends what is missing, trees after their contents: a tree that arrives finds everything
below it there, and one whose contents are partly gone (an interrupted gc) gets them back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dvlite.errors import CacheError, CorruptObjectError
from dvlite.git.history import Revisions
from dvlite.objects import tree
from dvlite.objects.tree import DIR, FILE, TreeEntry
from dvlite.progress import Progress
from dvlite.records.repo import Repo
from dvlite.remote import Obj, Remote, open_remote
from dvlite.transfer.result import Failure, TransferError, TransferResult
from dvlite.transfer.roots import Root, entry_of, roots, tree_reader
from dvlite.transfer.synced import Verified, cached_below, load_verified, save_verified


@dataclass
class PushPlan:
    files: list[Obj] = field(default_factory=list)
    trees: list[list[Obj]] = field(default_factory=list)  # waves: a tree after everything below it
    children: dict[str, list[str]] = field(default_factory=dict)  # of every tree read
    failed: list[Failure] = field(default_factory=list)
    present: set[str] = field(default_factory=set)  # reachable objects already on the remote
    reached: dict[str, str] = field(default_factory=dict)  # every reachable oid -> a path to it
    sizes: dict[str, int] = field(default_factory=dict)  # the reachable files' sizes

    @property
    def objects(self) -> list[Obj]:
        """Every object to send: the files, then the trees."""
        return [*self.files, *(o for wave in self.trees for o in wave)]


def plan_push(
    repo: Repo,
    remote: Remote,
    start: list[Root],
    load: tree.Load | None = None,
    verified: Verified | None = None,
) -> PushPlan:
    """What the remote lacks below ``start``: every reachable object is looked for itself, in
    one batch (``load`` reads the trees; by default from the cache, else the remote), except
    those below ``verified`` roots (``synced``: all there since this clone checked)."""
    cache = repo.cache
    load = load or tree_reader(repo, remote)
    plan = PushPlan()
    entries: dict[str, TreeEntry] = {}
    unreadable: dict[str, str] = {}  # trees that could not be read -> why
    trusted = dict(verified or {})
    expanded = not verified  # the objects below the verified roots: worked out when needed

    def lost(rel: str, entry: TreeEntry, exc: CacheError) -> None:
        unreadable[entry.oid] = _why(exc)

    walked = tree.walk_levels(
        load,
        [(r.rel, r.entry, r.source) for r in start],
        on_missing=lost,
        prune=lambda _, e: e.oid in plan.present,
    )
    for rel, entry, _ in walked:
        if entry.oid in entries:
            continue
        if not expanded and trusted.get(entry.oid) != entry.type:
            trusted, expanded = cached_below(repo, verified or {}), True
        if trusted.get(entry.oid) == entry.type:
            plan.present.add(entry.oid)
            continue
        entries[entry.oid] = entry
        plan.reached[entry.oid] = rel
        if entry.type == FILE:
            plan.sizes[entry.oid] = entry.size
    readable = [oid for oid, e in entries.items() if e.type == DIR and oid not in unreadable]
    children = plan.children = {oid: [c.oid for c in load(oid)] for oid in readable}
    plan.present |= remote.exists(entries)
    lacking = [oid for oid in entries if oid not in plan.present]
    in_cache = cache.existing(lacking)
    planned: dict[str, Obj] = {}
    for oid in lacking:
        entry, rel = entries[oid], plan.reached[oid]
        if oid not in in_cache or oid in unreadable:
            why = unreadable.get(oid, "not in cache")
            plan.failed.append(Failure(rel, oid, why, cache.path(oid)))
        elif entry.type == FILE:
            plan.files.append(Obj(oid, entry.size, rel))
        else:
            planned[oid] = Obj(oid, len(load(oid).to_bytes()), rel, DIR)
    waves = tree.waves(planned, lambda oid: children.get(oid, ()))  # a tree after its subtrees
    plan.trees = [[planned[oid] for oid in wave] for wave in waves]
    return plan


def push(
    repo: Repo,
    targets: Iterable[str | Path] | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    revisions: Revisions = Revisions(),
    progress: Progress | None = None,
    run_cache: bool = True,
) -> TransferResult:
    """Upload what the remote lacks of the tracked data (or ``targets``) and, without targets
    (and with ``run_cache``), the run-cache entries it lacks whose outputs it then holds;
    raises TransferError after uploading the rest when some objects could not be sent."""
    rem = open_remote(repo, remote, jobs=jobs)
    targets = list(targets or ())
    with repo.lock():
        start = roots(repo, targets, revisions=revisions)
        return _push_roots(repo, rem, start, progress, runs=run_cache and not targets)


def push_oids(repo: Repo, remote: str | None, oids: Iterable[str]) -> TransferResult:
    """Upload the objects ``oids`` name and everything below the trees among them."""
    rem = open_remote(repo, remote)
    start = [Root(oid, entry_of(repo, oid), oid) for oid in dict.fromkeys(oids)]
    with repo.lock():
        return _push_roots(repo, rem, start, None)


def _push_roots(
    repo: Repo, rem: Remote, start: list[Root], progress: Progress | None, runs: bool = False
) -> TransferResult:
    # format 1 remembers what it verified there; format 2's index files say what is there
    marks = rem.gc_marks() if rem.format == 1 else frozenset()
    verified = load_verified(repo, rem, marks) if rem.format == 1 else None
    plan = plan_push(repo, rem, start, verified=verified)
    if progress:
        progress.start(len(plan.objects), sum(max(o.size, 0) for o in plan.objects))
    failed = list(plan.failed)
    moved, size = 0, 0
    # a tree whose contents did not all arrive must not go up: it would claim they are there
    blocked: set[str] = set()
    _block_above(plan, {f.oid for f in failed}, blocked)
    with rem.uploading(repo.cache, progress.advance if progress else None) as upload:
        for wave in [plan.files, *plan.trees]:
            wave = [o for o in wave if o.oid not in blocked]
            errors = upload(wave)
            for obj in wave:
                if obj.oid in errors:
                    why = _why(errors[obj.oid])
                    failed.append(Failure(obj.rel, obj.oid, why, repo.cache.path(obj.oid)))
                else:
                    moved += 1
                    size += max(obj.size, 0)
            _block_above(plan, set(errors), blocked)
    result = TransferResult(
        rem.name, rem.url, moved, size, tuple(failed), warnings=(*rem.warnings,), reused=rem.reused
    )
    if runs:
        from dvlite.transfer.runs import push_runs

        sent = {o.oid for o in plan.objects} - blocked - {f.oid for f in failed}
        result = push_runs(repo, rem, plan.present | sent, result)
    if failed:
        raise TransferError("push", result)
    if rem.format == 1:
        save_verified(repo, rem, marks, {r.entry.oid: r.entry.type for r in start})
    return result


def _block_above(plan: PushPlan, oids: set[str], blocked: set[str]) -> None:
    """Add every tree above ``oids`` to ``blocked``."""
    if not oids:
        return
    parents: dict[str, list[str]] = {}
    for parent, below in plan.children.items():
        for child in below:
            parents.setdefault(child, []).append(parent)
    stack = list(oids)
    while stack:
        for parent in parents.get(stack.pop(), ()):
            if parent not in blocked:
                blocked.add(parent)
                stack.append(parent)


def _why(exc: BaseException) -> str:
    return "corrupt in cache" if isinstance(exc, CorruptObjectError) else "not in cache"
