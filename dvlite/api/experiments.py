"""The API of experiments: exp run, show, diff, apply, branch, remove, gc, push and pull."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from dvlite.api.base import StrPath, open_repo
from dvlite.git.history import Revisions

if TYPE_CHECKING:
    from dvlite.ops.exp_manage import Applied
    from dvlite.ops.exp_run import Outcome
    from dvlite.ops.exp_show import ExpDiff, ExpRow
    from dvlite.ops.repro import Events
    from dvlite.transfer import TransferResult


def exp_run(
    set_params: Iterable[str] = (),
    *,
    name: str | None = None,
    queue: bool = False,
    on_event: Events | None = None,
    repo: StrPath | None = None,
) -> Outcome:
    """``dvlite exp run``: run the pipeline with ``set_params`` (``["train.lr=0.01",
    "conf.yaml:depth=3"]``) in a temporary work tree and record it as an experiment; with
    ``queue``, only queue it. The workspace, the index and the branches are untouched."""
    from dvlite.ops.exp_run import run

    return run(open_repo(repo), list(set_params), name=name, queue=queue, on_event=on_event)


def exp_run_all(
    *, jobs: int = 1, on_event: Events | None = None, repo: StrPath | None = None
) -> list[Outcome]:
    """``dvlite exp run --run-all``: run every queued experiment, ``jobs`` at a time."""
    from dvlite.ops.exp_run import run_queued

    return run_queued(open_repo(repo), jobs=jobs, on_event=on_event)


def exp_show(
    *,
    all_commits: bool = False,
    sort_by: str | None = None,
    desc: bool = False,
    repo: StrPath | None = None,
) -> list[ExpRow]:
    """``dvlite exp show``: the workspace, HEAD (or every commit) and their experiments, with
    params and metrics (``row.changed`` names what differs from the baseline)."""
    from dvlite.ops.exp_show import show

    return show(open_repo(repo), all_commits=all_commits, sort_by=sort_by, desc=desc)


def exp_diff(
    a: str, b: str | None = None, *, everything: bool = False, repo: StrPath | None = None
) -> ExpDiff:
    """``dvlite exp diff``: the params and metrics that changed from ``a`` to ``b``
    (``.params``, ``.metrics``: rows; ``.old``, ``.new``: what was compared)."""
    from dvlite.ops.exp_show import diff

    return diff(open_repo(repo), a, b, everything=everything)


def exp_apply(name: str, *, force: bool = False, repo: StrPath | None = None) -> Applied:
    """``dvlite exp apply``: the experiment's params, lock, metrics and outputs into the
    workspace (nothing committed); refuses to overwrite uncommitted changes unless ``force``."""
    from dvlite.ops.exp_manage import apply_exp

    return apply_exp(open_repo(repo), name, force=force)


def exp_branch(name: str, branch: str, *, repo: StrPath | None = None) -> str:
    """``dvlite exp branch``: a git branch at the experiment's commit; returns the commit."""
    from dvlite.ops.exp_manage import branch as do_branch

    return do_branch(open_repo(repo), name, branch)


def exp_remove(
    names: Iterable[str] = (),
    *,
    queued: bool = False,
    everything: bool = False,
    repo: StrPath | None = None,
) -> list[str]:
    """``dvlite exp remove``: drop experiments (their data stays until ``dvlite gc``)."""
    from dvlite.ops.exp_manage import remove

    return remove(open_repo(repo), list(names), queued=queued, everything=everything)


def exp_gc(
    revisions: Revisions = Revisions(),
    *,
    queued: bool = False,
    dry: bool = False,
    repo: StrPath | None = None,
) -> list[str]:
    """``dvlite exp gc``: drop the experiments not based on HEAD or on ``revisions``."""
    from dvlite.ops.exp_manage import gc

    return gc(open_repo(repo), revisions, queued=queued, dry=dry)


def exp_push(
    git_remote: str,
    names: Iterable[str],
    *,
    remote: str | None = None,
    repo: StrPath | None = None,
) -> TransferResult:
    """``dvlite exp push``: refs to the git remote, data to the data ``remote``."""
    from dvlite.ops.exp_manage import push

    return push(open_repo(repo), git_remote, list(names), remote=remote)


def exp_pull(
    git_remote: str,
    names: Iterable[str],
    *,
    remote: str | None = None,
    repo: StrPath | None = None,
) -> TransferResult:
    """``dvlite exp pull``: refs from the git remote, data into the cache."""
    from dvlite.ops.exp_manage import pull

    return pull(open_repo(repo), git_remote, list(names), remote=remote)
