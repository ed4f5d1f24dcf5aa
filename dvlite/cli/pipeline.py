"""Pipeline commands: stage add, run, repro, dag, lineage, metrics, params."""

from __future__ import annotations

import shlex
import threading
from typing import TYPE_CHECKING

import click

from dvlite.cli.base import cli, json_option, open_repo, print_json

if TYPE_CHECKING:
    from dvlite.pipeline import Stage

_COMMAND = {"ignore_unknown_options": True, "allow_interspersed_args": False}


def _stage_options(f):  # type: ignore[no-untyped-def]
    options = [
        click.option("-n", "--name", required=True, help="The stage's name."),
        click.option("-d", "--deps", "deps", multiple=True, metavar="PATH", help="A file or folder it reads."),
        click.option("-o", "--outs", "outs", multiple=True, metavar="PATH", help="An output (cached, git-ignored)."),
        click.option(
            "-p", "--params", "params", multiple=True, metavar="KEY", help="A param: key of params.yaml or FILE:KEY."
        ),
        click.option(
            "-m", "--metrics", "metrics", multiple=True, metavar="PATH", help="A metrics file (kept in git)."
        ),
        click.option("-f", "--force", is_flag=True, help="Replace a stage of the same name."),
        click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _stage(name: str, deps: tuple[str, ...], outs: tuple[str, ...], params: tuple[str, ...],
           metrics: tuple[str, ...], command: tuple[str, ...]) -> Stage:  # fmt: skip
    from dvlite.pipeline import Stage
    from dvlite.repo import Repo

    repo = Repo.find()
    cmd = command[0] if len(command) == 1 else shlex.join(command)
    raw = {"cmd": cmd, "deps": [repo.rel(p) for p in deps], "params": list(params)}
    raw |= {"outs": [repo.rel(p) for p in outs], "metrics": [repo.rel(p) for p in metrics]}
    return Stage.from_dict(name, raw)


@cli.group()
def stage() -> None:
    """Declare pipeline stages in dvlite.yaml."""


@stage.command("add", context_settings=_COMMAND)
@_stage_options
def stage_add(name: str, deps: tuple[str, ...], outs: tuple[str, ...], params: tuple[str, ...],
              metrics: tuple[str, ...], force: bool, command: tuple[str, ...]) -> None:  # fmt: skip
    """Declare a stage that runs COMMAND (written to dvlite.yaml; run it with `dvlite repro`)."""
    from dvlite.repro import declare

    declare(open_repo(), _stage(name, deps, outs, params, metrics, command), force=force)
    click.echo(f"Added stage '{name}' to dvlite.yaml; run it with `dvlite repro {name}`")


@cli.command(context_settings=_COMMAND)
@_stage_options
@click.option("-j", "--jobs", default=1, show_default=True, help="Stages run at once (upstream ones too).")
def run(name: str, deps: tuple[str, ...], outs: tuple[str, ...], params: tuple[str, ...],
        metrics: tuple[str, ...], force: bool, command: tuple[str, ...], jobs: int) -> None:  # fmt: skip
    """Declare a stage that runs COMMAND and run it now (with whatever it needs upstream)."""
    from dvlite.repro import declare, repro as do_repro

    repo = open_repo()
    declare(repo, _stage(name, deps, outs, params, metrics, command), force=force)
    _report(do_repro(repo, [name], jobs=jobs, on_event=_printer(False)), False)


@cli.command()
@click.argument("stages", nargs=-1)
@click.option("--dry", is_flag=True, help="Only show what would run, and why.")
@click.option("-f", "--force", is_flag=True, help="Run every selected stage even if it is up to date.")
@click.option("-j", "--jobs", default=1, show_default=True, help="Independent stages run at once.")
@click.option("--downstream", is_flag=True, help="Select the STAGES and every stage after them.")
@click.option("--no-run-cache", is_flag=True, help="Run commands even when the run cache has their results.")
@json_option
def repro(
    stages: tuple[str, ...], dry: bool, force: bool, jobs: int, downstream: bool, no_run_cache: bool, as_json: bool
) -> None:
    """Run the stages that are out of date (all, or STAGES and their upstream) in order."""
    from dvlite.repro import repro as do_repro

    result = do_repro(
        open_repo(),
        stages,
        dry=dry,
        force=force,
        jobs=jobs,
        downstream=downstream,
        use_run_cache=not no_run_cache,
        on_event=_printer(as_json),
    )
    if as_json:
        print_json(result.to_dict())
    elif dry:
        for p in result.plan:
            click.echo(f"{'would run' if p.reason else 'up to date'}  {p.name}" + (f"  ({p.reason})" if p.reason else ""))
    else:
        _report(result, True)


def _printer(to_stderr: bool):  # type: ignore[no-untyped-def]
    from dvlite.repro import OUTPUT, START

    lock = threading.Lock()

    def show(kind: str, name: str, text: str) -> None:
        if kind == OUTPUT:
            line = f"[{name}] {text}"
        elif kind == START:
            line = f"[{name}] $ {text}"
        elif text:
            line = f"[{name}] {text}"
        else:
            return
        with lock:
            click.echo(line, err=to_stderr)

    return show


def _report(result, check_anything: bool) -> None:  # type: ignore[no-untyped-def]
    if not (result.ran or result.restored or result.skipped):
        click.echo("Everything is up to date.")
        return
    parts = [f"{len(result.ran)} ran"]
    if result.restored:
        parts.append(f"{len(result.restored)} restored from the run cache")
    if result.skipped:
        parts.append(f"{len(result.skipped)} unchanged")
    click.echo(f"Stages: {', '.join(parts)}. Commit dvlite.lock to record the results.")


@cli.command()
@click.option(
    "--format", "fmt", type=click.Choice(["ascii", "mermaid", "dot", "json"]), default="ascii", show_default=True
)
def dag(fmt: str) -> None:
    """Show the stage graph."""
    from dvlite.dag import render
    from dvlite.pipeline import load

    click.echo(render(load(open_repo().root), fmt))
