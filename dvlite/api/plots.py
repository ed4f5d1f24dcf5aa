"""The API of plots and the report: plots show, plots diff, report."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from dvlite.api.base import StrPath, open_repo, path_in, paths_in

if TYPE_CHECKING:
    from dvlite.ops.plots import PlotsResult
    from dvlite.ops.report import ReportResult


def plots_show(
    targets: Iterable[StrPath] = (),
    *,
    out: StrPath | None = None,
    write: bool = True,
    repo: StrPath | None = None,
) -> PlotsResult:
    """``dvlite plots show``: draw the workspace's plots (all, or ``targets``: plot files,
    folders of them, stage names) into one HTML file, ``out`` (default
    ``dvlite_plots/index.html`` at the repository root); ``write=False`` only reads them.
    ``result.plots`` holds each plot's series (``to_dict()`` is the ``--json`` output)."""
    from dvlite.ops.plots import show

    found = open_repo(repo)
    return show(found, _targets(repo, targets), out=_out(repo, out), write=write)


def plots_diff(
    revs: Iterable[str] = (),
    *,
    targets: Iterable[StrPath] = (),
    out: StrPath | None = None,
    write: bool = True,
    repo: StrPath | None = None,
) -> PlotsResult:
    """``dvlite plots diff``: the plots at several revisions overlaid, one series per revision
    (none given: HEAD and the workspace; one: it and the workspace; ``"workspace"`` names the
    workspace among several)."""
    from dvlite.ops.plots import diff

    found = open_repo(repo)
    chosen = [revs] if isinstance(revs, str) else list(revs)
    return diff(found, chosen, _targets(repo, targets), out=_out(repo, out), write=write)


def report(
    revs: Iterable[str] = (), *, out: StrPath | None = None, repo: StrPath | None = None
) -> ReportResult:
    """``dvlite report``: one HTML page per revision (default: the workspace) in the folder
    ``out`` (default ``dvlite_report/`` at the repository root), and an ``index.html``: the
    stage graph, each stage's deps and outs with their oids, params, metrics and plots, and
    the model registry's versions."""
    from dvlite.ops.report import report as do_report

    chosen = [revs] if isinstance(revs, str) else list(revs)
    return do_report(open_repo(repo), chosen, out=_out(repo, out))


def _targets(repo: StrPath | None, targets: Iterable[StrPath]) -> list[str]:
    # a stage name stays as it is; a path is taken from ``repo`` as every API path is
    return paths_in(repo, list(targets))


def _out(repo: StrPath | None, out: StrPath | None) -> str | None:
    return None if out is None else path_in(repo, out)
