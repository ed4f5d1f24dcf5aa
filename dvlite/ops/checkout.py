"""``dvlite checkout``: make the workspace match the pointers. Nothing is overwritten or
deleted unless its content is in the cache (or ``force``), and every object is verified on its
way out of the cache."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from dvlite.errors import CacheError, CheckoutError, CorruptObjectError
from dvlite.objects import fsutil, tree
from dvlite.objects.hashing import PARALLEL_MIN_SIZE, map_by_size
from dvlite.objects.state import Row
from dvlite.objects.tree import DIR
from dvlite.progress import FileBytes, Progress
from dvlite.records.compare import Delta, compare
from dvlite.records.repo import Repo
from dvlite.records.tracked import Tracked, collect, workspace_node
from dvlite.records.workspace import Node, hashed

_SHOWN = 5  # paths named in one error message
UNSAVED = (
    "checkout would overwrite or delete changes that are not in the cache: {paths}; "
    "`dvlite add` them to keep them, or use --force to discard them"
)


@dataclass
class CheckoutResult:
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)  # not checked out: the object is damaged
    missing: list[str] = field(default_factory=list)  # not checked out: the cache lacks it

    def to_dict(self) -> dict[str, list[str]]:
        return {"added": self.added, "modified": self.modified, "deleted": self.deleted}

    @property
    def changed(self) -> bool:
        return bool(self.added or self.modified or self.deleted)


def _name_some(paths: list[str]) -> str:
    shown = ", ".join(paths[:_SHOWN])
    return shown + (f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else "")


BATCH = 4096  # deltas checked, then applied, together
KEEP = 20_000  # deltas a plan holds; one with more is worked out again to be applied


def plan(
    repo: Repo,
    items: list[Tracked],
    *,
    force: bool,
    relink: bool,
    skipped: list[str] | None = None,
    since: Mapping[str, Tracked] | None = None,
    dropped: Iterable[Tracked] = (),
    unsaved: str = UNSAVED,
) -> Plan:
    """What to change so that the workspace matches ``items``. A path whose object (or tree)
    the cache lacks raises CacheError, or with ``skipped`` is listed there and left as it is.
    ``since`` holds the versions the workspace was at (a git switch): a folder there too has
    only the files that differ between the two versions compared. The files of ``dropped``
    items (no longer tracked) are deleted where the cache has them. Unsaved changes raise
    CheckoutError with ``unsaved`` (``{paths}`` names them). Nothing is changed yet: every
    check is over before ``apply`` writes anything."""
    usable = []
    for item in items:
        pointer = item.pointer
        if pointer.kind == DIR and not repo.cache.exists(pointer.oid):
            if skipped is None:
                raise CacheError(
                    f"{item.rel}: its tree {pointer.oid} is not in the cache; "
                    f"run `dvlite pull {item.source}`"
                )
            skipped.append(item.rel)
            continue
        usable.append(item)
    found = Plan(repo, usable, list(dropped), force=force, relink=relink, since=since or {})
    found.check(skipped=skipped, unsaved=unsaved)
    return found


class Plan:
    """The deltas of a checkout, worked out one folder at a time whenever they are iterated
    (held in memory when they are few), so that a million files cost no more memory than a
    thousand. ``files`` and ``size``: what will be written, for progress."""

    def __init__(
        self,
        repo: Repo,
        items: list[Tracked],
        dropped: list[Tracked],
        *,
        force: bool,
        relink: bool,
        since: Mapping[str, Tracked],
    ) -> None:
        self.repo, self.items, self.dropped = repo, items, dropped
        self.force, self.relink, self.since = force, relink, since
        self.files = self.size = 0
        self._kept: list[Delta] | None = None

    def __iter__(self) -> Iterator[Delta]:
        return iter(self._kept) if self._kept is not None else self._deltas([])

    def _deltas(self, missing: list[str] | None) -> Iterator[Delta]:
        """No delta writes over a file that .dvliteignore hides (recorded before its line)."""
        ignore = self.repo.ignore
        for d in self._all_deltas(missing):
            if d.work is None and ignore.dropped and ignore.covers(d.rel):
                continue
            yield d

    def check(self, *, skipped: list[str] | None, unsaved: str) -> None:
        """The first pass: CacheError for what the cache lacks (or listed in ``skipped``),
        CheckoutError for unsaved changes. Skipped where nothing can be wrong: items absent
        from the workspace whose data the cache is known to hold whole."""
        complete = self.repo.cache.complete_trees()[1]
        if not self.dropped and all(self._nothing_to_check(i, complete) for i in self.items):
            self.files = sum(i.pointer.files for i in self.items)
            self.size = sum(i.pointer.size for i in self.items)
            return
        kept: list[Delta] | None = []
        missing: list[str] = []
        changes: list[str] = []
        for batch in batched(self._deltas(skipped), BATCH):
            present = self._present(batch)
            missing += [d.rel for d in batch if d.stored and d.stored.oid not in present]
            batch = [d for d in batch if d.stored is None or d.stored.oid in present]
            changes += [d.rel for d in batch if not self._saved(d, present)]
            installs = [d.stored for d in batch if d.stored is not None]
            self.files += len(installs)
            self.size += sum(max(e.size, 0) for e in installs)
            if kept is not None and len(kept) + len(batch) <= KEEP:
                kept += batch
            else:
                kept = None
        if missing:
            if skipped is None:
                raise CacheError(
                    f"not in the cache: {_name_some(missing)}; run `dvlite pull` to fetch them"
                )
            skipped += missing
        if changes:
            raise CheckoutError(unsaved.format(paths=_name_some(changes)))
        self._kept = kept

    def batches(self) -> Iterator[list[Delta]]:
        """The deltas, a batch at a time, each looked up in the cache again right before it
        is applied: what the cache lacks now, or a file changed since the check, is left as
        it is (and the packs' table keeps where the objects are, for the reads that follow)."""
        for batch in batched(self, BATCH):
            present = self._present(batch)
            yield [
                d
                for d in batch
                if (d.stored is None or d.stored.oid in present) and self._saved(d, present)
            ]

    def _present(self, batch: list[Delta]) -> set[str]:
        return self.repo.cache.existing(
            {d.stored.oid for d in batch if d.stored is not None}
            | {d.work.oid for d in batch if d.work is not None and not self.force}
        )

    def _saved(self, d: Delta, present: set[str]) -> bool:
        """Whether ``d`` leaves no unsaved change behind (every stored object left is cached:
        a work file equal to it is too)."""
        return self.force or d.work is None or d.work.oid in present

    def _nothing_to_check(self, item: Tracked, complete: set[str]) -> bool:
        p = item.pointer
        if self.relink or item.rel in self.since or os.path.lexists(self.repo.abspath(item.rel)):
            return False
        return p.oid in complete if p.kind == DIR else self.repo.cache.exists(p.oid)

    def _all_deltas(self, missing: list[str] | None) -> Iterator[Delta]:
        repo = self.repo
        for item in self.dropped:
            yield from _dropped(repo, item)
        for item in self.items:
            old = self.since.get(item.rel)
            if (
                old
                and old.pointer.kind == item.pointer.kind == DIR
                and repo.cache.exists(old.pointer.oid)
            ):
                yield from _changed_files(repo, old, item)
                continue
            work = workspace_node(repo, item)
            found = compare(
                repo.cache, item.entry, work, item.rel, missing, item.source, work_first=True
            )
            if not self.relink:
                yield from found
                continue
            deltas = list(found)  # and every other file too, paired with its workspace file
            seen = {d.rel for d in deltas}
            nodes = {f.rel: f for f in work.walk_files()} if work else {}
            skip = tree.skip_missing if missing is not None else None  # listed by compare
            stored = tree.files(repo.cache.load_tree, item.entry, item.rel, on_missing=skip)
            yield from deltas
            yield from (Delta(path, e, nodes.get(path)) for path, e in stored if path not in seen)


def batched(deltas: Iterable[Delta], size: int) -> Iterator[list[Delta]]:
    batch: list[Delta] = []
    for d in deltas:
        batch.append(d)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _changed_files(repo: Repo, old: Tracked, new: Tracked) -> Iterator[Delta]:
    """Deltas for just the files that differ between two versions of a folder: a switch
    that changes 1 file of 20,000 looks at 1."""
    link_roots = (os.path.realpath(repo.cache_dir),)
    load = repo.cache.load_tree
    for path, _old, entry in tree.diff(load, old.entry, new.entry, new.rel, source=new.source):
        work = None
        if os.path.lexists(repo.abspath(path)):
            if repo.ignore.ignores(path):
                continue  # recorded, but ignored in the workspace since: left alone
            work = hashed(
                repo.state, os.fspath(repo.abspath(path)), path, link_roots, ignore=repo.ignore
            )
        yield from compare(repo.cache, entry, work, path, source=new.source, work_first=True)


def _dropped(repo: Repo, item: Tracked) -> list[Delta]:
    """The workspace files of data no longer tracked: deleted only where the cache has them."""
    work = workspace_node(repo, item)
    files = list(work.walk_files()) if work else []
    if any(not repo.cache.exists(f.oid) for f in files):
        return []  # holds unsaved changes: leave it all in place
    return [Delta(f.rel, None, f) for f in files]


def make_folders(repo: Repo, items: Iterable[Tracked]) -> None:
    """Tracked folders exist after a checkout, even empty ones (no file brings those back)."""
    for item in items:
        if item.pointer.kind == DIR:
            os.makedirs(repo.confined.target(item.rel, item.source), exist_ok=True)


def checkout(
    repo: Repo,
    targets: Iterable[str | Path] | None = None,
    *,
    force: bool = False,
    relink: bool = False,
    progress: Progress | None = None,
) -> CheckoutResult:
    """Make the workspace match the pointers (or ``targets``); a file whose object the cache
    lacks, or holds damaged, is left as it is, and CacheError names them after the rest."""
    with repo.lock():
        items = collect(repo, targets)
        skipped: list[str] = []
        deltas = plan(repo, items, force=force, relink=relink, skipped=skipped)
        result = apply(repo, deltas, progress, partial=True)
        result.missing = skipped
        make_folders(repo, items)
        raise_incomplete(result)
        return result


def raise_incomplete(result: CheckoutResult) -> None:
    """CacheError naming what a partial checkout left out (nothing when it left out nothing)."""
    lines = []
    if result.corrupt:
        lines.append(
            f"corrupt objects in the cache, not checked out: {_name_some(result.corrupt)}; "
            "moved aside; run `dvlite pull` to fetch good copies"
        )
    if result.missing:
        lines.append(
            f"not in the cache, not checked out: {_name_some(result.missing)}; "
            "run `dvlite pull` to fetch them"
        )
    if lines:
        raise CacheError("\n".join(lines))


def apply(
    repo: Repo, deltas: Plan, progress: Progress | None = None, *, partial: bool = False
) -> CheckoutResult:
    """Make each path of ``deltas`` hold what its record says, every path checked first
    (``Repo.confined``), a batch at a time. A corrupt object raises CacheError after the rest
    is installed, or with ``partial`` is only listed in the result's ``corrupt``."""
    result = CheckoutResult()
    if progress:
        progress.start(deltas.files, deltas.size)
    for batch in deltas.batches():
        _apply(repo, batch, progress, result)
    if not partial:
        raise_incomplete(result)
    return result


def _apply(
    repo: Repo, deltas: list[Delta], progress: Progress | None, result: CheckoutResult
) -> None:
    targets = {d.rel: repo.confined.target(d.rel) for d in deltas}
    for d in deltas:  # (a folder's files come before a file in its place: ``work_first``)
        if d.stored is None and d.work is not None:
            fsutil.remove(targets[d.rel])
            result.deleted.append(d.rel)
            _prune_empty(repo, os.path.dirname(targets[d.rel]))
    installs = [d for d in deltas if d.stored is not None]
    advance = progress.advance if progress else None
    made: set[str] = set()  # parent folders already made in this batch

    def install(d: Delta) -> tuple[Delta, Row | None]:
        want, have, dest = d.stored, d.work, targets[d.rel]
        assert want is not None
        counted = FileBytes(advance) if advance else None  # a big file's bytes as read, then it
        mode_only = have is not None and have.oid == want.oid and have.exec != want.exec
        try:
            if mode_only and not _shares_object(dest):
                _set_exec(dest, want.exec)
            else:
                parent = dest.rpartition(os.sep)[0]  # (dest is absolute)
                if parent not in made:  # a file standing there was deleted by the plan
                    os.makedirs(parent, exist_ok=True)
                    made.add(parent)
                on_bytes = counted.on_bytes if counted and want.size >= PARALLEL_MIN_SIZE else None
                repo.cache.install(
                    want.oid, dest, executable=want.exec, size=want.size, on_bytes=on_bytes
                )
        except CorruptObjectError:
            return d, None
        finally:
            if counted:
                counted.finish(max(want.size, 0))
        return d, _state_row(d.rel, dest, want.oid)

    # the folders temporary files go into, so that the next run cleans them if this one is killed
    folders = {d.rel.rpartition("/")[0] for d in installs}
    with fsutil.journal(repo.tmp_dir, sorted(folders)) if installs else nullcontext():
        done = list(map_by_size(install, installs, lambda d: d.stored.size if d.stored else 0))
    for d, row in done:
        if row is None:
            result.corrupt.append(d.rel)
        elif d.work is None:
            result.added.append(d.rel)
        elif d.work.oid != row[4] or d.work.exec != d.stored.exec:  # type: ignore[union-attr]
            result.modified.append(d.rel)
    repo.state.save([row for _, row in done if row is not None])


def _state_row(rel: str, path: str, oid: str) -> Row:
    st = os.stat(path)
    return rel, st.st_ino, st.st_mtime_ns, st.st_size, oid


def _shares_object(path: str) -> bool:
    """A symlink or hard link to a cache object: chmod would change the object itself."""
    return os.path.islink(path) or os.stat(path).st_nlink > 1


def _set_exec(path: str, executable: bool) -> None:
    mode = os.stat(path).st_mode
    wanted = mode | 0o111 if executable else mode & ~0o111
    if wanted != mode:
        os.chmod(path, wanted)


def _prune_empty(repo: Repo, folder: str) -> None:
    root = os.fspath(repo.root)
    while folder != root and fsutil.is_within(folder, root):
        try:
            os.rmdir(folder)
        except OSError:
            return
        folder = os.path.dirname(folder)


def link_into_workspace(repo: Repo, node: Node) -> None:
    """Replace just-added workspace files with links to their cache objects (hardlink or symlink
    link types), the cache flushed to disk first: it then holds the only copy of the bytes."""
    os.sync()
    rows = []
    for f in node.walk_files():
        repo.cache.install(f.oid, f.path, executable=f.exec)
        rows.append(_state_row(f.rel, f.path, f.oid))
    repo.state.save(rows)
