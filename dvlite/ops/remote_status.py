"""``status --remote`` and ``fsck --remote``: how the cache and a remote compare, and whether
what the remote holds is intact."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dvlite.objects import tree
from dvlite.objects.tree import DIR
from dvlite.ops.fsck import FsckResult
from dvlite.progress import Progress
from dvlite.records.repo import Repo
from dvlite.records.tracked import collect
from dvlite.remote import Obj, open_remote
from dvlite.remote.chunked import bytes_to_fetch, bytes_to_send
from dvlite.remote.packcheck import Checked, check_packed
from dvlite.transfer.push import plan_push
from dvlite.transfer.roots import Root, roots, tree_reader
from dvlite.transfer.synced import cached_below, load_verified, void_verified

NOT_ON_REMOTE, NOT_IN_CACHE, MISSING = "not on remote", "not in cache", "missing"


@dataclass(frozen=True)
class PointerStatus:
    """How many of one pointer's files (and folders) are in one state: the summary line."""

    source: str  # the pointer file, or dvlite.lock:<stage>
    path: str  # the data path it tracks
    kind: str  # file or dir
    total: int | None  # files the pointer records (None for a part of a tracked folder)
    state: str  # NOT_ON_REMOTE, NOT_IN_CACHE or MISSING
    files: int = 0
    folders: int = 0

    def to_dict(self) -> dict[str, object]:
        counts = {"files": self.files, "folders": self.folders, "of_files": self.total}
        return {"pointer": self.source, "path": self.path, "state": self.state, **counts}


@dataclass(frozen=True)
class RemoteStatus:
    remote: str
    url: str
    not_on_remote: tuple[str, ...] = ()  # in the cache, not on the remote: push sends them
    not_in_cache: tuple[str, ...] = ()  # on the remote, not in the cache: fetch gets them
    missing: tuple[str, ...] = ()  # in neither
    pointers: tuple[PointerStatus, ...] = ()  # the same, counted per pointer
    push_bytes: int = 0  # what push would send (of a chunked file, the chunks the remote lacks)
    fetch_bytes: int = 0  # what fetch would read (of a chunked file, the chunks not cached)

    @property
    def clean(self) -> bool:
        return not (self.not_on_remote or self.not_in_cache or self.missing)

    def to_dict(self) -> dict[str, object]:
        lists = ("not_on_remote", "not_in_cache", "missing")
        paths = {name: list(getattr(self, name)) for name in lists}
        pointers = [p.to_dict() for p in self.pointers]
        sizes = {"push_bytes": self.push_bytes, "fetch_bytes": self.fetch_bytes}
        return {"remote": self.remote, "url": self.url, **paths, "pointers": pointers, **sizes}


def remote_status(
    repo: Repo,
    targets: Iterable[str | Path] | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
) -> RemoteStatus:
    """What the remote lacks of the tracked data (or ``targets``), and what the cache lacks."""
    rem = open_remote(repo, remote, jobs=jobs)
    load = tree_reader(repo, rem)
    start = roots(repo, targets, load_tree=load)
    plan = plan_push(repo, rem, start, load)
    if plan.objects and not rem.is_folder:
        rem.check_reachable()  # a missing bucket holds nothing: one error, not N paths
    lacking = {o.oid for o in plan.objects}
    verified = load_verified(repo, rem, rem.gc_marks()) if lacking else {}
    if verified and not lacking.isdisjoint(cached_below(repo, verified)):
        void_verified(repo, rem)  # the remote lost what push verified: next push looks again
    missing = {f.oid: f.path for f in plan.failed}  # in neither
    known = repo.cache.existing(plan.reached) | missing.keys()
    not_in_cache = {oid: rel for oid, rel in plan.reached.items() if oid not in known}
    files = {o.rel for o in plan.files}
    trees = {o.rel for wave in plan.trees for o in wave}
    # a tree alone (its files already there) still has to go up: name it as the folder
    lone = {t + "/" for t in trees if not any(f.startswith(t + "/") for f in files)}
    folders = {rel for oid, rel in not_in_cache.items() if oid in plan.children}
    folders |= trees | {r.rel for r in start if r.entry.type == DIR}
    listed = (
        tuple(sorted(files | lone)),
        tuple(sorted(set(not_in_cache.values()))),
        tuple(sorted(set(missing.values()))),
    )
    states = dict(zip((NOT_ON_REMOTE, NOT_IN_CACHE, MISSING), listed, strict=True))
    fetched = [Obj(o, plan.sizes[o], rel) for o, rel in not_in_cache.items() if o in plan.sizes]
    return RemoteStatus(
        rem.name,
        rem.url,
        *listed,
        _per_pointer(repo, start, states, folders),
        push_bytes=bytes_to_send(rem, repo.cache, plan.objects, rem.format),
        fetch_bytes=(
            bytes_to_fetch(rem, repo.cache, fetched)
            if rem.format == 2
            else sum(max(o.size, 0) for o in fetched)
        ),
    )


