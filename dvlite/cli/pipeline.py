"""Pipeline commands: stage add, run, repro, dag, lineage, metrics, params."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import click

from dvlite.cli.base import cli, flag, json_option, md_option, open_repo, print_json, print_table

if TYPE_CHECKING:
    from dvlite.ops.metrics import Row
    from dvlite.ops.repro import ReproResult

_COMMAND = {"ignore_unknown_options": True, "allow_interspersed_args": False}
_FORMATS = ("ascii", "mermaid", "dot", "json")  # records.dag's, without importing it


_LISTS = (  # the stage's lists: option, metavar, help
    ("-d", "--deps", "PATH", "A file or folder it reads."),
    ("-o", "--outs", "PATH", "An output (cached, git-ignored)."),
    ("-p", "--params", "KEY", "A param: key of params.yaml or FILE:KEY."),
    ("-m", "--metrics", "PATH", "A metrics file (kept in git)."),
    (None, "--plots", "PATH", "A plot: CSV/TSV/JSON data or an image (kept in git)."),
)


def _stage_options(f):
    f = click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)(f)
    f = flag("-f", "--force", help="Replace a stage of the same name.")(f)
    for short, name, metavar, text in reversed(_LISTS):
        names = (short, name) if short else (name,)
        f = click.option(*names, multiple=True, metavar=metavar, help=text)(f)
    return click.option("-n", "--name", required=True, help="The stage's name.")(f)


@cli.group()
def stage() -> None:
    """Declare and list pipeline stages in dvlite.yaml."""


@stage.command("add", context_settings=_COMMAND)
@_stage_options
def stage_add(name: str, force: bool, command: tuple[str, ...], **lists: tuple[str, ...]) -> None:
    """Declare a stage that runs COMMAND (written to dvlite.yaml; run it with `dvlite repro`)."""
    from dvlite.ops.repro import declare, new_stage

    repo = open_repo()
    declare(repo, new_stage(repo, name, command, **lists), force=force)
    click.echo(f"Added stage '{name}' to dvlite.yaml; run it with `dvlite repro {name}`")


@stage.command("list")
@json_option
def stage_list(as_json: bool) -> None:
    """List the stages (those foreach and matrix make too): cmd, deps, outs, desc."""
    from dvlite.ops.stage_list import stage_list as do_list

    rows = do_list(open_repo())
    if as_json:
        print_json([r.to_dict() for r in rows])
    elif not rows:
        click.echo("No stages in dvlite.yaml: declare one with `dvlite stage add`.")
    else:
        print_table(
            ["stage", "cmd", "deps", "outs", "desc"],
            ([r.name, r.cmd, ", ".join(r.deps), ", ".join(r.outs), r.desc] for r in rows),
        )


@cli.command(context_settings=_COMMAND)
@_stage_options
@click.option(
    "-j", "--jobs", default=1, show_default=True, help="Stages run at once (upstream ones too)."
)
def run(
    name: str, force: bool, command: tuple[str, ...], jobs: int, **lists: tuple[str, ...]
) -> None:
    """Declare a stage that runs COMMAND and run it now (with whatever it needs upstream)."""
    from dvlite.ops.repro import new_stage
    from dvlite.ops.repro import run as do_run

    repo = open_repo()
    new = new_stage(repo, name, command, **lists)
    _report(do_run(repo, new, force=force, jobs=jobs, on_event=stage_printer(False)))


@cli.command()
@click.argument("stages", nargs=-1)
@flag("--dry", help="Only show what would run, and why.")
@flag("-f", "--force", help="Run every selected stage even if it is up to date.")
@click.option("-j", "--jobs", default=1, show_default=True, help="Independent stages run at once.")
@flag("--downstream", help="Select the STAGES and every stage after them.")
@flag("-s", "--single-item", "single", help="Only the STAGES, not what they need upstream.")
@flag("--no-run-cache", help="Run commands even when the run cache has their results.")
@flag("--pull", help="First fetch and check out what dvlite.lock records from the remote.")
@click.option(
    "-r", "--remote", metavar="NAME", help="The remote for --pull (default: core.remote)."
)
@json_option
def repro(stages: tuple[str, ...], no_run_cache: bool, as_json: bool, **options: Any) -> None:
    """Run the stages that are out of date (all, or STAGES and their upstream) in order."""
    from dvlite.ops.repro import repro as do_repro

    events = stage_printer(as_json)
    result = do_repro(
        open_repo(), stages, use_run_cache=not no_run_cache, on_event=events, **options
    )
    if as_json:
        print_json(result.to_dict())
    elif options["dry"]:
        for p in result.plan:
            click.echo(
                f"would run  {p.name}  ({p.reason})" if p.reason else f"up to date  {p.name}"
            )
    else:
        _report(result)


def stage_printer(to_stderr: bool):
    from dvlite.ops.repro import OUTPUT, START

    lock = threading.Lock()

    def show(kind: str, name: str, text: str) -> None:
        if kind == START:
            text = f"$ {text}"
        elif not text and kind != OUTPUT:
            return  # nothing to say (a stage done)
        with lock:
            click.echo(f"[{name}] {text}" if name else text, err=to_stderr)

    return show


def _report(result: ReproResult) -> None:
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
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="ascii", show_default=True)
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
@flag("--downstream", help="Show every stage that depends on PATH instead.")
@json_option
def lineage(path: str, rev: str | None, downstream: bool, as_json: bool) -> None:
    """Show what produced PATH: stages, commands, params, inputs with their oids, and commits."""
    from rich.markup import escape
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


def _short(value: str | None, whole: bool) -> str:
    if value is None:
        return "-"
    value = value.removeprefix("xxh128:")
    return value if whole else value[:12]


def _label(node, whole: bool) -> str:
    from rich.markup import escape

    commit = f"  [dim]commit {_short(node.commit, whole)}[/]" if node.commit else ""
    if node.commit == "uncommitted":
        commit = "  [yellow]uncommitted[/]"
    oid = f"  [cyan]{_short(node.oid, whole)}[/]"
    if node.kind == "stage":
        params = "; ".join(f"{k}={v!r}" for keys in node.params.values() for k, v in keys.items())
        extra = f"\n[dim]params:[/] {escape(params)}" if params else ""
        extra += _checks_text(node.checks or {})
        return (
            f"[bold]{escape(node.path)}[/]{oid}  ← stage "
            f"[bold]{escape(node.stage or '')}[/]{commit}"
            f"\n[dim]$[/] {escape(node.cmd or '(never run)')}{extra}"
        )
    what = f"tracked by {escape(node.source or '')}" if node.kind == "data" else node.kind
    now = f"  [yellow](now {_short(node.current_oid, whole)})[/]" if node.current_oid else ""
    came = _imported(node.imported, whole) if node.imported else ""
    return f"{escape(node.path)}{oid}  [green]{what}[/]{now}{commit}{came}"


def _imported(source: dict[str, object], whole: bool) -> str:
    """Where imported data came from: a repository's path at a commit, or a URL."""
    from rich.markup import escape

    if "repo" in source:
        rev = f" ({source['rev']})" if source.get("rev") else ""
        at = _short(str(source["commit"]), whole)
        where = f"{source['repo']}:{source['path']} at {at}{rev}"
    else:
        tags = ", ".join(f"{k} {source[k]}" for k in ("version", "etag") if source.get(k))
        where = f"{source['url']}" + (f" ({tags})" if tags else "")
    return f"\n[dim]imported from[/] {escape(where)}"


