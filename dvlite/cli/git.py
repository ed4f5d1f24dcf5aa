"""Commands that work with git: install, uninstall, diff, ls, gc, and the hidden ``hook``
command the installed git hooks call."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from dvlite.cli.base import (
    cli,
    console,
    flag,
    human_size,
    json_option,
    open_repo,
    plural,
    pop_revisions,
    print_json,
)

if TYPE_CHECKING:
    from dvlite.ops.hooks import HookAction


@cli.command()
@flag("-f", "--force", help="Move an unexpected existing hook aside instead of refusing.")
@json_option
def install(force: bool, as_json: bool) -> None:
    """Install git hooks: pre-commit, post-checkout, post-merge, pre-push.

    An existing hook is kept (as HOOK.pre-dvlite) and still runs first.
    """
    from dvlite.ops.hooks import install as do_install

    _show_actions(do_install(open_repo(), force=force), as_json)


@cli.command()
@json_option
def uninstall(as_json: bool) -> None:
    """Remove dvlite's git hooks and restore the hooks they kept."""
    from dvlite.ops.hooks import uninstall as do_uninstall

    _show_actions(do_uninstall(open_repo()), as_json)


def _show_actions(actions: list[HookAction], as_json: bool) -> None:
    if as_json:
        print_json([a.to_dict() for a in actions])
        return
    out = console()
    for a in actions:
        out.print(f"{a.action:>9} {a.hook}" + (f"  ({a.detail})" if a.detail else ""))


