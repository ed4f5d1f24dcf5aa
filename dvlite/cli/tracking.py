"""Commands that change what is tracked by hand: commit, move, check-ignore."""

from __future__ import annotations

import click

from dvlite.cli.base import cli, flag, json_option, open_repo, print_json


@cli.command("check-ignore")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@flag("-d", "--details", help="Also print the file, line and pattern that decide each path.")
@json_option
@click.pass_context
def check_ignore(ctx: click.Context, paths: tuple[str, ...], details: bool, as_json: bool) -> None:
    """Say which PATHS .dvliteignore ignores, and why with -d (exit 1 when none is)."""
    from dvlite.ops.check_ignore import check_ignore as do_check

    found = do_check(open_repo(), paths)
    if as_json:
        print_json([m.to_dict() for m in found])
    else:
        for m in found:
            if details and m.source is not None:  # a `!` line is shown too, as git -v does
                click.echo(f"{m.source}:{m.line}:{m.pattern}\t{m.path}")
            elif m.ignored:
                click.echo(m.path)
    if not any(m.ignored for m in found):
        ctx.exit(1)
