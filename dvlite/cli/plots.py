"""Plot commands: plots show, plots diff, and the report."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dvlite.cli.base import cli, json_option, open_repo, plural, print_json

if TYPE_CHECKING:
    from dvlite.ops.plots import PlotsResult
    from dvlite.ops.report import ReportResult

_OUT = "Write the page here (default: dvlite_plots/index.html at the repository root)."


@cli.group()
def plots() -> None:
    """Draw the plots stages declare: one HTML file that needs no network to view."""


@plots.command("show")
@click.argument("targets", nargs=-1)
@click.option("-o", "--out", metavar="FILE", help=_OUT)
@json_option
def plots_show(targets: tuple[str, ...], out: str | None, as_json: bool) -> None:
    """Draw the workspace's plots (all, or TARGETS: plot files, folders of them, stages)."""
    from dvlite.ops.plots import show

    _done(show(open_repo(), targets, out=out, write=not as_json), as_json)


@plots.command("diff")
@click.argument("revs", nargs=-1)
@click.option(
    "-t", "--targets", multiple=True, metavar="PATH", help="Only this plot (file, folder, stage)."
)
@click.option("-o", "--out", metavar="FILE", help=_OUT)
@json_option
def plots_diff(
    revs: tuple[str, ...], targets: tuple[str, ...], out: str | None, as_json: bool
) -> None:
    """Overlay the plots of REVS, one series per revision (default: HEAD and the workspace;
    one REV: it and the workspace; `workspace` names the workspace among several)."""
    from dvlite.ops.plots import diff

    _done(diff(open_repo(), revs, targets, out=out, write=not as_json), as_json)


@cli.command()
@click.argument("revs", nargs=-1)
@click.option(
    "-o",
    "--out",
    metavar="DIR",
    help="The folder (default: dvlite_report/ at the repository root).",
)
@json_option
def report(revs: tuple[str, ...], out: str | None, as_json: bool) -> None:
    """Write an HTML page per revision (default: the workspace): the stage graph, each stage's
    deps and outs with their oids, params, metrics, plots, and the model registry."""
    from dvlite.ops.report import report as do_report

    result: ReportResult = do_report(open_repo(), revs, out=out)
    if as_json:
        print_json(result.to_dict())
        return
    pages = ", ".join(p.rev for p in result.pages)
    click.echo(f"Wrote {_shown(result.index)}: {plural(len(result.pages), 'page')} ({pages})")


def _done(result: PlotsResult, as_json: bool) -> None:
    if as_json:
        print_json(result.to_dict())
        return
    if not result.plots or result.path is None:
        click.echo("No plots: declare them with `dvlite stage add --plots FILE` (or `plots:`).")
        return
    revs = ", ".join(result.revisions)
    click.echo(f"Wrote {_shown(result.path)}: {plural(len(result.plots), 'plot')} ({revs})")


def _shown(path: Path) -> str:
    """``path`` from the current folder when it is below it, else as it is."""
    here = Path.cwd().resolve()
    return os.path.relpath(path, here) if path.is_relative_to(here) else str(path)
