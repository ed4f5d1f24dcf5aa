"""``push``, ``fetch`` and ``pull``: move objects between the cache and a remote.

Only missing objects move. Push asks the remote about the roots first and walks down only
into trees the remote lacks: trees are uploaded after their contents, so a tree on the remote
means everything below it is there, and a whole unchanged subtree costs one question. The
root last synced with each remote is remembered (``.dvlite/tmp/remotes/``); when it is still on
the remote, everything below it counts as present, so a push after one file changed asks
about that file only. Fetch decides from the cache alone and re-hashes every object it
receives before installing it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from dvlite import fsutil
from dvlite.errors import CacheError, CorruptObjectError, DvliteError, PathError, RemoteError
from dvlite.pointer import Pointer
from dvlite.remote import Obj, Remote, open_remote
from dvlite.repo import Repo
from dvlite.tracked import Tracked, collect
from dvlite.tree import DIR, FILE, Tree, TreeEntry

_SHOWN = 10  # failures named in one error message


class TransferProgress(Protocol):
    """What the CLI's progress bar implements: totals once planned, then increments."""

    def start(self, files: int, size: int) -> None: ...

    def advance(self, files: int, size: int) -> None: ...


@dataclass(frozen=True, slots=True)
class Failure:
    path: str  # repository-relative path of the data the object belongs to
    oid: str
    reason: str  # "corrupt on remote", "missing on remote", "not in cache", "corrupt in cache"
    where: str  # the object's URL on the remote, or its cache path

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "oid": self.oid, "reason": self.reason, "where": self.where}

    def __str__(self) -> str:
        return f"{self.reason}: {self.path} ({self.where})"


@dataclass(frozen=True)
class TransferResult:
    remote: str
    url: str
    transferred: int = 0  # objects moved
    size: int = 0  # bytes moved
    failed: tuple[Failure, ...] = ()
    checkout: dict[str, list[str]] | None = None  # pull only: what checkout changed

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {
            "remote": self.remote,
            "url": self.url,
            "transferred": self.transferred,
            "size": self.size,
            "failed": [f.to_dict() for f in self.failed],
        }
        if self.checkout is not None:
            d["checkout"] = self.checkout
        return d

    @property
    def ok(self) -> bool:
        return not self.failed


class TransferError(RemoteError):
    """Some objects could not be moved; the rest were. ``result`` says which."""

    def __init__(self, verb: str, result: TransferResult) -> None:
        self.result = result
        lines = [f"  {f}" for f in result.failed[:_SHOWN]]
        more = len(result.failed) - _SHOWN
        if more > 0:
            lines.append(f"  and {more} more")
        if verb == "push":
            what, done = "pushed to", "pushed"
            hint = "run `dvlite fsck`; `dvlite add` the data again, or pull it from where it is"
        else:
            what, done = "fetched from", "fetched"
            hint = f"run `dvlite fsck --remote {result.remote}`; push good copies from a clone"
        super().__init__(
            f"{len(result.failed)} object(s) could not be {what} remote {result.remote!r} "
            f"({result.url}); the rest were {done}:\n" + "\n".join(lines) + f"\n{hint}"
        )


@dataclass(frozen=True, slots=True)
class Root:
    """Where a transfer starts: a tracked item, or a subtree inside a tracked directory."""

    rel: str  # the data path
    entry: TreeEntry
    source: str  # the pointer (or lock) that records it
    above: tuple[str, ...] = ()  # trees on the path down to a subtree (fetched, never pushed)
    rev: str = ""  # the git revision it was read at; "" for the workspace
    remember: bool = True  # record it as synced with the remote (not for bare oids)


