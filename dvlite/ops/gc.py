"""``dvlite gc``: remove the cache objects that no kept revision uses. The workspace is always
kept; a revision that cannot be read completely (a malformed pointer, a tree not in the cache)
stops gc before anything is removed; and without ``force`` an object no remote holds, the only
copy, is never removed."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field

from dvlite.errors import CacheError, DvliteError
from dvlite.git import history
from dvlite.git.history import Revisions
from dvlite.objects import fsutil, tree
from dvlite.objects.tree import DIR, Tree
from dvlite.records import runcache
from dvlite.records.repo import Repo
from dvlite.remote import configured, open_remote, repack
from dvlite.remote.chunked import chunks_of
from dvlite.remote.config import parse_grace
from dvlite.remote.lock import RemoteLock
from dvlite.remote.repack import Repacked
from dvlite.remote.survey import survey
from dvlite.transfer.roots import cached_tree
from dvlite.transfer.synced import cached_below


@dataclass
class GcResult:
    dry: bool = False
    removed: list[str] = field(default_factory=list)  # or, with dry, what would be
    removed_bytes: int = 0
    only_copy: list[str] = field(default_factory=list)  # unused but kept: no remote holds them
    only_copy_bytes: int = 0
    used: int = 0  # objects the kept revisions use
    remote: str | None = None  # with --cloud: the remote cleaned
    cloud_removed: list[str] = field(default_factory=list)
    cloud_only_copy: list[str] = field(default_factory=list)  # on no other remote: kept there
    runs_removed: list[str] = field(default_factory=list)  # entries naming removed objects
    cloud_runs_removed: list[str] = field(default_factory=list)
    cloud_tmp_removed: list[str] = field(default_factory=list)  # killed pushes' temporary files
    cloud_repack: Repacked | None = None  # format 2: the packs and index files rewritten

    def to_dict(self) -> dict[str, object]:  # in JSON, only_copy is kept_only_copy
        found = {k.replace("only_copy", "kept_only_copy"): v for k, v in asdict(self).items()}
        if self.cloud_repack is None:  # not a format 2 remote
            del found["cloud_repack"]
        return found


def used_objects(repo: Repo, commits: Iterable[str]) -> set[str]:
    """Every object (files and trees) the workspace and ``commits`` use; raises when any of
    them cannot be read completely: gc never removes on partial information."""
    used: set[str] = set()
    seen: set[str] = set()  # the trees walked: each once over all the revisions
    load = repo.cache.load_tree
    for rev in (history.WORKSPACE, *commits):
        for item in history.tracked_at(repo, rev):
            try:
                used.update(
                    tree.reachable(load, item.entry, item.rel, source=item.source, seen=seen)
                )
            except CacheError as exc:
                where = "the workspace" if rev == history.WORKSPACE else rev[:12]
                raise CacheError(
                    f"cannot read what {item.source} at {where} uses ({exc}), so gc removes "
                    "nothing; `dvlite fetch` that revision first, or leave it out of what gc keeps"
                ) from None
    return used


def gc(
    repo: Repo,
    *,
    revisions: Revisions = Revisions(),
    cloud: bool = False,
    remote: str | None = None,
    dry: bool = False,
    force: bool = False,
) -> GcResult:
    """Remove every object that neither the workspace nor ``revisions`` use, from the cache
    and, with ``cloud``, from the remote (``dry``: only say what would go). Without ``force``
    no object is left without a copy: one leaves the cache only when a remote keeps it, and
    the remote only when another remote holds it too. A run-cache entry goes with any object
    it names, so none points at a missing object. On a format 2 remote the packs are
    rewritten (remote/repack.py): nothing younger than ``remote.NAME.gc_grace`` is deleted."""
    with repo.lock(), contextlib.ExitStack() as stack:
        if revisions and not repo.uses_git:
            raise DvliteError("this repository has no git: only the workspace can be kept (-w)")
        used = used_objects(repo, revisions.commits(repo) if revisions else [])
        unused = [oid for oid in repo.cache.iter_oids() if oid not in used]
        result = GcResult(used=len(used), dry=dry)
        target = lock = surveyed = planned = None
        cloud_drop: set[str] = set()
        trees: dict[str, Tree] = {}  # the trees among the remote's unused objects
        if cloud:
            target = open_remote(repo, remote)
            result.remote = target.name
            if not dry:  # one gc (or repack) of a remote at a time
                lock = stack.enter_context(RemoteLock(target, "gc"))
            if target.format == 2:
                grace = parse_grace(target.name, target.options.get("gc_grace"))
                surveyed = survey(target, grace, time.time())
                listed = surveyed.oids
                used |= chunks_of(target, used)  # the chunks of the large files kept
            else:
                listed = target.list_oids()
            if not listed:
                target.check_reachable()  # a missing bucket lists as empty: say so instead
            on_target = sorted(listed - used)
            trees = {o: t for o in on_target if (t := cached_tree(repo, o)) is not None}
            if force:
                cloud_drop = set(on_target)
            else:
                elsewhere = _holders(repo, on_target, skip=target.name)
                cloud_drop = {o for o in on_target if elsewhere.get(o)}
                result.cloud_only_copy = [o for o in on_target if o not in cloud_drop]
                # a tree that stays keeps what is below it, even where another remote has that
                kept = dict.fromkeys(trees.keys() - cloud_drop, DIR)
                cloud_drop -= cached_below(repo, kept).keys()
            if surveyed is not None:  # what is younger than the grace period stays
                planned = repack.plan(surveyed, cloud_drop, is_tree=lambda o: _is_tree(repo, o))
                cloud_drop = planned.dropped
            result.cloud_removed = sorted(cloud_drop)
        holders = {} if force else _holders(repo, unused)
        for oid in unused:
            keepers = holders.get(oid, set())
            if target is not None and oid in cloud_drop:
                keepers = keepers - {target.name}
            (result.removed if force or keepers else result.only_copy).append(oid)
        result.removed_bytes = sum(map(repo.cache.size, result.removed))
        result.only_copy_bytes = sum(map(repo.cache.size, result.only_copy))
        removed = set(result.removed)
        result.runs_removed = [
            key
            for key in runcache.iter_keys(repo.cache_dir)
            if _names_any(repo, runcache.load(repo.cache_dir, key), removed)
        ]
        if target is not None and cloud_drop:
            cloud_runs = target.read_runs(sorted(target.list_runs()))
            result.cloud_runs_removed = [
                key
                for key, data in cloud_runs.items()
                if isinstance(data, bytes) and _names_any(repo, runcache.parse(data), cloud_drop)
            ]
        if target is not None:  # a push still running writes its temporary files only now
            now = time.time()
            stale = [p for p, mtime in target.list_tmp() if now - mtime > fsutil.TMP_GRACE]
            result.cloud_tmp_removed = [target.display(p) for p in stale]
            if stale and not dry:
                target.delete_tmp(stale)
            if surveyed is not None and planned is not None:  # format 2: repack
                if lock is None:  # dry
                    result.cloud_repack = Repacked.of_plan(planned)
                else:
                    target.delete_runs(result.cloud_runs_removed)  # entries first, then objects
                    result.cloud_repack = repack.apply(target, surveyed, planned, lock)
            elif cloud_drop and lock is not None:
                # a new mark first: every clone's record of what it verified there is void
                older = target.gc_marks()
                target.add_gc_mark()
                target.delete_runs(result.cloud_runs_removed)  # entries first, then objects
                lock.check()
                for wave in deletion_waves(cloud_drop, trees):
                    target.delete(wave)  # a wave is complete before the next one starts
                target.delete_gc_marks(older)
        if not dry:
            for key in result.runs_removed:
                _remove(runcache.entry_path(repo.cache_dir, key))
            repo.cache.remove(result.removed)
        return result


def deletion_waves(drop: Collection[str], trees: Mapping[str, Tree]) -> list[list[str]]:
    """The order to delete ``drop`` from a remote in, so that at every moment each tree still
    there has all its children there: the trees (those ``trees`` knows) by height, parents
    first, then everything else."""
    dropped = {oid for oid in drop if oid in trees}
    waves = tree.waves(dropped, lambda oid: (c.oid for c in trees[oid] if c.type == DIR))
    rest = sorted(oid for oid in drop if oid not in dropped)
    return [sorted(wave) for wave in reversed(waves)] + ([rest] if rest else [])


def _names_any(repo: Repo, entry: runcache.Entry | None, oids: set[str]) -> bool:
    """Whether a run-cache entry names any of ``oids``, itself or below one of its trees."""
    if entry is None:
        return False
    return not oids.isdisjoint(cached_below(repo, {p.oid: p.kind for p in entry[0] + entry[1]}))


def _holders(repo: Repo, oids: list[str], skip: str | None = None) -> dict[str, set[str]]:
    """For each of ``oids``, the names of the configured remotes that hold it (a remote that
    cannot be asked raises: gc does not guess)."""
    found: dict[str, set[str]] = {}
    if not oids or not repo.config.sections('remote "'):
        return found
    for name in sorted(configured(repo).keys() - {skip}):
        for oid in open_remote(repo, name).exists(oids):
            found.setdefault(oid, set()).add(name)
    return found


def _is_tree(repo: Repo, oid: str) -> bool:
    return cached_tree(repo, oid) is not None


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    with contextlib.suppress(OSError):
        os.rmdir(os.path.dirname(path))  # the objects/xx folder, when it is now empty
