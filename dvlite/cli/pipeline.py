"""Pipeline commands: stage add, run, repro, dag, lineage, metrics, params."""

from __future__ import annotations

import threading

import click

from dvlite.cli.base import cli, json_option, md_option, open_repo, print_json, print_table

_COMMAND = {"ignore_unknown_options": True, "allow_interspersed_args": False}


def _stage_options(f):
    options = [
        click.option("-n", "--name", required=True, help="The stage's name."),
        click.option(
            "-d", "--deps", "deps", multiple=True, metavar="PATH", help="A file or folder it reads."
        ),
        click.option(
            "-o",
            "--outs",
            "outs",
            multiple=True,
            metavar="PATH",
            help="An output (cached, git-ignored).",
        ),
        click.option(
            "-p",
            "--params",
            "params",
            multiple=True,
            metavar="KEY",
            help="A param: key of params.yaml or FILE:KEY.",
        ),
        click.option(
            "-m",
            "--metrics",
            "metrics",
            multiple=True,
            metavar="PATH",
            help="A metrics file (kept in git).",
        ),
        click.option("-f", "--force", is_flag=True, help="Replace a stage of the same name."),
        click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@cli.group()
def stage() -> None:
    """Declare pipeline stages in dvlite.yaml."""


@stage.command("add", context_settings=_COMMAND)
@_stage_options
def stage_add(name: str, deps: tuple[str, ...], outs: tuple[str, ...], params: tuple[str, ...],
              metrics: tuple[str, ...], force: bool, command: tuple[str, ...]) -> None:  # fmt: skip
    """Declare a stage that runs COMMAND (written to dvlite.yaml; run it with `dvlite repro`)."""
    from dvlite.ops.repro import declare, new_stage

    repo = open_repo()
    new = new_stage(repo, name, command, deps=deps, outs=outs, params=params, metrics=metrics)
    declare(repo, new, force=force)
    click.echo(f"Added stage '{name}' to dvlite.yaml; run it with `dvlite repro {name}`")


@cli.command(context_settings=_COMMAND)
@_stage_options
@click.option(
    "-j", "--jobs", default=1, show_default=True, help="Stages run at once (upstream ones too)."
)
def run(name: str, deps: tuple[str, ...], outs: tuple[str, ...], params: tuple[str, ...],
        metrics: tuple[str, ...], force: bool, command: tuple[str, ...],
        jobs: int) -> None:  # fmt: skip
    """Declare a stage that runs COMMAND and run it now (with whatever it needs upstream)."""
    from dvlite.ops.repro import new_stage
    from dvlite.ops.repro import run as do_run

    repo = open_repo()
    new = new_stage(repo, name, command, deps=deps, outs=outs, params=params, metrics=metrics)
    _report(do_run(repo, new, force=force, jobs=jobs, on_event=_printer(False)), False)


@cli.command()
@click.argument("stages", nargs=-1)
@click.option("--dry", is_flag=True, help="Only show what would run, and why.")
@click.option(
    "-f", "--force", is_flag=True, help="Run every selected stage even if it is up to date."
)
@click.option("-j", "--jobs", default=1, show_default=True, help="Independent stages run at once.")
@click.option("--downstream", is_flag=True, help="Select the STAGES and every stage after them.")
@click.option(
    "--no-run-cache", is_flag=True, help="Run commands even when the run cache has their results."
)
@click.option(
    "--pull",
    is_flag=True,
    help="First fetch and check out what dvlite.lock records from the remote.",
)
@click.option(
    "-r", "--remote", metavar="NAME", help="The remote for --pull (default: core.remote)."
)
@json_option
def repro(
    stages: tuple[str, ...],
    dry: bool,
    force: bool,
    jobs: int,
    downstream: bool,
    no_run_cache: bool,
    pull: bool,
    remote: str | None,
    as_json: bool,
) -> None:
    """Run the stages that are out of date (all, or STAGES and their upstream) in order."""
    from dvlite.ops.repro import repro as do_repro

    result = do_repro(
        open_repo(),
        stages,
        dry=dry,
        force=force,
        jobs=jobs,
        downstream=downstream,
        use_run_cache=not no_run_cache,
        pull=pull,
        remote=remote,
        on_event=_printer(as_json),
    )
    if as_json:
        print_json(result.to_dict())
    elif dry:
        for p in result.plan:
            click.echo(
                f"{'would run' if p.reason else 'up to date'}  {p.name}"
                + (f"  ({p.reason})" if p.reason else "")
            )
    else:
        _report(result, True)


def _printer(to_stderr: bool):
    from dvlite.ops.repro import OUTPUT, START

    lock = threading.Lock()

    def show(kind: str, name: str, text: str) -> None:
        if kind == OUTPUT:
            line = f"[{name}] {text}"
        elif kind == START:
            line = f"[{name}] $ {text}"
        elif text:
            line = f"[{name}] {text}" if name else text
        else:
            return
        with lock:
            click.echo(line, err=to_stderr)

    return show


def _report(result, check_anything: bool) -> None:
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
    "--format",
    "fmt",
    type=click.Choice(["ascii", "mermaid", "dot", "json"]),
    default="ascii",
    show_default=True,
)
def dag(fmt: str) -> None:
    """Show the stage graph."""
    from dvlite.records.dag import render
    from dvlite.records.pipeline import load

    pipeline = load(open_repo().root)
    if not pipeline.stages:  # a note for people; stdout stays valid (empty) output for tools
        click.echo("no stages in dvlite.yaml", err=True)
        if fmt == "ascii":
            return
    click.echo(render(pipeline, fmt))


