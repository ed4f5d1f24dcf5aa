"""``dvlite update``: move imported data to its source's newest version. For an import from a
repository, one ``ls-remote`` says whether the revision still names the recorded commit (then
nothing else happens); otherwise the new commit is fetched, the path looked up again and only
the objects the cache lacks downloaded. For an ``import-url``, one info request says whether
the object changed (version, ETag, else size and time). The data is checked out as checkout
does (never over unsaved changes); a new commit with the same data only rewrites the pointer.

A pointer is a committed file: its source may have been written by anyone. A source on this
machine (a path, ``file://``) is followed only with ``allow_local``, as git refuses ``file://``
submodules by default: otherwise a crafted pointer could copy any of the user's files (say
``~/.aws/credentials``) into tracked data, to be pushed with it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from dvlite.errors import ArgumentError, CheckoutError, PathError, SourceError
from dvlite.git import clone
from dvlite.objects.tree import FILE, TreeEntry
from dvlite.ops.get import Where, locate
from dvlite.ops.import_url import download
from dvlite.ops.imports import (
    MOVED,
    UNCHANGED,
    UPDATED,
    ImportResult,
    bring,
    from_git,
    record,
    result,
    save,
    usable_url,
)
from dvlite.progress import Progress
from dvlite.records import pointer as pointers
from dvlite.records import tracked
from dvlite.records.pointer import Pointer
from dvlite.records.repo import Repo
from dvlite.records.source import RepoSource, UrlSource
from dvlite.remote import url as urls
from dvlite.remote.foreign import url_remote
from dvlite.transfer.result import TransferResult


def imported(repo: Repo, targets: Iterable[str | Path] | None) -> list[tuple[str, Pointer]]:
    """(data path, pointer) of each import named by ``targets`` (pointer files or data
    paths), or of every import in the repository."""
    found = []
    if not targets:
        for pointer_rel in sorted(repo.iter_pointers()):
            item = tracked.load(repo, pointer_rel)
            if item.pointer.source is not None:
                found.append((item.rel, item.pointer))
        return found
    for t in targets:
        rel = repo.rel(t)
        pointer_rel = rel if pointers.is_pointer(rel) else rel + pointers.SUFFIX
        if not repo.abspath(pointer_rel).is_file():
            raise PathError(f"{t}: no pointer file {pointer_rel}")
        item = tracked.load(repo, pointer_rel)
        if item.pointer.source is None:
            raise PathError(
                f"{pointer_rel} was not imported (it has no source); `dvlite add` updates data "
                "added here"
            )
        found.append((item.rel, item.pointer))
    return found


def update(
    repo: Repo,
    targets: Iterable[str | Path] | None = None,
    *,
    rev: str | None = None,
    where: Where | None = None,
    allow_local: bool = False,
    progress: Progress | None = None,
) -> list[ImportResult]:
    """Update each import (all of them without ``targets``); ``rev`` moves imports from a
    repository to that revision (recorded from then on)."""
    items = imported(repo, targets)
    if rev is not None:
        clone.check_rev(rev)
        urls_only = [rel for rel, p in items if not isinstance(p.source, RepoSource)]
        if urls_only:
            raise ArgumentError(f"--rev applies to imports from a repository, not {urls_only[0]}")
    results = []
    for rel, p in items:
        src = p.source
        where_from = f"{rel}{pointers.SUFFIX}"
        if isinstance(src, RepoSource):
            url = usable_url(repo, src.repo)
            _check_local(url, where_from, allow_local)
            results.append(_from_repo(repo, rel, p, src, url, rev, where, progress))
        elif isinstance(src, UrlSource):
            url = usable_url(repo, src.url)
            _check_local(url, where_from, allow_local)
            results.append(_from_url(repo, rel, p, src, url, progress))
    return results


def _check_local(url: str, where: str, allow_local: bool) -> None:
    if not allow_local and clone.local_path(url) is not None:
        raise SourceError(
            f"{where}: its source {url} is on this machine, and a committed pointer can name any "
            "file or repository here; check it, then run `dvlite update --allow-local`"
        )


def _from_repo(
    repo: Repo,
    rel: str,
    p: Pointer,
    src: RepoSource,
    url: str,
    rev: str | None,
    where: Where | None,
    progress: Progress | None,
) -> ImportResult:
    new_rev = rev if rev is not None else src.rev
    known = clone.refs(url)
    ref = clone.ref_of(known, new_rev)
    tip = known[ref] if ref else new_rev if new_rev and clone.is_commit_id(new_rev) else None
    if tip == src.commit and new_rev == src.rev:
        return result(rel, p, UNCHANGED, None)
    with clone.fetched(url, new_rev) as fetched:
        found = locate(fetched, src.path)
        source = RepoSource(src.repo, src.path, fetched.commit, new_rev)
        if found.item is None:
            _refuse_changes(repo, rel)  # the files are written over the workspace's
            entry, files = from_git(repo, fetched, found, rel)
            moved = None
        else:
            entry, files, moved = bring(repo, fetched, found, where, progress)
    return _settle(repo, rel, p, entry, files, source, moved)


def _from_url(
    repo: Repo, rel: str, p: Pointer, src: UrlSource, url: str, progress: Progress | None
) -> ImportResult:
    cfg = url_remote(url, repo.config, None)
    now = urls.describe(cfg)
    if src.same_object(now):
        return result(rel, p, UNCHANGED, None)
    oid, size = download(repo, cfg, now.size, progress)
    source = UrlSource(src.url, now.etag, now.version, now.size, now.mtime)
    return _settle(repo, rel, p, TreeEntry(p.path, FILE, oid, size), 1, source, None)


def _settle(
    repo: Repo,
    rel: str,
    p: Pointer,
    entry: TreeEntry,
    files: int,
    source: RepoSource | UrlSource,
    fetched: TransferResult | None,
) -> ImportResult:
    """Record the new version: the same object only rewrites the pointer's source."""
    if (entry.oid, entry.type) == (p.oid, p.kind):
        new = dataclasses.replace(p, source=source)
        if new != p:
            save(repo, rel, new)
        return result(rel, new, MOVED if new != p else UNCHANGED, fetched)
    _refuse_changes(repo, rel)  # before the pointer changes: all or nothing
    new = record(repo, rel, entry, files, source)
    return result(rel, new, UPDATED, fetched)


def _refuse_changes(repo: Repo, rel: str) -> None:
    """Files from git are written over the workspace's: not when it holds unsaved changes."""
    from dvlite.ops.status import MODIFIED, NEW, status

    report = status(repo, [repo.abspath(rel + pointers.SUFFIX)])
    if any(c.state in (NEW, MODIFIED) for t in report for c in t.changes):
        raise CheckoutError(
            f"{rel} has changes its pointer does not record; update would overwrite them: "
            f"`dvlite checkout --force {rel}` drops them, then run update again"
        )
