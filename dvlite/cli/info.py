"""Commands that report on the repository: du, doctor."""

from __future__ import annotations

import click

from dvlite.cli.base import cli, human_size, json_option, open_repo, plural, print_json


@cli.command()
@click.argument("path", required=False, type=click.Path())
@click.option("--rev", metavar="REV", help="A git revision (default: the workspace's records).")
@json_option
def du(path: str | None, rev: str | None, as_json: bool) -> None:
    """Size of the tracked data (at REV), per tracked item and in all, from the records."""
    from dvlite.ops.du import du as do_du

    result = do_du(open_repo(), path, rev)
    if as_json:
        print_json(result.to_dict())
        return
    width = max([len(human_size(i.size)) for i in result.items] + [len(human_size(result.size))])
    for i in result.items:
        shown = i.path + ("/" if i.kind == "dir" else "")
        click.echo(f"{human_size(i.size):>{width}}  {plural(i.files, 'file'):>14}  {shown}")
    total = f"{human_size(result.size):>{width}}  {plural(result.files, 'file'):>14}  total"
    click.echo(total + (f" at {rev}" if rev else ""))
