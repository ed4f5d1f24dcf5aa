"""The API of pipelines: stage add, run, repro, dag, lineage, metrics and params."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from dvlite.api.base import StrPath, open_repo, path_in, paths_in

if TYPE_CHECKING:
    from dvlite.ops.lineage import Dependent, Node
    from dvlite.ops.metrics import Row, Values
    from dvlite.ops.repro import Events, ReproResult
    from dvlite.ops.stage_list import StageRow
    from dvlite.records.pipeline import Stage
    from dvlite.records.repo import Repo


def stage_add(
    name: str,
    cmd: str | Iterable[str],
    *,
    deps: Iterable[StrPath] = (),
    outs: Iterable[StrPath] = (),
    params: Iterable[str] = (),
    metrics: Iterable[StrPath] = (),
    plots: Iterable[StrPath] = (),
    force: bool = False,
    repo: StrPath | None = None,
) -> Stage:
    """``dvlite stage add``: declare a stage in dvlite.yaml; returns it. ``cmd`` is one shell
    line, or words that are quoted into one (``["python", "train.py"]``). ``plots`` are paths
    drawn by ``plots show`` (set x/y/template in dvlite.yaml)."""
    from dvlite.ops.repro import declare

    found = open_repo(repo)
    new = _new_stage(found, repo, name, cmd, deps, outs, params, metrics, plots)
    declare(found, new, force=force)
    return new


def stage_list(*, repo: StrPath | None = None) -> list[StageRow]:
    """``dvlite stage list``: every stage (foreach and matrix ones too) with its cmd, deps,
    outputs, desc, wdir and the family that made it."""
    from dvlite.ops.stage_list import stage_list as do_list

    return do_list(open_repo(repo))


def run(
    name: str,
    cmd: str | Iterable[str],
    *,
    deps: Iterable[StrPath] = (),
    outs: Iterable[StrPath] = (),
    params: Iterable[str] = (),
    metrics: Iterable[StrPath] = (),
    plots: Iterable[StrPath] = (),
    force: bool = False,
    jobs: int = 1,
    on_event: Events | None = None,
    repo: StrPath | None = None,
) -> ReproResult:
    """``dvlite run``: declare a stage (as ``stage_add``) and run it now."""
    from dvlite.ops.repro import run as do_run

    found = open_repo(repo)
    new = _new_stage(found, repo, name, cmd, deps, outs, params, metrics, plots)
    return do_run(found, new, force=force, jobs=jobs, on_event=on_event)


def repro(
    stages: str | Iterable[str] = (),
    *,
    dry: bool = False,
    force: bool = False,
    jobs: int = 1,
    downstream: bool = False,
    single_item: bool = False,
    run_cache: bool = True,
    pull: bool = False,
    remote: str | None = None,
    on_event: Events | None = None,
    repo: StrPath | None = None,
) -> ReproResult:
    """``dvlite repro``: run the stages that are out of date (all, or ``stages`` and what they
    need; with ``single_item``, only ``stages``) in order; ``result.plan`` says what ran and
    why. Events are ``(kind, stage, text)``, kind one of ``dvlite.ops.repro``'s START, OUTPUT
    (a line), RESTORED, DONE, SKIPPED, NOTE."""
    from dvlite.ops.repro import repro as do_repro

    names = [stages] if isinstance(stages, str) else list(stages)
    return do_repro(
        open_repo(repo), names, dry=dry, force=force, jobs=jobs, downstream=downstream,
        single=single_item, use_run_cache=run_cache, pull=pull, remote=remote, on_event=on_event,
    )  # fmt: skip


def dag(fmt: str = "ascii", *, repo: StrPath | None = None) -> str:
    """``dvlite dag``: the stage graph as text: ``ascii``, ``mermaid``, ``dot`` or ``json``."""
    from dvlite.records.dag import render
    from dvlite.records.pipeline import load

    return render(load(open_repo(repo).root), fmt)


def lineage(path: StrPath, *, rev: str | None = None, repo: StrPath | None = None) -> Node:
    """``dvlite lineage``: what produced ``path`` (at ``rev``, or in the workspace): a tree of
    ``Node``s (stage, command, params, inputs with their oids, commits)."""
    from dvlite.ops.lineage import lineage as do_lineage

    return do_lineage(open_repo(repo), path_in(repo, path), rev)


def downstream(
    path: StrPath, *, rev: str | None = None, repo: StrPath | None = None
) -> list[Dependent]:
    """``dvlite lineage --downstream``: every stage that depends on ``path``, in run order."""
    from dvlite.ops.lineage import downstream as do_downstream

    return do_downstream(open_repo(repo), path_in(repo, path), rev)


def metrics(
    revs: Iterable[str] | None = None, *, all_commits: bool = False, repo: StrPath | None = None
) -> dict[str, Values]:
    """``dvlite metrics show``: ``{revision: {file: {key: value}}}``; the workspace (labelled
    ``workspace``) by default, or ``revs``, or every commit."""
    from dvlite.ops.metrics import show

    return show(open_repo(repo), list(revs) if revs else None, all_commits=all_commits)


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

    return do_diff(open_repo(repo), a, b, everything=everything)


def params_diff(
    a: str | None = None,
    b: str | None = None,
    *,
    everything: bool = False,
    repo: StrPath | None = None,
) -> list[Row]:
    """``dvlite params diff``: params that differ from revision ``a`` to ``b``."""
    from dvlite.ops.metrics import params_diff as do_diff

    return do_diff(open_repo(repo), a, b, everything=everything)


def _new_stage(
    found: Repo,
    repo: StrPath | None,
    name: str,
    cmd: str | Iterable[str],
    deps: Iterable[StrPath],
    outs: Iterable[StrPath],
    params: Iterable[str],
    metrics: Iterable[StrPath],
    plots: Iterable[StrPath],
) -> Stage:
    from dvlite.ops.repro import new_stage

    return new_stage(
        found, name, cmd, deps=paths_in(repo, deps), outs=paths_in(repo, outs), params=params,
        metrics=paths_in(repo, metrics), plots=paths_in(repo, plots),
    )  # fmt: skip
