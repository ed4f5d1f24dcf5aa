"""``fetch``: download what the cache lacks. Fetch decides from the cache alone and re-hashes
every object it receives before installing it."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from dvlite.errors import CacheError, CorruptObjectError, RemoteError
from dvlite.git.history import Revisions
from dvlite.objects import tree
from dvlite.objects.tree import DIR, Tree, TreeEntry
from dvlite.progress import Progress
from dvlite.records.repo import Repo
from dvlite.remote import Obj, Remote, open_remote
from dvlite.remote.chunked import MissingChunk
from dvlite.transfer.result import Failure, TransferError, TransferResult
from dvlite.transfer.roots import Root, entry_of, roots


def fetch(
    repo: Repo,
    targets: Iterable[str | Path] | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    revisions: Revisions = Revisions(),
    progress: Progress | None = None,
    run_cache: bool = True,
) -> TransferResult:
    """Download (verified) what the cache lacks of the tracked data (or ``targets``) and, without
    targets and with ``run_cache``, the run-cache entries it lacks with the objects they name;
    TransferError, after the rest, for what could not be fetched."""
    rem = open_remote(repo, remote, jobs=jobs)
    targets = list(targets or ())
    runs = run_cache and not targets
    with repo.lock():
        result, _ = fetch_roots(repo, rem, targets, revisions, progress, runs=runs)
    if result.failed:
        raise TransferError("fetch", result)
    return result


def fetch_oids(repo: Repo, remote: str | None, oids: Iterable[str]) -> TransferResult:
    """Download the objects ``oids`` name (files or trees) and everything below the trees."""
    rem = open_remote(repo, remote)
    oids = list(dict.fromkeys(oids))
    with repo.lock():
        # a bare oid may be a tree: fetch it first, then look inside
        fetcher = Fetcher(repo, rem)
        fetcher.get([Obj(o, -1, o) for o in oids if not repo.cache.exists(o)])
        start = [Root(o, entry_of(repo, o), o) for o in oids if o not in fetcher.bad]
        result = fetcher.run(start, None)
    if result.failed:
        raise TransferError("fetch", result)
    return result


class Fetcher:
    """Downloads into the cache, each object verified, noting what arrived and what did not."""

    def __init__(self, repo: Repo, remote: Remote) -> None:
        self.repo, self.remote = repo, remote
        self.failed: list[Failure] = []
        self.bad: set[str] = set()  # oids that could not be fetched
        self.moved = self.size = 0

    def get(self, objs: list[Obj], progress: Progress | None = None) -> None:
        errors = self.remote.download(self.repo.cache, objs, progress.advance if progress else None)
        for obj in objs:
            if (exc := errors.get(obj.oid)) is None:
                self.moved += 1
                self.size += max(obj.size, 0)
                continue
            self.bad.add(obj.oid)
            corrupt = isinstance(exc, CorruptObjectError)
            reason = "corrupt on remote" if corrupt else "missing on remote"
            where = self.remote.url_of(obj.oid)
            chunk = isinstance(exc, CorruptObjectError) and exc.oid != obj.oid
            if chunk or isinstance(exc, MissingChunk):  # of a large file: say which, and where
                where += f"; {exc}"
            self.failed.append(Failure(obj.rel, obj.oid, reason, where))

    def load_tree(self, oid: str) -> Tree:
        """A tree from the cache, fetched (and verified) first when the cache lacks it."""
        if not self.repo.cache.exists(oid):
            self.get([Obj(oid, -1, oid)])
            if oid in self.bad:
                failure = self.failed[-1]
                raise RemoteError(f"cannot read the tree of {failure.path}: {failure}")
        return self.repo.cache.load_tree(oid)

    def run(self, start: list[Root], progress: Progress | None) -> TransferResult:
        cache = self.repo.cache
        for r in start:  # the trees above a subtree, for checkout to find it
            self.get(
                [Obj(o, -1, r.rel) for o in r.above if o not in self.bad and not cache.exists(o)]
            )

        def get_trees(level: list[tuple[str, TreeEntry, str]]) -> None:  # a level in one batch
            trees = {e.oid: rel for rel, e, _ in level if e.type == DIR}
            present = cache.existing(trees)
            self.get([Obj(o, -1, rel) for o, rel in trees.items() if o not in present])

        def damaged(rel: str, entry: TreeEntry, exc: CacheError) -> None:
            self.failed.append(Failure(rel, entry.oid, "corrupt in cache", str(exc)))

        files: dict[str, Obj] = {}
        trees: set[str] = set()
        for rel, entry, _ in tree.walk_levels(
            cache.load_tree,
            [(r.rel, r.entry, r.source) for r in start],
            before=get_trees,
            prune=lambda _, e: e.oid in self.bad,
            on_missing=damaged,
        ):
            if entry.type == DIR:
                trees.add(entry.oid)
            elif entry.oid not in files:
                files[entry.oid] = Obj(entry.oid, entry.size, rel)
        present = cache.existing(files)
        lacking = [o for oid, o in files.items() if oid not in present]
        if progress:
            progress.start(len(lacking), sum(f.size for f in lacking))
        self.get(lacking, progress)
        if not self.failed:  # every object below the roots is here (and fetch holds the lock)
            cache.mark_complete(trees, None)
        if any(f.reason == "missing on remote" for f in self.failed):
            self.remote.check_reachable()  # a missing bucket is one error, not N missing objects
        return TransferResult(
            self.remote.name,
            self.remote.url,
            self.moved,
            self.size,
            tuple(self.failed),
            warnings=(*self.remote.warnings,),
            reused=self.remote.reused,
        )


def fetch_roots(
    repo: Repo,
    rem: Remote,
    targets: Iterable[str | Path] | None,
    revisions: Revisions,
    progress: Progress | None,
    *,
    runs: bool = False,
) -> tuple[TransferResult, list[Root]]:
    """Fetch below the ``roots`` of ``targets`` (with ``runs``, the run cache too), and them."""
    fetcher = Fetcher(repo, rem)
    start = roots(repo, targets, revisions=revisions, load_tree=fetcher.load_tree)
    result = fetcher.run(start, progress)
    if runs:
        from dvlite.transfer.runs import fetch_runs

        result = fetch_runs(repo, rem, lambda start: Fetcher(repo, rem).run(start, None), result)
    return result, start