@cli.command()
@click.argument("path")
@click.option(
    "--rev", help="Read dvlite.yaml and dvlite.lock at this git revision (tag, branch, commit)."
)
@click.option("--downstream", is_flag=True, help="Show every stage that depends on PATH instead.")
@json_option
def lineage(path: str, rev: str | None, downstream: bool, as_json: bool) -> None:
    """Show what produced PATH: stages, commands, params, inputs with their oids, and commits."""
    from rich.tree import Tree

    from dvlite.cli.base import console
    from dvlite.ops.lineage import downstream as find_downstream
    from dvlite.ops.lineage import lineage as find_lineage

    repo = open_repo()
    if downstream:
        found = find_downstream(repo, path, rev)
        if as_json:
            print_json([d.to_dict() for d in found])
            return
        if not found:
            click.echo(f"No stage depends on {path}.")
            return
        from rich.markup import escape

        out = console()
        for d in found:
            outs = escape(", ".join(d.outs) or "no outputs")
            via = escape(", ".join(d.via))
            out.print(f"[bold]{escape(d.stage)}[/]  -> {outs}  [dim](via {via})[/]")
        return
    node = find_lineage(repo, path, rev)
    if as_json:
        print_json(node.to_dict())
        return
    out = console()
    whole = not out.is_terminal  # a pipe or a file gets whole commit ids and oids
    tree = Tree(_label(node, whole))
    _grow(tree, node, whole)
    out.print(tree)


def _shorten(value: str | None, whole: bool = False) -> str:
    if value is None:
        return "-"
    value = value.split(":", 1)[-1] if value.startswith("xxh128:") else value
    return value if whole else value[:12]


