"""Commands that report on the repository: du, doctor."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from dvlite.cli.base import cli, human_size, json_option, open_repo, plural, print_json

if TYPE_CHECKING:
    from dvlite.ops.doctor import DoctorReport


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


@cli.command()
@json_option
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Versions, the repository, its cache, remotes (reachable?) and hooks, for a bug report.

    Exits 1 only when the repository itself is broken (a config, dvlite.yaml or dvlite.lock
    that cannot be read); a remote that does not answer is reported, not an error."""
    from dvlite.ops.doctor import doctor as do_doctor

    report = do_doctor()
    if as_json:
        print_json(report.to_dict())
    else:
        _show_doctor(report)
    if not report.ok:
        ctx.exit(1)


def _show_doctor(report: DoctorReport) -> None:
    echo = click.echo
    echo(f"dvlite {report.dvlite}, Python {report.python} ({report.platform})")
    deps = [f"{name} {v}" for name, v in report.dependencies.items() if v is not None]
    absent = [name for name, v in report.dependencies.items() if v is None]
    echo(
        "dependencies: "
        + ", ".join(deps)
        + (f" (not installed: {', '.join(absent)})" if absent else "")
    )
    echo(f"git: {report.git or 'not installed'}")
    if report.root is None:
        echo("repository: none here (not inside a dvlite repository)")
        return
    echo(f"repository: {report.root}" + ("" if report.uses_git is not False else " (no git)"))
    c = report.cache
    if c is not None:
        echo(f"cache: {c.dir} ({plural(c.objects, 'object')}, {human_size(c.size)})")
        echo(f"  cache.type: {','.join(c.link_types)}; works here: {', '.join(c.working)}")
    for r in report.remotes:
        state = "reachable" if r.reachable else f"not reachable: {r.error}"
        echo(f"remote {r.name}{' (default)' if r.default else ''}: {r.url}: {state}")
    if not report.remotes and c is not None:
        echo("remotes: none (`dvlite remote add -d NAME URL`)")
    if report.hooks:
        echo("hooks: " + ", ".join(f"{name} {state}" for name, state in report.hooks.items()))
    for problem in report.problems:
        echo(f"problem: {problem}", err=True)