def _checks_text(checks: dict) -> str:
    from rich.markup import escape

    text = f"\n[dim]checks:[/] {checks['passed']} passed" if "passed" in checks else ""
    if checks.get("failed"):
        text += f"\n[red]the last checks failed:[/] {escape(checks['failed'][0])}"
    return text


def _grow(tree, node, whole: bool) -> None:
    for child in node.inputs:
        _grow(tree.add(_label(child, whole)), child, whole)


def value_text(v: object) -> str:
    if v is None:
        return "-"
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _change(row: Row) -> str:
    return "-" if row.change is None else f"{row.change:+.6g}"


def diff_rows(rows: list[Row], title: str, as_md: bool) -> None:
    """The table of ``metrics diff``, ``params diff`` and ``exp diff``."""
    print_table(
        ["path", "key", "old", "new", "change"],
        ([r.path, r.key, value_text(r.old), value_text(r.new), _change(r)] for r in rows),
        right=("old", "new", "change"),
        title=title,
        as_md=as_md,
    )


def _diff_command(group: click.Group, what: str) -> None:
    """``metrics diff`` and ``params diff``: one key per row, old and new."""

    @group.command("diff")
    @click.argument("a", required=False)
    @click.argument("b", required=False)
    @flag("--all", "everything", help=f"Show unchanged {what}s too.")
    @json_option
    @md_option
    def diff(a: str | None, b: str | None, everything: bool, as_json: bool, as_md: bool) -> None:
        from dvlite.ops import metrics as ops

        do_diff = ops.diff if what == "metric" else ops.params_diff
        rows = do_diff(open_repo(), a, b, everything=everything)
        if as_json:
            print_json([r.to_dict() for r in rows])
        elif not rows:
            click.echo(f"No {what} changed.")
        else:
            diff_rows(rows, f"{what}s: {a or 'HEAD'} -> {b or 'workspace'}", as_md)

    diff.help = f"Compare {what}s between revisions A (default HEAD) and B (default the workspace)."


@cli.group()
def metrics() -> None:
    """Metrics from the files stages declare with -m."""


@metrics.command("show")
@click.argument("revs", nargs=-1)
@flag("-A", "--all-commits", help="Every commit, newest first.")
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
        [rev, path, key, value_text(value)]
        for rev, values in found.items()
        for path, keys in values.items()
        for key, value in keys.items()
    ]
    if not rows:
        click.echo("No metrics: declare metrics files with `dvlite stage add -m FILE`.")
        return
    print_table(["revision", "path", "key", "value"], rows, right=("value",), as_md=as_md)


@cli.group()
def params() -> None:
    """Params that stages read (keys of params.yaml or FILE:KEY)."""


_diff_command(metrics, "metric")
_diff_command(params, "param")
