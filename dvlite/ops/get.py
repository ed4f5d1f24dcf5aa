"""``dvlite get``: data another git repository tracks (or a file git tracks there), at one of its
revisions, downloaded from that repository's remote and written here, untracked. One shallow
fetch of the commit (``git/clone.py``), its pointers read as blobs, exactly the objects of the
path fetched (verified by oid) into this repository's cache, or a temporary one outside a
repository, then written as copies. ``import`` and ``ls URL`` are built on the same steps."""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dvlite.errors import NotARepoError, PathError, SourceError
from dvlite.git import clone, history
from dvlite.git import cmd as gitcmd
from dvlite.objects import fsutil, tree
from dvlite.objects.tree import DIR, FILE, TreeEntry
from dvlite.ops.model_get import discard_path, in_cache, put_in_place, write_copy
from dvlite.progress import Progress
from dvlite.records.config import Config
from dvlite.records.repo import DVLITE_DIR, Repo
from dvlite.records.tracked import Tracked
from dvlite.remote import Remote, from_config
from dvlite.remote.foreign import given, source_remote
from dvlite.safepath import Confined, rel_problem
from dvlite.transfer.fetch import Fetcher
from dvlite.transfer.result import TransferResult
from dvlite.transfer.roots import Root

GIT_MODES = {"100644": False, "100755": True}  # regular files git tracks (not links, submodules)


@dataclass(frozen=True)
class Found:
    """What a path is in the source at its commit: data dvlite tracks (``item``, the pointer
    or lock entry holding it) or files git tracks (``git_files``: path, mode, blob)."""

    rel: str
    item: Tracked | None = None
    git_files: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Where:
    """How to reach the source's data: its remote's name (else the default) or a URL the
    user typed instead."""

    remote: str | None = None
    remote_url: str | None = None
    jobs: int | None = None


@dataclass(frozen=True)
class GetResult:
    url: str
    rev: str | None
    commit: str
    path: str  # in the source
    out: str  # where it was written
    kind: str
    oid: str | None  # None for files git tracks
    size: int
    files: int
    fetched: TransferResult | None  # None: nothing fetched (the cache had it, or git files)

    def to_dict(self) -> dict[str, object]:
        d = dict(self.__dict__)
        d["fetched"] = self.fetched.to_dict() if self.fetched else None
        return d


def source_path(path: str) -> str:
    """The repository-relative path the user named in the source (``./data/``: ``data``)."""
    norm = posixpath.normpath(path.replace(os.sep, "/")) if path else ""
    why = rel_problem(norm) if norm not in ("", ".") else "is the repository root"
    if why is not None:
        raise SourceError(f"refusing the path {path!r} in the source repository: it {why}")
    return norm


def locate(src: clone.Source, rel: str) -> Found:
    """What ``rel`` is at the source's commit; SourceError when neither dvlite nor git tracks
    it there (a crafted pointer there is refused as any committed pointer is)."""
    label = f"{src.url}@{src.rev or src.commit[:12]}"
    items = history.tracked_at_commits(src.repo, [src.commit], [label])[0]
    if rel.endswith(".dvl"):
        rel = rel[: -len(".dvl")]
    for item in items:
        if rel == item.rel or rel.startswith(item.rel + "/"):
            return Found(rel, item)
    files = src.files_under(rel)
    if files:
        return Found(rel, git_files=files)
    at = f" at {src.rev}" if src.rev else ""
    inside = sorted(i.rel for i in items if i.rel.startswith(rel + "/"))
    hint = f" (it holds tracked {', '.join(inside[:3])}: name one of them)" if inside else ""
    raise SourceError(f"{rel} is not tracked in {src.url}{at}, by dvlite or git{hint}")


def open_remote(src: clone.Source, where: Where | None, own: Config) -> Remote:
    """The source's remote by the rules of ``remote/foreign.py``, checked reachable."""
    where = where or Where()
    if where.remote_url:
        cfg, base = given(where.remote_url, own)
    else:
        cfg, base = source_remote(
            src.read(f"{DVLITE_DIR}/config"), src.url, name=where.remote, local=src.local, own=own
        )
    rem = from_config(cfg, base, jobs=where.jobs)
    try:
        rem.check_reachable()
    except Exception as exc:  # RemoteError, or a backend's own
        raise SourceError(f"cannot reach the remote of {src.url}: {exc}") from None
    return rem