@cli.command(hidden=True, context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def hook(ctx: click.Context, name: str, args: tuple[str, ...]) -> None:
    """Run the git hook NAME (called by the scripts `dvlite install` writes)."""
    from dvlite.errors import NotARepoError
    from dvlite.ops.hooks import run_hook

    try:
        repo = open_repo()
    except NotARepoError:
        click.echo(
            f"dvlite: no .dvlite/ in this repository, so the {name} hook did nothing", err=True
        )
        return
    # only pre-push gets input from git; other hooks must not swallow their caller's stdin
    reads_stdin = name == "pre-push" and sys.stdin is not None and not sys.stdin.isatty()
    stdin = sys.stdin.read() if reads_stdin else ""
    outcome = run_hook(repo, name, list(args), stdin)
    for message in outcome.messages:
        click.echo(message, err=True)
    ctx.exit(outcome.code)


@cli.command()
@click.argument("a", required=False)
@click.argument("b", required=False)
@json_option
def diff(a: str | None, b: str | None, as_json: bool) -> None:
    """Show data files added, modified, deleted and renamed from revision A (default HEAD)
    to revision B (default: the workspace)."""
    from dvlite.ops.diff import diff as do_diff

    result = do_diff(open_repo(), a, b)
    if as_json:
        print_json(result.to_dict())
    else:
        from rich.markup import escape  # paths are printed as they are, never as markup

        out = console()
        for change in result.renamed:
            out.print(
                f"[blue]renamed:[/]  {escape(change.old_path or '')} -> {escape(change.path)}"
            )
        for change in result.added:
            out.print(f"[green]added:[/]    {escape(change.path)}")
        for change in result.modified:
            out.print(f"[yellow]modified:[/] {escape(change.path)}")
        for change in result.deleted:
            out.print(f"[red]deleted:[/]  {escape(change.path)}")
    if result.missing:
        revs = " ".join(f"--rev {r}" for r in (result.a, result.b) if r != "workspace")
        click.echo(
            f"Warning: not in the cache, so not compared inside: {', '.join(result.missing)}; "
            f"run `dvlite fetch {revs}` to get them",
            err=True,
        )


@cli.command(name="ls")
@click.argument("target", required=False, metavar="[URL] [PATH]")
@click.argument("path", required=False, type=click.Path(), metavar="")
@click.option(
    "--rev", help="List what this git revision tracks (default: the workspace's pointers)."
)
@click.option(
    "-r",
    "--remote",
    metavar="NAME",
    help="With URL: a remote of that repository (default: its own).",
)
@json_option
def ls_command(
    target: str | None, path: str | None, rev: str | None, remote: str | None, as_json: bool
) -> None:
    """List the tracked files (inside tracked folders too) with their size and oid.

    With a repository URL first (anything `git clone` takes), list what that repository
    tracks, at --rev or its default branch; folders are listed through its remote. A single
    argument is a URL when it has a scheme or host (https://, ssh, git@host:), or is a git
    repository outside this one; otherwise it is a path here.
    """
    remote_repo = target is not None and (path is not None or _is_repository(target))
    if remote_repo:
        from dvlite.ops.get import Where, find_repo
        from dvlite.ops.ls import ls_url

        assert target is not None
        entries = ls_url(target, path, rev, where=Where(remote), repo=find_repo())
    else:
        from dvlite.ops.ls import ls as do_ls

        entries = do_ls(open_repo(), target, rev)
    if as_json:
        print_json([e.to_dict() for e in entries])
        return
    out = console()
    for e in entries:
        note = f"  ({e.note})" if e.note else ""
        if not e.in_cache and not remote_repo:
            note = "  (not in the cache)"
        out.print(
            f"{human_size(e.size):>10}  {e.oid}  {e.path}{'/' if e.kind == 'dir' else ''}{note}",
            markup=False,
        )


def _is_repository(arg: str) -> bool:
    """Whether ``ls``'s one argument names another repository rather than a path here."""
    from dvlite.git.clone import local_path

    local = local_path(arg)
    if local is None or arg.startswith("file://"):
        return True
    if not local.is_dir():
        return False
    marks = (local / ".git").exists() or all((local / n).exists() for n in ("HEAD", "objects"))
    if not marks:
        return False
    from dvlite.errors import DvliteError

    try:
        here = str(open_repo().root)
    except DvliteError:  # not inside a repository: any git repository is another one
        return True
    real = os.path.realpath(local)
    return real != here and not real.startswith(os.path.join(here, ""))


@cli.command()
@flag("-w", "--workspace", help="Keep only what the workspace's pointers use.")
@flag("-a", "--all-branches", help="Keep what the tip of every branch uses.")
@flag("-T", "--all-tags", help="Keep what every tag uses.")
@flag("-A", "--all-commits", help="Keep what every commit uses.")
@flag("--all-experiments", help="Keep what every experiment uses (`dvlite exp show`).")
@click.option(
    "--rev", "revs", multiple=True, metavar="REV", help="Keep what this revision uses (repeatable)."
)
@flag("--cloud", help="Also remove them from the remote.")
@click.option(
    "-r", "--remote", metavar="NAME", help="The remote for --cloud (default: core.remote)."
)
@flag("--dry", help="Only list what would be removed, and how many bytes.")
@flag("-f", "--force", help="Also remove objects that no remote holds (their only copy).")
@json_option
def gc(workspace: bool, as_json: bool, **options: Any) -> None:
    """Remove cache objects (and with --cloud, remote objects) that no kept revision uses.
    The workspace is always kept.

    Say what to keep: -w (the workspace only), -a, -T, -A, --all-experiments or --rev.
    Without --force no object is left without a copy: it leaves the cache only when a remote
    holds it, and the remote only when another remote holds it too.
    """
    from dvlite.ops.gc import gc as do_gc

    revisions = pop_revisions(options)
    if options["remote"] and not options["cloud"]:
        raise click.UsageError("-r/--remote goes with --cloud")
    if not (workspace or revisions):
        raise click.UsageError(
            "say what to keep: -w (the workspace only), -a, -T, -A, --all-experiments or --rev REV"
        )
    result = do_gc(open_repo(), revisions=revisions, **options)
    if as_json:
        print_json(result.to_dict())
        return
    out = console()
    there = f"from the remote {result.remote}"
    dry = options["dry"]
    if dry:
        for oid in result.removed:
            out.print(f"would remove {oid}")
        for oid in result.cloud_removed:
            out.print(f"would remove {oid} from {result.remote}")
        for key in result.runs_removed:
            out.print(f"would remove the run-cache entry {key}")
        for key in result.cloud_runs_removed:
            out.print(f"would remove the run-cache entry {key} from {result.remote}")
    verb = "would remove" if dry else "removed"
    gone = f"{plural(len(result.removed), 'object')} ({human_size(result.removed_bytes)})"
    out.print(f"{verb} {gone} from the cache")
    if result.runs_removed:
        out.print(f"{verb} {_entries(result.runs_removed)} naming them")
    if result.remote is not None:
        out.print(f"{verb} {plural(len(result.cloud_removed), 'object')} {there}")
        if result.cloud_tmp_removed:
            tmp = plural(len(result.cloud_tmp_removed), "temporary file")
            out.print(f"{verb} {tmp} of killed pushes {there}")
        if result.cloud_runs_removed:
            out.print(f"{verb} {_entries(result.cloud_runs_removed)} {there}")
        for problem in result.cloud_repack.damaged if result.cloud_repack else []:
            click.echo(f"Warning: {problem}; left as it was on the remote", err=True)
    if result.cloud_only_copy:
        click.echo(
            f"kept {plural(len(result.cloud_only_copy), 'unused object')} on {result.remote} that "
            "no other remote holds: they are the only copy. Use --force to remove them for good",
            err=True,
        )
    if result.only_copy:
        click.echo(
            f"kept {plural(len(result.only_copy), 'unused object')} "
            f"({human_size(result.only_copy_bytes)}) that no remote holds: they are the only "
            "copy. `dvlite push` them first, or use --force to remove them",
            err=True,
        )


def _entries(keys: list[str]) -> str:
    return plural(len(keys), "run-cache entry", "run-cache entries")
