"""Experiment commands: exp run, show, diff, apply, branch, remove, gc, push, pull."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import click

from dvlite.cli.base import (
    cli,
    flag,
    json_option,
    md_option,
    open_repo,
    plural,
    pop_revisions,
    print_json,
    print_table,
)
from dvlite.cli.pipeline import diff_rows, stage_printer, value_text

if TYPE_CHECKING:
    from dvlite.ops.exp_run import Outcome
    from dvlite.ops.exp_show import ExpRow


@cli.group()
def exp() -> None:
    """Experiments: runs with changed params, kept as git commits on hidden refs."""


@exp.command("run")
@click.option(
    "-S", "--set-param", "settings", multiple=True, metavar="[FILE:]KEY=VALUE",
    help="Set a param for this run (FILE defaults to params.yaml; VALUE is read as YAML).",
)  # fmt: skip
@click.option("-n", "--name", help="The experiment's name (default: exp-<random>).")
@flag("--queue", help="Only queue it; `exp run --run-all` runs the queue.")
@flag("--run-all", help="Run every queued experiment.")
@click.option("-j", "--jobs", default=1, show_default=True, help="Queued experiments run at once.")
@json_option
def exp_run(
    settings: tuple[str, ...], name: str | None, queue: bool, run_all: bool, jobs: int,
    as_json: bool,
) -> None:  # fmt: skip
    """Run the pipeline with changed params in a temporary work tree and keep the result as an
    experiment; the workspace, the index and the branches stay as they are."""
    from dvlite.ops.exp_run import run, run_queued

    repo = open_repo()
    if run_all:
        if settings or name or queue:
            raise click.UsageError("--run-all runs the queue: it takes no -S, -n or --queue")
        outcomes = run_queued(repo, jobs=jobs, on_event=stage_printer(as_json))
    else:
        outcomes = [run(repo, settings, name=name, queue=queue, on_event=stage_printer(as_json))]
    if as_json:
        print_json([o.to_dict() for o in outcomes])
    else:
        for o in outcomes:
            click.echo(_said(o))
        if not outcomes:
            click.echo("No experiment is queued.")
    failed = [o.name for o in outcomes if o.error]
    if failed:
        from dvlite.errors import ExperimentError

        raise ExperimentError(f"{plural(len(failed), 'experiment')} failed: {', '.join(failed)}")


def _said(o: Outcome) -> str:
    if o.error:
        return f"Experiment {o.name} failed: {o.error}"
    if o.result is None:
        return f"Queued experiment {o.name}; run it with `dvlite exp run --run-all`."
    r = o.result
    parts = [f"{len(r.ran)} ran"] + ([f"{len(r.restored)} restored"] if r.restored else [])
    return (
        f"Experiment {o.name} done ({', '.join(parts)}); compare with `dvlite exp show`, "
        f"apply it with `dvlite exp apply {o.name}`."
    )


@exp.command("show")
@flag("-A", "--all-commits", help="Every commit, and every baseline that has experiments.")
@click.option("--sort-by", metavar="[FILE:]KEY", help="Sort experiments by this param or metric.")
@flag("--desc", help="Sort from the largest value down.")
@json_option
@flag("--csv", "as_csv", help="Print the table as CSV.")
@md_option
def exp_show(
    all_commits: bool, sort_by: str | None, desc: bool, as_json: bool, as_csv: bool, as_md: bool
) -> None:
    """Show the workspace, HEAD and its experiments with their params and metrics; a value
    that differs from its baseline's is marked with *."""
    from dvlite.ops.exp_show import columns, show

    rows = show(open_repo(), all_commits=all_commits, sort_by=sort_by, desc=desc)
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    metrics, params = columns(rows)
    head = ["Experiment", "rev", "state", "created", *metrics, *params]
    if as_csv:
        buffer = io.StringIO()
        out = csv.writer(buffer, lineterminator="\n")
        out.writerow(head)
        for r in rows:
            out.writerow([r.name, r.commit or "", r.state, _when(r.created), *_cells(r, metrics,
                          params, mark=False)])  # fmt: skip
        click.echo(buffer.getvalue(), nl=False)
        return
    table = [
        [_tree(rows, i), (r.commit or "")[:7], r.state, _when(r.created),
         *_cells(r, metrics, params, mark=True)]
        for i, r in enumerate(rows)
    ]  # fmt: skip
    print_table(head, table, right=[*metrics, *params], as_md=as_md)
    if any(r.changed for r in rows) and not as_md:
        click.echo("* differs from its baseline", err=True)


def _cells(r: ExpRow, metrics: list[str], params: list[str], *, mark: bool) -> list[str]:
    values = {**r.metrics, **r.params}
    cells = []
    for col in [*metrics, *params]:
        text = value_text(values[col]) if col in values else "-"
        cells.append(text + ("*" if mark and col in r.changed else ""))
    return cells


