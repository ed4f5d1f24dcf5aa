"""Data-quality checks: check."""

from __future__ import annotations

import click

from dvlite.cli.base import cli, console, json_option, open_repo, plural, print_json


@cli.command()
@click.argument("stages", nargs=-1)
@json_option
@click.pass_context
def check(ctx: click.Context, stages: tuple[str, ...], as_json: bool) -> None:
    """Run data-quality checks on the outputs in the workspace, without running stages.

    STAGES are stage names or outputs (default: every stage that has checks); exit 1 when a
    check fails. A pass is recorded in dvlite.lock when the stage's outputs are the ones it
    records; a failure is shown by `dvlite status` until they pass."""
    from dvlite.cli.pipeline import stage_printer
    from dvlite.ops.check import check as do_check

    report = do_check(open_repo(), stages, on_event=stage_printer(as_json))
    if as_json:
        print_json(report.to_dict())
    elif not report.stages:
        click.echo("No stage has checks.")
    else:
        out = console()
        for s in report.stages:
            failed = [r for r in s.results if not r.passed]
            if not failed:
                saved = " (recorded in dvlite.lock)" if s.recorded else ""
                out.print(
                    f"{s.stage}: {plural(len(s.results), 'check')} passed{saved}", markup=False
                )
                continue
            out.print(
                f"{s.stage}: {len(failed)} of {plural(len(s.results), 'check')} failed",
                markup=False,
                style="red",
            )
            for finding in s.findings:
                out.print(f"    {finding}", markup=False)
    if not report.passed:
        ctx.exit(1)
