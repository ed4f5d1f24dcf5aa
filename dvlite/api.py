"""The Python API: one function per command, for notebooks and scripts (``import dvlite;
dvlite.add("data")``). ``dvlite/__init__.py`` hands these out on first use.

Each function finds the repository from ``repo`` (a folder in it; default: the current
folder, as the CLI does), calls the one library function its command calls, and returns that
function's result: dataclasses with ``to_dict()`` (what ``--json`` prints). Relative paths
are taken from ``repo`` when it is given, from the current folder otherwise. Failures raise
``dvlite.errors.DvliteError`` subclasses; nothing is printed. Long operations report to
``progress`` (``dvlite.progress.Progress``: ``start(files, size)``, ``advance(files, size)``);
``repro`` and ``run`` report what stages do to ``on_event(kind, stage, text)``.

The work stays in the library modules: a function here is a few lines, never logic.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from dvlite.errors import ArgumentError
from dvlite.git.history import Revisions

if TYPE_CHECKING:
    from dvlite.ops.add import AddResult
    from dvlite.ops.checkout import CheckoutResult
    from dvlite.ops.diff import DiffResult
    from dvlite.ops.fsck import FsckResult
    from dvlite.ops.gc import GcResult
    from dvlite.ops.lineage import Dependent, Node
    from dvlite.ops.ls import LsEntry
    from dvlite.ops.metrics import Row, Values
    from dvlite.ops.remote_status import RemoteFsckResult, RemoteStatus
    from dvlite.ops.repro import Events, ReproResult
    from dvlite.ops.status import TargetStatus
    from dvlite.progress import Progress
    from dvlite.records.pipeline import Stage
    from dvlite.records.repo import Repo
    from dvlite.remote import RemoteConfig
    from dvlite.transfer import TransferResult

StrPath = str | os.PathLike[str]
Paths = StrPath | Iterable[StrPath]  # one path, or a list of them

# the public names are listed once, in dvlite/__init__.py (__all__)


# -- helpers -----------------------------------------------------------------------------------
def _open(repo: StrPath | None) -> Repo:
    from dvlite.records.repo import Repo

    found = Repo.find(None if repo is None else os.fspath(repo))
    found.config  # noqa: B018  (a malformed config file is reported at once, as the CLI does)
    return found


def _path(repo: StrPath | None, path: StrPath) -> str:
    """``path`` as the library takes it: a relative one is taken from ``repo`` when given."""
    path = os.fspath(path)
    return path if repo is None else os.path.join(os.path.abspath(repo), path)


def _paths(repo: StrPath | None, paths: Paths | None) -> list[str]:
    if paths is None:
        return []
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    return [_path(repo, p) for p in paths]


def _new_stage(
    found: Repo,
    repo: StrPath | None,
    name: str,
    cmd: str | Iterable[str],
    deps: Iterable[StrPath],
    outs: Iterable[StrPath],
    params: Iterable[str],
    metrics: Iterable[StrPath],
) -> Stage:
    from dvlite.ops.repro import new_stage

    return new_stage(
        found, name, cmd, deps=_paths(repo, deps), outs=_paths(repo, outs), params=params,
        metrics=_paths(repo, metrics),
    )  # fmt: skip


# -- local data --------------------------------------------------------------------------------
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

    return do_add(_open(repo), _paths(repo, targets), stage=stage, progress=progress)


def status(targets: Paths | None = None, *, repo: StrPath | None = None) -> list[TargetStatus]:
    """``dvlite status``: every tracked item (and stage) that is not clean; empty when clean."""
    from dvlite.ops.status import status as do_status

    return do_status(_open(repo), _paths(repo, targets))


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

    found = _open(repo)
    return do_checkout(found, _paths(repo, targets), force=force, relink=relink, progress=progress)


def unprotect(targets: Paths, *, repo: StrPath | None = None) -> list[str]:
    """``dvlite unprotect``: make linked files into writable copies; returns their paths."""
    from dvlite.ops.unprotect import unprotect as do_unprotect

    return do_unprotect(_open(repo), _paths(repo, targets))


def remove(targets: Paths, *, repo: StrPath | None = None) -> list[str]:
    """``dvlite remove``: stop tracking (the data stays); returns the removed pointers."""
    from dvlite.ops.remove import remove as do_remove

    return do_remove(_open(repo), _paths(repo, targets))


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

    return do_fsck(_open(repo), progress, repair=repair, remote=remote)


# -- remotes -----------------------------------------------------------------------------------
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
    from dvlite.remote import protocol_of
    from dvlite.remote.settings import add as do_add

    url = os.path.expanduser(url)
    if repo is not None and not (
        protocol_of(url) or url.startswith("file://") or os.path.isabs(url)
    ):
        url = os.path.relpath(_path(repo, url))  # taken from repo=; stored relative to the root
    level = "local" if local else "repo"
    do_add(_open(repo), name, url, default=default, force=force, level=level)


def remote_remove(name: str, *, repo: StrPath | None = None) -> None:
    """``dvlite remote remove``: forget a remote (its objects stay where they are)."""
    from dvlite.remote.settings import remove as do_remove

    do_remove(_open(repo), name)


def remotes(*, repo: StrPath | None = None) -> dict[str, RemoteConfig]:
    """``dvlite remote list``: the configured remotes by name (``dvlite.remote.default_name``
    says which is the default)."""
    from dvlite.remote import configured

    return configured(_open(repo))


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
    """``dvlite push``: upload what the remote lacks of the tracked data (or ``targets``), and
    of the data of ``revs`` and of every branch tip, tag or commit. Raises TransferError (its
    ``result`` says what moved) when some objects could not be sent."""
    from dvlite.transfer import push as do_push

    return do_push(
        _open(repo), _paths(repo, targets), remote=remote, jobs=jobs,
        revisions=revisions,
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
        _open(repo), _paths(repo, targets), remote=remote, jobs=jobs,
        revisions=revisions,
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
        _open(repo), _paths(repo, targets), remote=remote, jobs=jobs,
        revisions=revisions,
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

    return do_remote_status(_open(repo), _paths(repo, targets), remote=remote, jobs=jobs)


def fsck_remote(
    *,
    remote: str | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    repo: StrPath | None = None,
) -> RemoteFsckResult:
    """``dvlite fsck --remote``: hash every object on the remote."""
    from dvlite.ops.remote_status import fsck_remote as do_fsck_remote

    return do_fsck_remote(_open(repo), remote=remote, jobs=jobs, progress=progress)


# -- pipelines ---------------------------------------------------------------------------------
def stage_add(
    name: str,
    cmd: str | Iterable[str],
    *,
    deps: Iterable[StrPath] = (),
    outs: Iterable[StrPath] = (),
    params: Iterable[str] = (),
    metrics: Iterable[StrPath] = (),
    force: bool = False,
    repo: StrPath | None = None,
) -> Stage:
    """``dvlite stage add``: declare a stage in dvlite.yaml; returns it. ``cmd`` is one shell
    line, or words that are quoted into one (``["python", "train.py"]``)."""
    from dvlite.ops.repro import declare

    found = _open(repo)
    new = _new_stage(found, repo, name, cmd, deps, outs, params, metrics)
    declare(found, new, force=force)
    return new


def run(
    name: str,
    cmd: str | Iterable[str],
    *,
    deps: Iterable[StrPath] = (),
    outs: Iterable[StrPath] = (),
    params: Iterable[str] = (),
    metrics: Iterable[StrPath] = (),
    force: bool = False,
    jobs: int = 1,
    on_event: Events | None = None,
    repo: StrPath | None = None,
) -> ReproResult:
    """``dvlite run``: declare a stage (as ``stage_add``) and run it now."""
    from dvlite.ops.repro import run as do_run

    found = _open(repo)
    new = _new_stage(found, repo, name, cmd, deps, outs, params, metrics)
    return do_run(found, new, force=force, jobs=jobs, on_event=on_event)


def repro(
    stages: str | Iterable[str] = (),
    *,
    dry: bool = False,
    force: bool = False,
    jobs: int = 1,
    downstream: bool = False,
    run_cache: bool = True,
    pull: bool = False,
    remote: str | None = None,
    on_event: Events | None = None,
    repo: StrPath | None = None,
) -> ReproResult:
    """``dvlite repro``: run the stages that are out of date (all, or ``stages`` and what
    they need) in order; ``result.plan`` says what ran and why. Events are
    ``(kind, stage, text)`` with kind one of ``dvlite.ops.repro``'s START, OUTPUT (a line the
    command printed), RESTORED, DONE, SKIPPED, NOTE."""
    from dvlite.ops.repro import repro as do_repro

    names = [stages] if isinstance(stages, str) else list(stages)
    return do_repro(
        _open(repo), names, dry=dry, force=force, jobs=jobs, downstream=downstream,
        use_run_cache=run_cache, pull=pull, remote=remote, on_event=on_event,
    )  # fmt: skip


def dag(fmt: str = "ascii", *, repo: StrPath | None = None) -> str:
    """``dvlite dag``: the stage graph as text: ``ascii``, ``mermaid``, ``dot`` or ``json``."""
    from dvlite.records.dag import render
    from dvlite.records.pipeline import load

    return render(load(_open(repo).root), fmt)


def lineage(path: StrPath, *, rev: str | None = None, repo: StrPath | None = None) -> Node:
    """``dvlite lineage``: what produced ``path`` (at ``rev``, or in the workspace): a tree of
    ``Node``s (stage, command, params, inputs with their oids, commits)."""
    from dvlite.ops.lineage import lineage as do_lineage

    return do_lineage(_open(repo), _path(repo, path), rev)


def downstream(
    path: StrPath, *, rev: str | None = None, repo: StrPath | None = None
) -> list[Dependent]:
    """``dvlite lineage --downstream``: every stage that depends on ``path``, in run order."""
    from dvlite.ops.lineage import downstream as do_downstream

    return do_downstream(_open(repo), _path(repo, path), rev)


def metrics(
    revs: Iterable[str] | None = None, *, all_commits: bool = False, repo: StrPath | None = None
) -> dict[str, Values]:
    """``dvlite metrics show``: ``{revision: {file: {key: value}}}``; the workspace (labelled
    ``workspace``) by default, or ``revs``, or every commit."""
    from dvlite.ops.metrics import show

    return show(_open(repo), list(revs) if revs else None, all_commits=all_commits)


def metrics_diff(
    a: str | None = None,
    b: str | None = None,
    *,
    everything: bool = False,
    repo: StrPath | None = None,
) -> list[Row]:
    """``dvlite metrics diff``: metrics that differ from revision ``a`` (default HEAD) to ``b``
    (default: the workspace); ``everything`` (``--all``) keeps unchanged ones too."""
    from dvlite.ops.metrics import diff as do_diff

    return do_diff(_open(repo), a, b, everything=everything)


def params_diff(
    a: str | None = None,
    b: str | None = None,
    *,
    everything: bool = False,
    repo: StrPath | None = None,
) -> list[Row]:
    """``dvlite params diff``: params that differ from revision ``a`` to ``b``."""
    from dvlite.ops.metrics import params_diff as do_diff

    return do_diff(_open(repo), a, b, everything=everything)


# -- git -----------------------------------------------------------------------------------------
def diff(a: str | None = None, b: str | None = None, *, repo: StrPath | None = None) -> DiffResult:
    """``dvlite diff``: data files added, modified, deleted and renamed from revision ``a``
    (default HEAD) to ``b`` (default: the workspace)."""
    from dvlite.ops.diff import diff as do_diff

    return do_diff(_open(repo), a, b)


def ls(
    path: StrPath | None = None, *, rev: str | None = None, repo: StrPath | None = None
) -> list[LsEntry]:
    """``dvlite ls``: the tracked files (inside tracked folders too) with their size and oid."""
    from dvlite.ops.ls import ls as do_ls

    return do_ls(_open(repo), None if path is None else _path(repo, path), rev)


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
    """``dvlite gc``: remove cache objects (with ``cloud``, remote objects) that no kept
    revision uses. Say what to keep, as the CLI asks: ``workspace=True`` (the workspace only)
    or ``revisions``; the workspace is always kept."""
    from dvlite.ops.gc import gc as do_gc

    if remote and not cloud:
        raise ArgumentError("remote= goes with cloud=True")
    if not (workspace or revisions):
        raise ArgumentError(
            "say what to keep: workspace=True (the workspace only) or revisions=Revisions(...)"
        )
    return do_gc(_open(repo), revisions=revisions, cloud=cloud, remote=remote, dry=dry, force=force)
