"""The API of the commands on local data and history: init, add, status, checkout, unprotect,
remove, fsck, diff, ls, gc."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from dvlite.api.base import Paths, StrPath, open_repo, path_in, paths_in
from dvlite.errors import ArgumentError
from dvlite.git.history import Revisions

if TYPE_CHECKING:
    from dvlite.ops.add import AddResult
    from dvlite.ops.checkout import CheckoutResult
    from dvlite.ops.diff import DiffResult
    from dvlite.ops.fsck import FsckResult
    from dvlite.ops.gc import GcResult
    from dvlite.ops.ls import LsEntry
    from dvlite.ops.status import TargetStatus
    from dvlite.progress import Progress
    from dvlite.records.repo import Repo


def init(repo: StrPath | None = None, *, no_scm: bool = False, force: bool = False) -> Repo:
    """``dvlite init``: make .dvlite/ at the root of the git repository ``repo`` is in (with
    ``no_scm``: in ``repo`` itself, a plain folder)."""
    from dvlite.ops.init import init as do_init

    return do_init(None if repo is None else os.fspath(repo), no_scm=no_scm, force=force)


def add(
    targets: Paths,
    *,
    stage: bool | None = None,
    progress: Progress | None = None,
    repo: StrPath | None = None,
) -> list[AddResult]:
    """``dvlite add``: store files or folders in the cache and write their .dvl pointers.
    ``stage=False`` is ``--no-stage`` (default: ``git add`` them, as core.autostage says)."""
    from dvlite.ops.add import add as do_add

    return do_add(open_repo(repo), paths_in(repo, targets), stage=stage, progress=progress)


def status(targets: Paths | None = None, *, repo: StrPath | None = None) -> list[TargetStatus]:
    """``dvlite status``: every tracked item (and stage) that is not clean; empty when clean."""
    from dvlite.ops.status import status as do_status

    return do_status(open_repo(repo), paths_in(repo, targets))


def checkout(
    targets: Paths | None = None,
    *,
    force: bool = False,
    relink: bool = False,
    progress: Progress | None = None,
    repo: StrPath | None = None,
) -> CheckoutResult:
    """``dvlite checkout``: make the workspace match the pointers (all, or ``targets``)."""
    from dvlite.ops.checkout import checkout as do_checkout

    paths = paths_in(repo, targets)
    return do_checkout(open_repo(repo), paths, force=force, relink=relink, progress=progress)


def unprotect(targets: Paths, *, repo: StrPath | None = None) -> list[str]:
    """``dvlite unprotect``: make linked files into writable copies; returns their paths."""
    from dvlite.ops.unprotect import unprotect as do_unprotect

    return do_unprotect(open_repo(repo), paths_in(repo, targets))


def remove(targets: Paths, *, repo: StrPath | None = None) -> list[str]:
    """``dvlite remove``: stop tracking (the data stays); returns the removed pointers."""
    from dvlite.ops.remove import remove as do_remove

    return do_remove(open_repo(repo), paths_in(repo, targets))


def fsck(
    *,
    repair: bool = False,
    remote: str | None = None,
    progress: Progress | None = None,
    repo: StrPath | None = None,
) -> FsckResult:
    """``dvlite fsck [--repair [-r REMOTE]]``: re-hash every cache object; ``result.ok`` says
    whether all is well. With ``repair``, fetch good copies from ``remote`` and check again."""
    from dvlite.ops.fsck import fsck as do_fsck

    return do_fsck(open_repo(repo), progress, repair=repair, remote=remote)


def diff(a: str | None = None, b: str | None = None, *, repo: StrPath | None = None) -> DiffResult:
    """``dvlite diff``: data files added, modified, deleted and renamed from revision ``a``
    (default HEAD) to ``b`` (default: the workspace)."""
    from dvlite.ops.diff import diff as do_diff

    return do_diff(open_repo(repo), a, b)


def ls(
    path: StrPath | None = None, *, rev: str | None = None, repo: StrPath | None = None
) -> list[LsEntry]:
    """``dvlite ls``: the tracked files (inside tracked folders too) with their size and oid."""
    from dvlite.ops.ls import ls as do_ls

    return do_ls(open_repo(repo), None if path is None else path_in(repo, path), rev)


def gc(
    *,
    workspace: bool = False,
    revisions: Revisions = Revisions(),
    cloud: bool = False,
    remote: str | None = None,
    dry: bool = False,
    force: bool = False,
    repo: StrPath | None = None,
) -> GcResult:
    """``dvlite gc``: remove cache (with ``cloud``, remote) objects that no kept revision uses.
    Say what to keep: ``workspace=True`` (only it) or ``revisions`` (and the workspace)."""
    from dvlite.ops.gc import gc as do_gc

    if remote and not cloud:
        raise ArgumentError("remote= goes with cloud=True")
    if not (workspace or revisions):
        raise ArgumentError(
            "say what to keep: workspace=True (the workspace only) or revisions=Revisions(...)"
        )
    return do_gc(
        open_repo(repo), revisions=revisions, cloud=cloud, remote=remote, dry=dry, force=force
    )