@contextmanager
def cache_repo(repo: Repo | None) -> Iterator[Repo]:
    """The repository whose cache receives the objects, locked: ``repo``, or a temporary one
    (removed afterwards) when the command runs outside a dvlite repository."""
    if repo is not None:
        with repo.lock():
            yield repo
        return
    tmp = Path(tempfile.mkdtemp(prefix="dvlite-get-"))
    try:
        (tmp / DVLITE_DIR).mkdir()
        temp = Repo(tmp)
        with temp.lock():
            yield temp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fetch(
    into: Repo, rem: Remote, found: Found, progress: Progress | None
) -> tuple[TreeEntry, TransferResult | None]:
    """Fetch what ``into``'s cache lacks of ``found`` (dvlite data); its entry, and what moved."""
    assert found.item is not None
    item = found.item
    fetcher = Fetcher(into, rem)
    entry, above = item.entry, list[str]()
    if found.rel != item.rel:
        sub, above = tree.lookup(
            fetcher.load_tree, item.entry, item.rel, found.rel, source=item.source
        )
        if sub is None:
            raise SourceError(f"{found.rel} is not in {item.rel} (tracked by {item.source})")
        entry = sub
    if in_cache(into, entry, found.rel):
        return entry, None
    result = fetcher.run([Root(found.rel, entry, item.source, tuple(above))], progress)
    if result.failed:
        first = result.failed[0]
        more = f" and {len(result.failed) - 1} more" if len(result.failed) > 1 else ""
        raise SourceError(
            f"the remote of the source lacks objects of {found.rel}: {first}{more}; whoever "
            "publishes that repository must `dvlite push` them"
        )
    return entry, result


def find_repo() -> Repo | None:
    """The dvlite repository around the current folder, if there is one."""
    try:
        return Repo.find()
    except NotARepoError:
        return None


def check_out(out: str | None, rel: str, force: bool) -> str:
    """The absolute path to write (``out``, else the path's name here); PathError if taken."""
    dest = os.path.abspath(out or posixpath.basename(rel))
    if os.path.lexists(dest) and not force:
        raise PathError(
            f"{out or os.path.basename(dest)} already exists; use --force to replace it"
        )
    return dest


def get(
    url: str,
    path: str,
    *,
    rev: str | None = None,
    out: str | None = None,
    where: Where | None = None,
    force: bool = False,
    repo: Repo | None = None,
    progress: Progress | None = None,
) -> GetResult:
    """Write ``path`` of the repository at ``url`` (at ``rev``) at ``out``; objects go through
    ``repo``'s cache (None: a temporary one)."""
    rel = source_path(path)
    with clone.fetched(url, rev) as src:
        found = locate(src, rel)
        dest = check_out(out, found.rel, force)
        if found.item is None:
            size, files = write_git_files(src, found, dest)
            kind = DIR if files > 1 or found.git_files[0][0] != found.rel else FILE
            return GetResult(url, rev, src.commit, found.rel, dest, kind, None, size, files, None)
        own = repo.config if repo is not None else Config(None)
        rem = open_remote(src, where, own)
        with cache_repo(repo) as into:
            entry, fetched = fetch(into, rem, found, progress)
            write_copy(into, entry, found.rel, dest)
        files = _count(into, entry, found) if entry.type == DIR else 1
        return GetResult(
            url, rev, src.commit, found.rel, dest, entry.type, entry.oid, entry.size, files, fetched
        )


def _count(into: Repo, entry: TreeEntry, found: Found) -> int:
    item = found.item
    if item is not None and entry.oid == item.pointer.oid:
        return item.pointer.files
    return sum(1 for _ in tree.files(into.cache.load_tree, entry, found.rel))


def write_git_files(src: clone.Source, found: Found, dest: str) -> tuple[int, int]:
    """Write the files git tracks at ``found`` to ``dest`` (one file, or a folder of them);
    their bytes and count. Links and submodules are refused, every path checked."""
    files = found.git_files
    for path, mode, _ in files:
        if mode not in GIT_MODES:
            raise SourceError(
                f"{path} in {src.url} is a symlink or submodule; get writes files only"
            )
    blobs = gitcmd.read_blobs(src.repo.root, sorted({sha for _, _, sha in files}))
    single = len(files) == 1 and files[0][0] == found.rel
    os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
    tmp = fsutil.tmp_name(dest)
    size = 0
    try:
        if not single:
            os.mkdir(tmp)
            confined = Confined(tmp)
        for path, mode, sha in files:
            data = blobs.get(sha)
            if data is None:
                raise SourceError(f"git cannot read {path} in {src.url}")
            target = tmp if single else _target(confined, path[len(found.rel) + 1 :], src.url)
            with open(target, "xb") as f:
                f.write(data)
            if GIT_MODES[mode]:
                executable = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
                os.chmod(target, os.stat(target).st_mode | executable)
            size += len(data)
        put_in_place(tmp, dest, not single)
    except BaseException:
        discard_path(tmp)
        raise
    return size, len(files)


def _target(confined: Confined, rel: str, where: str) -> str:
    target = confined.target(rel, where)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    return target
