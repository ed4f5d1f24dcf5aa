"""The API of sharing data between repositories (get, import, import-url, update, ls URL) and
of migrating a DVC project (migrate-dvc)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from dvlite.api.base import Paths, StrPath, open_repo, path_in, paths_in

if TYPE_CHECKING:
    from dvlite.ops.get import GetResult, Where
    from dvlite.ops.imports import ImportResult
    from dvlite.ops.ls import LsEntry
    from dvlite.ops.migrate import MigrateResult
    from dvlite.progress import Progress
    from dvlite.records.repo import Repo


def _maybe_repo(repo: StrPath | None) -> Repo | None:
    """The dvlite repository at ``repo`` (default: around the current folder), if any."""
    if repo is not None:
        return open_repo(repo)
    from dvlite.ops.get import find_repo

    return find_repo()


def _where(remote: str | None, remote_url: str | None, jobs: int | None) -> Where:
    from dvlite.ops.get import Where

    return Where(remote, remote_url, jobs)


def get(
    url: str,
    path: str,
    *,
    rev: str | None = None,
    out: StrPath | None = None,
    remote: str | None = None,
    remote_url: str | None = None,
    jobs: int | None = None,
    force: bool = False,
    progress: Progress | None = None,
    repo: StrPath | None = None,
) -> GetResult:
    """``dvlite get``: write ``path`` of the git repository at ``url`` (at ``rev``) at ``out``
    (default: its name), untracked; objects pass through this repository's cache, or a
    temporary one outside a repository. ``remote`` names one of the source's remotes,
    ``remote_url`` replaces it."""
    from dvlite.ops.get import get as do_get

    dest = None if out is None else path_in(repo, os.fspath(out))
    where = _where(remote, remote_url, jobs)
    found = _maybe_repo(repo)
    return do_get(
        url, path, rev=rev, out=dest, where=where, force=force, repo=found, progress=progress
    )


def import_data(
    url: str,
    path: str,
    *,
    rev: str | None = None,
    out: StrPath | None = None,
    remote: str | None = None,
    remote_url: str | None = None,
    jobs: int | None = None,
    force: bool = False,
    progress: Progress | None = None,
    repo: StrPath | None = None,
) -> ImportResult:
    """``dvlite import``: ``get``, tracked here by a pointer that records its source."""
    from dvlite.ops.imports import import_repo

    dest = None if out is None else path_in(repo, os.fspath(out))
    return import_repo(
        open_repo(repo),
        url,
        path,
        rev=rev,
        out=dest,
        where=_where(remote, remote_url, jobs),
        force=force,
        progress=progress,
    )


def import_url(
    url: str,
    out: StrPath | None = None,
    *,
    remote: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
    repo: StrPath | None = None,
) -> ImportResult:
    """``dvlite import-url``: one object at ``url``, tracked with its ETag/version; ``remote``
    names one of your remotes whose options (endpoint, credentials) reach it."""
    from dvlite.ops.import_url import import_url as do_import_url

    dest = None if out is None else path_in(repo, os.fspath(out))
    return do_import_url(open_repo(repo), url, dest, remote=remote, force=force, progress=progress)


def update(
    targets: Paths | None = None,
    *,
    rev: str | None = None,
    remote: str | None = None,
    remote_url: str | None = None,
    jobs: int | None = None,
    allow_local: bool = False,
    progress: Progress | None = None,
    repo: StrPath | None = None,
) -> list[ImportResult]:
    """``dvlite update``: move imports (all, or ``targets``) to their source's newest version
    (``rev``: to that revision); ``allow_local`` follows sources on this machine."""
    from dvlite.ops.update import update as do_update

    return do_update(
        open_repo(repo),
        paths_in(repo, targets) or None,
        rev=rev,
        where=_where(remote, remote_url, jobs),
        allow_local=allow_local,
        progress=progress,
    )


def ls_url(
    url: str,
    path: str | None = None,
    *,
    rev: str | None = None,
    remote: str | None = None,
    remote_url: str | None = None,
    repo: StrPath | None = None,
) -> list[LsEntry]:
    """``dvlite ls URL``: what the git repository at ``url`` tracks (at ``rev``) under
    ``path``, with size and oid, inside folders where its remote has their trees."""
    from dvlite.ops.ls import ls_url as do_ls_url

    where = _where(remote, remote_url, None)
    return do_ls_url(url, path, rev, where=where, repo=_maybe_repo(repo))


def migrate_dvc(
    *, dry: bool = False, remove_dvc: bool = False, repo: StrPath | None = None
) -> MigrateResult:
    """``dvlite migrate-dvc``: convert the DVC project at ``repo`` (default: the current
    folder's git repository) into dvlite's files; ``dry`` only plans."""
    from dvlite.ops.migrate import migrate

    return migrate(None if repo is None else os.fspath(repo), dry=dry, remove_dvc=remove_dvc)