# -- which objects --------------------------------------------------------------------------
def roots(
    repo: Repo,
    targets: Iterable[str | Path] | None = None,
    *,
    revs: Iterable[str] = (),
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    load_tree: Callable[[str], Tree] | None = None,
) -> list[Root]:
    """The roots of the objects a transfer concerns: the workspace's tracked data (or
    ``targets`` in it) and, with revisions, the data tracked at each of them."""
    load_tree = load_tree or repo.cache.load_tree
    targets = list(targets or ())
    found: dict[tuple[str, str], Root] = {}

    def keep(root: Root) -> None:
        found.setdefault((root.rel, root.entry.oid), root)

    for target in targets:
        try:
            items = collect(repo, [target])
        except PathError:
            rel = repo.rel(target)
            owner = repo.tracking_pointer(rel)
            if owner is None:
                raise
            from dvlite.tracked import load

            keep(_subtree(load(repo, owner), rel, load_tree))
            continue
        for item in items:
            keep(_root(item))
    if not targets:
        for item in collect(repo):
            keep(_root(item))
    revisions: list[str] = []
    if revs or all_branches or all_tags or all_commits:
        from dvlite import history

        revisions = history.revisions(
            repo, revs, all_branches=all_branches, all_tags=all_tags, all_commits=all_commits
        )
        wanted = [repo.rel(t) for t in targets]
        for rev in revisions:
            for item in history.tracked_at(repo, rev):
                if not wanted:
                    keep(_root(item, rev))
                    continue
                for rel in wanted:
                    if rel in ("", item.rel, item.source) or item.rel.startswith(rel + "/"):
                        keep(_root(item, rev))
                    elif rel.startswith(item.rel + "/"):
                        try:
                            keep(replace(_subtree(item, rel, load_tree, rev[:12]), rev=rev))
                        except PathError:
                            continue
    return list(found.values())


def _root(item: Tracked, rev: str = "") -> Root:
    return Root(item.rel, item.entry, item.source, rev=rev)


def _subtree(item: Tracked, rel: str, load_tree: Callable[[str], Tree], at: str = "") -> Root:
    """The entry for a path inside a tracked directory, and the trees above it."""
    entry = item.entry
    above: list[str] = []
    for name in rel[len(item.rel) + 1 :].split("/"):
        if entry.type != DIR:
            break
        above.append(entry.oid)
        child = load_tree(entry.oid).by_name.get(name)
        if child is None:
            entry = None  # type: ignore[assignment]
            break
        entry = child
    if entry is None or entry.name != rel.rsplit("/", 1)[-1]:
        where = f" at {at}" if at else ""
        raise PathError(f"{rel} is not in {item.rel}{where} (tracked by {item.source})")
    return Root(rel, entry, item.source, tuple(above))


# -- remembering what a remote holds -------------------------------------------------------
def _synced_path(repo: Repo, remote: Remote) -> Path:
    key = hashlib.sha256(f"{remote.protocol}://{remote.root}".encode()).hexdigest()[:16]
    return repo.tmp_dir / "remotes" / f"{key}.json"


def _load_synced(repo: Repo, remote: Remote) -> dict[str, str]:
    try:
        data = json.loads(_synced_path(repo, remote).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return (
        {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}
        if isinstance(data, dict)
        else {}
    )


def _save_synced(repo: Repo, remote: Remote, updates: dict[str, str]) -> None:
    if not updates:
        return
    synced = _load_synced(repo, remote)
    synced.update(updates)
    path = _synced_path(repo, remote)
    path.parent.mkdir(parents=True, exist_ok=True)
    fsutil.atomic_write(path, json.dumps(synced, sort_keys=True).encode(), fsync=False)


def _reachable(repo: Repo, oid: str, into: set[str]) -> None:
    """Every object below the tree ``oid`` that the cache can tell about."""
    stack = [oid]
    while stack:
        tree_oid = stack.pop()
        if tree_oid in into:
            continue
        into.add(tree_oid)
        try:
            tree = repo.cache.load_tree(tree_oid)
        except CacheError:
            continue
        for child in tree:
            if child.type == DIR:
                stack.append(child.oid)
            else:
                into.add(child.oid)


# -- push -----------------------------------------------------------------------------------
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
    synced = _load_synced(repo, remote)
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
                _reachable(repo, base, known)
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
) -> TransferResult:
    """Upload what the remote lacks of the tracked data (or ``targets``); raises
    TransferError after uploading the rest when some objects could not be sent."""
    rem = open_remote(repo, remote, jobs=jobs)
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
        return _push_roots(repo, rem, start, progress)


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
    start = [Root(oid, _entry_of(repo, oid), oid, remember=False) for oid in dict.fromkeys(oids)]
    with repo.lock():
        return _push_roots(repo, rem, start, progress)