def _per_pointer(
    repo: Repo, start: list[Root], states: dict[str, tuple[str, ...]], folders: set[str]
) -> tuple[PointerStatus, ...]:
    """Count the listed paths per pointer, so that a fresh clone's status is a line per
    pointer rather than per file."""
    if not any(states.values()):
        return ()
    totals = {(t.source, t.rel): t.pointer.files for t in collect(repo)}
    by_rel = {r.rel: r for r in start}
    counts: dict[tuple[Root, str], list[int]] = {}  # files, folders
    for state, paths in states.items():
        for path in paths:
            rel = up = path.rstrip("/")
            while up not in by_rel and "/" in up:
                up = up.rsplit("/", 1)[0]
            if up in by_rel:
                count = counts.setdefault((by_rel[up], state), [0, 0])
                count[path.endswith("/") or rel in folders] += 1
    found = [
        PointerStatus(r.source, r.rel, r.entry.type, totals.get((r.source, r.rel)), state, *n)
        for (r, state), n in counts.items()
    ]
    order = list(states)
    return tuple(sorted(found, key=lambda p: (p.source, p.path, order.index(p.state))))


@dataclass
class RemoteFsckResult(FsckResult):
    """FsckResult of a remote: ``corrupt`` names the objects whose bytes hash wrong (by their
    URLs; on format 2 by the path of their data, then where they are in which pack)."""

    remote: str = ""
    url: str = ""
    packs: int = 0  # packs read (format 2)
    damaged_packs: list[str] = field(default_factory=list)  # "URL: what is wrong with it"
    damaged_index: list[str] = field(default_factory=list)  # index files, the same
    orphans: int = 0  # packs no index file names: of a killed push (or one still running)

    @property
    def damaged(self) -> list[str]:
        return self.damaged_index + self.damaged_packs

    @property
    def ok(self) -> bool:
        return super().ok and not self.damaged

    def to_dict(self) -> dict[str, object]:
        packs = {"packs": self.packs, "orphan_packs": self.orphans}
        damaged = {"damaged_packs": self.damaged_packs, "damaged_index": self.damaged_index}
        return {"remote": self.remote, "url": self.url, **super().to_dict(), **packs, **damaged}


def fsck_remote(
    repo: Repo,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> RemoteFsckResult:
    """Hash every object on the remote (on format 2 reading every pack whole, checked against
    its name, its footer and the index files); report corrupt objects, damaged packs and index
    files, and tracked data the remote lacks."""
    rem = open_remote(repo, remote, jobs=jobs)
    advance = progress.advance if progress else None
    if rem.format == 2:
        if not rem.catalog.objects:
            rem.check_reachable()  # a missing bucket lists as empty: say so instead
        if progress:
            progress.start(len(rem.catalog.objects), 0)
        found = check_packed(rem, advance)
    else:
        listed = sorted(rem.list_oids())
        if not listed:
            rem.check_reachable()
        if progress:
            progress.start(len(listed), 0)  # a listing gives no sizes: the bar counts objects
        hashes = rem.hash_objects(listed, advance)
        where = {
            oid: rem.url_of(oid) for oid, actual in hashes.items() if actual not in (None, oid)
        }
        found = Checked(hashes, where, len(listed))
    result = RemoteFsckResult(
        checked=found.named,
        remote=rem.name,
        url=rem.url,
        packs=found.packs,
        damaged_packs=found.damaged_packs,
        damaged_index=found.damaged_index,
        orphans=found.orphans,
    )
    present = {oid for oid, actual in found.hashes.items() if actual == oid}
    load = tree_reader(repo, rem)
    walked = tree.walk_levels(
        load,
        [(r.rel, r.entry, r.source) for r in roots(repo, load_tree=load)],
        prune=lambda _, e: e.oid not in present,  # a tree missing there, or corrupt
        on_missing=tree.skip_missing,
    )
    absent: dict[str, str] = {}  # oid -> the first path it is missing at
    paths: dict[str, str] = {}  # a corrupt oid -> the first path it is at
    users: dict[str, list[str]] = {}  # a large file -> its corrupt chunks
    for chunk in found.where.keys() & found.owners.keys():
        users.setdefault(found.owners[chunk], []).append(chunk)
    for rel, entry, _ in walked:
        if entry.oid not in found.hashes:
            absent.setdefault(entry.oid, rel)
        elif entry.oid in found.where:
            paths.setdefault(entry.oid, rel)
        for chunk in users.get(entry.oid, ()):  # named by the large file they are part of
            paths.setdefault(chunk, rel)
    result.missing = sorted(set(absent.values()))
    result.corrupt = sorted(
        f"{paths[oid]} ({where})" if rem.format == 2 and oid in paths else where
        for oid, where in found.where.items()
    )
    if result.missing or result.corrupt or result.damaged:
        void_verified(repo, rem)  # so that the next push looks for every object again
    result.temporary = [rem.display(path) for path, _ in rem.list_tmp()]
    return result
