"""Commands that change what is tracked by hand: commit, move, check-ignore."""

from __future__ import annotations

import click

from dvlite.cli.base import cli, console, flag, json_option, open_repo, print_json, progress


@cli.command()
@click.argument("targets", nargs=-1, type=click.Path())
@flag("-f", "--force", help="Record a stage even if its command, deps or params changed.")
@flag("--no-stage", help="Do not `git add` the pointers, dvlite.lock and .gitignore files.")
@json_option
def commit(targets: tuple[str, ...], force: bool, no_stage: bool, as_json: bool) -> None:
    """Record outputs made or fixed by hand, without running anything.

    TARGETS are pointers, their data, stage names or stage outputs (default: all of them):
    hashed into the cache, their pointers or dvlite.lock entries updated."""
    from dvlite.ops.commit import commit as do_commit

    with progress("Hashing") as bar:
        done = do_commit(
            open_repo(), targets, force=force, stage=False if no_stage else None, progress=bar
        )
    if as_json:
        print_json([c.to_dict() for c in done])
        return
    for c in done:
        console().print(f"{'committed' if c.changed else 'unchanged':>9} {c.target}", markup=False)


@cli.command()
@click.argument("src", type=click.Path())
@click.argument("dst", type=click.Path())
@flag("--no-stage", help="Do not record the change in git's index.")
@json_option
def move(src: str, dst: str, no_stage: bool, as_json: bool) -> None:
    """Move tracked data (a file or folder) to DST with its pointer and .gitignore line."""
    from dvlite.ops.move import move as do_move

    result = do_move(open_repo(), src, dst, stage=False if no_stage else None)
    if as_json:
        print_json(result.to_dict())
        return
    what = "" if result.moved_data else " (its data is not in the workspace: only the pointer)"
    console().print(f"moved {result.src} to {result.dst}{what}", markup=False)


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