def _entry_of(repo: Repo, oid: str) -> TreeEntry:
    """An entry for a bare oid: a tree when the cache holds it as one, else a file."""
    kind = FILE
    if repo.cache.exists(oid):
        try:
            repo.cache.load_tree(oid)
            kind = DIR
        except CacheError:
            kind = FILE
    return TreeEntry(oid.split(":")[-1], kind, oid, 0)


def _push_roots(
    repo: Repo, rem: Remote, start: list[Root], progress: TransferProgress | None
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
    _save_synced(repo, rem, synced)
    result = TransferResult(rem.name, rem.url, moved, size, tuple(failed))
    if failed:
        raise TransferError("push", result)
    return result


def _cache_failure(repo: Repo, obj: Obj, exc: BaseException) -> Failure:
    if isinstance(exc, CorruptObjectError):
        return Failure(obj.rel, obj.oid, "corrupt in cache", repo.cache.path(obj.oid))
    return Failure(obj.rel, obj.oid, "not in cache", repo.cache.path(obj.oid))


# -- fetch ----------------------------------------------------------------------------------
def fetch(
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
) -> TransferResult:
    """Download what the cache lacks of the tracked data (or ``targets``), verifying every
    object; raises TransferError after fetching the rest when some could not be fetched."""
    rem = open_remote(repo, remote, jobs=jobs)
    with repo.lock():
        result, _ = _fetch(repo, rem, targets, revs, all_branches, all_tags, all_commits, progress)
    if result.failed:
        raise TransferError("fetch", result)
    return result


def fetch_oids(
    repo: Repo,
    remote: str | None,
    oids: Iterable[str],
    *,
    jobs: int | None = None,
    progress: TransferProgress | None = None,
) -> TransferResult:
    """Download the objects ``oids`` name (files or trees) and everything below the trees."""
    rem = open_remote(repo, remote, jobs=jobs)
    oids = list(dict.fromkeys(oids))
    with repo.lock():
        # a bare oid may be a tree: fetch it first, then look inside
        fetcher = _Fetcher(repo, rem)
        fetcher.get([Obj(o, -1, o) for o in oids if not repo.cache.exists(o)])
        start = [
            Root(o, _entry_of(repo, o), o, remember=False) for o in oids if o not in fetcher.bad
        ]
        result = fetcher.run(start, progress)
    if result.failed:
        raise TransferError("fetch", result)
    return result


class _Fetcher:
    def __init__(self, repo: Repo, remote: Remote) -> None:
        self.repo = repo
        self.remote = remote
        self.failed: list[Failure] = []
        self.bad: set[str] = set()
        self.moved = 0
        self.size = 0

    def get(self, objs: list[Obj], progress: TransferProgress | None = None) -> None:
        errors = self.remote.download(self.repo.cache, objs, progress.advance if progress else None)
        for obj in objs:
            exc = errors.get(obj.oid)
            if exc is None:
                self.moved += 1
                self.size += max(obj.size, 0)
                continue
            self.bad.add(obj.oid)
            reason = (
                "corrupt on remote" if isinstance(exc, CorruptObjectError) else "missing on remote"
            )
            self.failed.append(Failure(obj.rel, obj.oid, reason, self.remote.url_of(obj.oid)))

    def load_tree(self, oid: str) -> Tree:
        """A tree from the cache, fetched (and verified) first when the cache lacks it."""
        if not self.repo.cache.exists(oid):
            self.get([Obj(oid, -1, oid)])
            if oid in self.bad:
                failure = self.failed[-1]
                raise RemoteError(f"cannot read the tree of {failure.path}: {failure}")
        return self.repo.cache.load_tree(oid)

    def run(self, start: list[Root], progress: TransferProgress | None) -> TransferResult:
        cache = self.repo.cache
        files: list[Obj] = []
        seen: set[str] = set()
        level: list[tuple[str, TreeEntry]] = [(r.rel, r.entry) for r in start]
        for r in start:  # the trees above a subtree, for checkout to find it
            self.get([Obj(o, -1, r.rel) for o in r.above if not cache.exists(o) and o not in seen])
            seen.update(r.above)
        while level:
            fresh = []
            for rel, entry in level:
                if entry.oid not in seen:
                    seen.add(entry.oid)
                    fresh.append((rel, entry))
            self.get(
                [
                    Obj(e.oid, -1, rel)
                    for rel, e in fresh
                    if e.type == DIR and not cache.exists(e.oid)
                ]
            )
            level = []
            for rel, entry in fresh:
                if entry.oid in self.bad:
                    continue
                if entry.type == FILE:
                    if not cache.exists(entry.oid):
                        files.append(Obj(entry.oid, entry.size, rel))
                    continue
                try:
                    tree = cache.load_tree(entry.oid)
                except CacheError as exc:
                    self.failed.append(Failure(rel, entry.oid, "corrupt in cache", str(exc)))
                    continue
                level.extend((f"{rel}/{c.name}", c) for c in tree)
        if progress:
            progress.start(len(files), sum(f.size for f in files))
        self.get(files, progress)
        if any(f.reason == "missing on remote" for f in self.failed):
            self.remote.check_reachable()  # a missing bucket is one error, not N missing objects
        return TransferResult(
            self.remote.name, self.remote.url, self.moved, self.size, tuple(self.failed)
        )


def _fetch(
    repo: Repo,
    rem: Remote,
    targets: Iterable[str | Path] | None,
    revs: Iterable[str],
    all_branches: bool,
    all_tags: bool,
    all_commits: bool,
    progress: TransferProgress | None,
) -> tuple[TransferResult, list[Root]]:
    fetcher = _Fetcher(repo, rem)
    start = roots(
        repo,
        targets,
        revs=revs,
        all_branches=all_branches,
        all_tags=all_tags,
        all_commits=all_commits,
        load_tree=fetcher.load_tree,
    )
    result = fetcher.run(start, progress)
    if result.ok:
        _save_synced(repo, rem, {r.rel: r.entry.oid for r in start if r.remember and not r.above})
    return result, start


# -- pull -----------------------------------------------------------------------------------
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
) -> TransferResult:
    """Fetch, then check out the workspace's tracked data (or ``targets``). Data whose
    objects all arrived is checked out even when others failed (then TransferError)."""
    from dvlite import checkout as co

    rem = open_remote(repo, remote, jobs=jobs)
    targets = list(targets or ())
    with repo.lock():
        result, start = _fetch(
            repo, rem, targets, revs, all_branches, all_tags, all_commits, progress
        )
    here = [r for r in start if not r.rev]
    if result.ok and not any(r.above for r in here):
        done = co.checkout(repo, targets or None, force=force)
    else:
        bad = [f.path for f in result.failed]
        items = [
            _as_tracked(r)
            for r in here
            if not any(
                p == r.rel or p.startswith(r.rel + "/") or r.rel.startswith(p + "/") for p in bad
            )
        ]
        with repo.lock():
            deltas = co.plan(repo, items, force=force, relink=False)
            done = co.apply(repo, deltas)
            for item in items:
                if item.pointer.kind == DIR:
                    os.makedirs(repo.abspath(item.rel), exist_ok=True)
    result = replace(result, checkout=done.to_dict())
    if result.failed:
        raise TransferError("fetch", result)
    return result


def _as_tracked(root: Root) -> Tracked:
    e = root.entry
    name = root.rel.rsplit("/", 1)[-1]
    return Tracked(root.source, root.rel, Pointer(name, e.type, e.oid, e.size, 0))


__all__ = [
    "DvliteError",
    "Failure",
    "Root",
    "TransferError",
    "TransferProgress",
    "TransferResult",
    "fetch",
    "fetch_oids",
    "pull",
    "push",
    "push_oids",
    "roots",
]
