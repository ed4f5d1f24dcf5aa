"""The API of remotes: remote add/remove/list/repack, push, fetch, pull, status --remote,
fsck --remote."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from dvlite.api.base import Paths, StrPath, open_repo, paths_in
from dvlite.git.history import Revisions

if TYPE_CHECKING:
    from dvlite.ops.remote_repack import RemoteRepackResult
    from dvlite.ops.remote_status import RemoteFsckResult, RemoteStatus
    from dvlite.progress import Progress
    from dvlite.remote import RemoteConfig
    from dvlite.transfer import TransferResult


def remote_add(
    name: str,
    url: str,
    *,
    default: bool = False,
    force: bool = False,
    local: bool = False,
    repo: StrPath | None = None,
) -> None:
    """``dvlite remote add``: a folder path, s3://bucket/prefix or any fsspec URL. ``local``
    writes to .dvlite/config.local (git-ignored)."""
    from dvlite.remote.settings import add as do_add

    url = os.path.expanduser(url)  # a relative path is taken from repo= when it is given
    level = "local" if local else "repo"
    do_add(open_repo(repo), name, url, default=default, force=force, level=level, base=repo or "")


def remote_remove(name: str, *, repo: StrPath | None = None) -> None:
    """``dvlite remote remove``: forget a remote (its objects stay where they are)."""
    from dvlite.remote.settings import remove as do_remove

    do_remove(open_repo(repo), name)


def remote_rename(
    old: str, new: str, *, include_global: bool = False, repo: StrPath | None = None
) -> list[str]:
    """``dvlite remote rename``: rename a remote in each config level that defines it
    (``core.remote`` follows); returns those levels (``repo``, ``local``, ``global``)."""
    from dvlite.remote.settings import rename

    return rename(open_repo(repo), old, new, include_global=include_global)


def remotes(*, repo: StrPath | None = None) -> dict[str, RemoteConfig]:
    """``dvlite remote list``: the configured remotes by name (``dvlite.remote.default_name``
    says which is the default)."""
    from dvlite.remote import configured

    return configured(open_repo(repo))


def push(
    targets: Paths | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    revisions: Revisions = Revisions(),
    run_cache: bool = True,
    progress: Progress | None = None,
    repo: StrPath | None = None,
) -> TransferResult:
    """``dvlite push``: upload what the remote lacks of the tracked data (or ``targets``) and of
    ``revisions``. TransferError (its ``result`` says what moved) when some could not be sent."""
    from dvlite.transfer import push as do_push

    return do_push(
        open_repo(repo), paths_in(repo, targets), remote=remote, jobs=jobs, revisions=revisions,
        run_cache=run_cache, progress=progress,
    )  # fmt: skip


def fetch(
    targets: Paths | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    revisions: Revisions = Revisions(),
    run_cache: bool = True,
    progress: Progress | None = None,
    repo: StrPath | None = None,
) -> TransferResult:
    """``dvlite fetch``: download what the cache lacks; the workspace is untouched."""
    from dvlite.transfer import fetch as do_fetch

    return do_fetch(
        open_repo(repo), paths_in(repo, targets), remote=remote, jobs=jobs, revisions=revisions,
        run_cache=run_cache, progress=progress,
    )  # fmt: skip


def pull(
    targets: Paths | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    revisions: Revisions = Revisions(),
    run_cache: bool = True,
    force: bool = False,
    progress: Progress | None = None,
    repo: StrPath | None = None,
) -> TransferResult:
    """``dvlite pull``: fetch, then check out (``result.checkout`` says what changed)."""
    from dvlite.ops.pull import pull as do_pull

    return do_pull(
        open_repo(repo), paths_in(repo, targets), remote=remote, jobs=jobs, revisions=revisions,
        run_cache=run_cache, force=force, progress=progress,
    )  # fmt: skip


def remote_status(
    targets: Paths | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    repo: StrPath | None = None,
) -> RemoteStatus:
    """``dvlite status --remote``: what the remote lacks, and what the cache lacks
    (``result.clean`` when they are in sync)."""
    from dvlite.ops.remote_status import remote_status as do_remote_status

    return do_remote_status(open_repo(repo), paths_in(repo, targets), remote=remote, jobs=jobs)


def fsck_remote(
    *,
    remote: str | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    repo: StrPath | None = None,
) -> RemoteFsckResult:
    """``dvlite fsck --remote``: hash every object on the remote."""
    from dvlite.ops.remote_status import fsck_remote as do_fsck_remote

    return do_fsck_remote(open_repo(repo), remote=remote, jobs=jobs, progress=progress)


def remote_repack(
    name: str | None = None, *, dry: bool = False, repo: StrPath | None = None
) -> RemoteRepackResult:
    """``dvlite remote repack``: pack a format 1 remote's objects (then its config says format 2),
    or merge a format 2 remote's index files and rewrite its small or sparse packs."""
    from dvlite.ops.remote_repack import remote_repack as do_remote_repack

    return do_remote_repack(open_repo(repo), name, dry=dry)