def _label(node, whole: bool = False) -> str:
    from rich.markup import escape

    def short(value: str | None) -> str:
        return _shorten(value, whole)

    commit = f"  [dim]commit {short(node.commit)}[/]" if node.commit else ""
    if node.commit == "uncommitted":
        commit = "  [yellow]uncommitted[/]"
    oid = f"  [cyan]{short(node.oid)}[/]"
    if node.kind == "stage":
        params = "; ".join(f"{k}={v!r}" for keys in node.params.values() for k, v in keys.items())
        extra = f"\n[dim]params:[/] {escape(params)}" if params else ""
        return (
            f"[bold]{escape(node.path)}[/]{oid}  ← stage "
            f"[bold]{escape(node.stage or '')}[/]{commit}"
            f"\n[dim]$[/] {escape(node.cmd or '(never run)')}{extra}"
        )
    what = {"data": f"tracked by {node.source}", "file": "file", "missing": "missing"}[node.kind]
    now = f"  [yellow](now {short(node.current_oid)})[/]" if node.current_oid else ""
    return f"{escape(node.path)}{oid}  [green]{what}[/]{now}{commit}"


def _grow(tree, node, whole: bool = False) -> None:
    for child in node.inputs:
        _grow(tree.add(_label(child, whole)), child, whole)


def _value(v: object) -> str:
    if v is None:
        return "-"
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _rows_table(rows, title: str, as_md: bool) -> None:
    print_table(
        ["path", "key", "old", "new", "change"],
        (
            [
                r.path,
                r.key,
                _value(r.old),
                _value(r.new),
                "-" if r.change is None else f"{r.change:+.6g}",
            ]
            for r in rows
        ),
        right=("old", "new", "change"),
        title=title,
        as_md=as_md,
    )


@cli.group()
def metrics() -> None:
    """Metrics from the files stages declare with -m."""


@metrics.command("show")
@click.argument("revs", nargs=-1)
@click.option("-A", "--all-commits", is_flag=True, help="Every commit, newest first.")
@json_option
@md_option
def metrics_show(revs: tuple[str, ...], all_commits: bool, as_json: bool, as_md: bool) -> None:
    """Show metrics in the workspace (or at REVS, or at every commit)."""
    from dvlite.ops.metrics import show

    found = show(open_repo(), list(revs) or None, all_commits=all_commits)
    if as_json:
        print_json(found)
        return
    rows = [
        [rev, path, key, _value(value)]
        for rev, values in found.items()
        for path, keys in values.items()
        for key, value in keys.items()
    ]
    if not rows:
        click.echo("No metrics: declare metrics files with `dvlite stage add -m FILE`.")
        return
    print_table(["revision", "path", "key", "value"], rows, right=("value",), as_md=as_md)


@metrics.command("diff")
@click.argument("a", required=False)
@click.argument("b", required=False)
@click.option("--all", "everything", is_flag=True, help="Show unchanged metrics too.")
@json_option
@md_option
def metrics_diff(
    a: str | None, b: str | None, everything: bool, as_json: bool, as_md: bool
) -> None:
    """Compare metrics between revisions A (default HEAD) and B (default the workspace)."""
    from dvlite.ops.metrics import diff

    rows = diff(open_repo(), a, b, everything=everything)
    if as_json:
        print_json([r.to_dict() for r in rows])
    elif rows:
        _rows_table(rows, f"metrics: {a or 'HEAD'} -> {b or 'workspace'}", as_md)
    else:
        click.echo("No metric changed.")


@cli.group()
def params() -> None:
    """Params that stages read (keys of params.yaml or FILE:KEY)."""


@params.command("diff")
@click.argument("a", required=False)
@click.argument("b", required=False)
@click.option("--all", "everything", is_flag=True, help="Show unchanged params too.")
@json_option
@md_option
def params_diff(a: str | None, b: str | None, everything: bool, as_json: bool, as_md: bool) -> None:
    """Compare params between revisions A (default HEAD) and B (default the workspace)."""
    from dvlite.ops.metrics import params_diff as do_diff

    rows = do_diff(open_repo(), a, b, everything=everything)
    if as_json:
        print_json([r.to_dict() for r in rows])
    elif rows:
        _rows_table(rows, f"params: {a or 'HEAD'} -> {b or 'workspace'}", as_md)
    else:
        click.echo("No param changed.")