def _tree(rows: list[ExpRow], i: int) -> str:
    r = rows[i]
    if r.kind != "experiment":
        return r.name
    last = i + 1 == len(rows) or rows[i + 1].kind != "experiment"
    return ("└── " if last else "├── ") + r.name


def _when(created: int | None) -> str:
    if created is None:
        return ""
    return datetime.fromtimestamp(created, timezone.utc).strftime("%Y-%m-%d %H:%M")


@exp.command("diff")
@click.argument("a")
@click.argument("b", required=False)
@flag("--all", "everything", help="Show unchanged params and metrics too.")
@json_option
@md_option
def exp_diff(a: str, b: str | None, everything: bool, as_json: bool, as_md: bool) -> None:
    """Compare params and metrics from A to B (experiments or revisions); without B, from
    experiment A's baseline to A."""
    from dvlite.ops.exp_show import diff

    found = diff(open_repo(), a, b, everything=everything)
    if as_json:
        print_json(found.to_dict())
        return
    if not (found.params or found.metrics):
        click.echo(f"No param or metric changed from {found.old} to {found.new}.")
    for what, rows in (("params", found.params), ("metrics", found.metrics)):
        if rows:
            diff_rows(rows, f"{what}: {found.old} -> {found.new}", as_md)


@exp.command("apply")
@click.argument("name")
@flag("-f", "--force", help="Overwrite changes that are not committed.")
def exp_apply(name: str, force: bool) -> None:
    """Bring experiment NAME into the workspace: its params, lock, metrics and outputs
    (nothing is committed)."""
    from dvlite.ops.exp_manage import apply_exp

    applied = apply_exp(open_repo(), name, force=force)
    data = applied.checkout
    paths = len(data.added) + len(data.modified) + len(data.deleted)
    click.echo(
        f"Applied experiment {name}: {plural(len(applied.files), 'file')} from git, "
        f"{plural(paths, 'data path')} checked out. Commit them to keep it."
    )
    if applied.settings:
        left = ", ".join(applied.settings)
        click.echo(f"Left alone: {left} (dvlite's settings are never taken from an experiment)")


@exp.command("branch")
@click.argument("name")
@click.argument("branch")
def exp_branch(name: str, branch: str) -> None:
    """Make the git branch BRANCH at experiment NAME."""
    from dvlite.ops.exp_manage import branch as do_branch

    commit = do_branch(open_repo(), name, branch)
    click.echo(f"Branch {branch} is at experiment {name} ({commit[:12]}).")


@exp.command("remove")
@click.argument("names", nargs=-1)
@flag("--queued", help="Every queued experiment.")
@flag("--all", "everything", help="Every experiment.")
def exp_remove(names: tuple[str, ...], queued: bool, everything: bool) -> None:
    """Remove experiments (their data stays in the cache until `dvlite gc`)."""
    from dvlite.ops.exp_manage import remove

    if not (names or queued or everything):
        raise click.UsageError("name the experiments to remove, or use --queued or --all")
    gone = remove(open_repo(), list(names), queued=queued, everything=everything)
    click.echo(
        f"Removed {plural(len(gone), 'experiment')}{': ' + ', '.join(gone) if gone else ''}."
    )


@exp.command("gc")
@flag("-a", "--all-branches", help="Keep experiments on every branch tip too.")
@flag("-T", "--all-tags", help="Keep experiments on every tag too.")
@flag("-A", "--all-commits", help="Keep experiments on every commit.")
@flag("--queued", help="Remove queued experiments too.")
@flag("--dry", help="Only say what would be removed.")
def exp_gc(queued: bool, dry: bool, **options: Any) -> None:
    """Remove the experiments that are not based on HEAD (or on what -a, -T, -A keep)."""
    from dvlite.ops.exp_manage import gc

    gone = gc(open_repo(), pop_revisions(options), queued=queued, dry=dry)
    verb = "Would remove" if dry else "Removed"
    click.echo(f"{verb} {plural(len(gone), 'experiment')}{': ' + ', '.join(gone) if gone else ''}.")


def _transfer_command(name: str, verb: str, text: str) -> None:
    @exp.command(name)
    @click.argument("git_remote")
    @click.argument("names", nargs=-1, required=True)
    @click.option("-r", "--remote", metavar="NAME", help="The data remote (default: core.remote).")
    def transfer(git_remote: str, names: tuple[str, ...], remote: str | None) -> None:
        from dvlite.ops import exp_manage

        result = getattr(exp_manage, name.removeprefix("exp_"))(
            open_repo(), git_remote, list(names), remote=remote
        )
        moved = plural(result.transferred, "object")
        click.echo(f"{verb} {plural(len(names), 'experiment')}; {moved} moved.")

    transfer.help = text


_transfer_command(
    "push", "Pushed", "Send experiments NAMES to GIT_REMOTE and their data to the data remote."
)
_transfer_command(
    "pull", "Pulled", "Fetch experiments NAMES from GIT_REMOTE and their data into the cache."
)
