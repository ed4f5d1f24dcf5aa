"""Commands for remotes: remote add/list/remove/rename/modify/default/repack, push, fetch, pull."""

from __future__ import annotations

from collections.abc import Callable
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
    progress,
)

if TYPE_CHECKING:
    from dvlite.transfer import TransferResult


# -- configuration ---------------------------------------------------------------------------
@cli.group()
def remote() -> None:
    """Configure remotes: where push, fetch and pull move objects."""


@remote.command("add")
@click.argument("name")
@click.argument("url")
@flag("-d", "--default", "make_default", help="Make it the default remote.")
@flag("-f", "--force", help="Replace a remote of the same name.")
@flag("--local", help="Write to .dvlite/config.local (git-ignored).")
def remote_add(name: str, url: str, make_default: bool, force: bool, local: bool) -> None:
    """Add a remote: a folder path, s3://bucket/prefix, or any fsspec URL."""
    from dvlite.remote.settings import add

    level = "local" if local else "repo"
    add(open_repo(), name, url, default=make_default, force=force, level=level)


@remote.command("list")
@json_option
def remote_list(as_json: bool) -> None:
    """List the remotes (the default one is marked)."""
    from dvlite.remote import configured, default_name
    from dvlite.secrets import mask_url

    repo = open_repo()
    remotes = sorted(configured(repo).items())
    default = default_name(repo)
    if as_json:
        print_json([{**r.to_dict(), "default": name == default} for name, r in remotes])
        return
    for name, r in remotes:
        mark = "  (default)" if name == default else ""
        click.echo(f"{name}\t{mask_url(r.url)}{mark}")


@remote.command("remove")
@click.argument("name")
def remote_remove(name: str) -> None:
    """Forget a remote (its objects stay where they are)."""
    from dvlite.remote.settings import remove

    remove(open_repo(), name)


@remote.command("rename")
@click.argument("old")
@click.argument("new")
@flag("--global", "in_global", help="Also rename it in ~/.config/dvlite/config.")
def remote_rename(old: str, new: str, in_global: bool) -> None:
    """Rename a remote in every config file that defines it; core.remote follows."""
    from dvlite.remote.settings import rename

    levels = rename(open_repo(), old, new, include_global=in_global)
    files = {"repo": ".dvlite/config", "local": ".dvlite/config.local", "global": "user config"}
    click.echo(f"renamed remote {old!r} to {new!r} in " + ", ".join(files[lv] for lv in levels))


@remote.command("modify")
@click.argument("name")
@click.argument("key")
@click.argument("value", required=False)
@flag("--local", help="Write to .dvlite/config.local (git-ignored): for credentials.")
@flag("--unset", help="Remove KEY.")
def remote_modify(name: str, key: str, value: str | None, local: bool, unset: bool) -> None:
    """Set one option of a remote (url, endpoint_url, region, profile, access_key_id,
    secret_access_key, session_token, jobs, or an fsspec option)."""
    from dvlite.remote.settings import modify

    if value is None and not unset:
        raise click.UsageError("give a VALUE (or --unset)")
    modify(open_repo(), name, key, None if unset else value, level="local" if local else "repo")


@remote.command("default")
@click.argument("name", required=False)
@flag("--unset", help="Have no default remote.")
@click.pass_context
def remote_default(ctx: click.Context, name: str | None, unset: bool) -> None:
    """Set the default remote (or print it)."""
    from dvlite.remote import default_name
    from dvlite.remote.settings import set_default

    repo = open_repo()
    if name is not None or unset:
        set_default(repo, None if unset else name)
        return
    current = default_name(repo)
    if current is None:
        ctx.exit(1)
    click.echo(current)


@remote.command("repack")
@click.argument("name", required=False)
@flag("--dry", help="Only say what would be done.")
@json_option
def remote_repack(name: str | None, dry: bool, as_json: bool) -> None:
    """Pack a remote's objects into few packs named by one index file. A format 1 remote
    (loose objects) becomes format 2: its small objects are packed, and remote.NAME.format is
    set to 2. On a format 2 remote, index files are merged and small or mostly dead packs
    rewritten. Nothing is dropped (`gc --cloud` does that); nothing younger than
    remote.NAME.gc_grace seconds (default 3600) is rewritten or deleted."""
    from dvlite.ops.remote_repack import remote_repack as do_repack

    result = do_repack(open_repo(), name, dry=dry)
    if as_json:
        print_json(result.to_dict())
        return
    r, out = result.repacked, console()
    for problem in r.damaged:
        click.echo(f"Warning: {problem}; left as it was on the remote", err=True)
    done = [
        (r.loose_packed, "pack", "packed", "whole object"),
        (r.packs_rewritten, "rewrite", "rewrote", "pack"),
        (r.indexes_removed, "replace", "replaced", "index file"),
        (r.packs_removed, "remove", "removed", "unused pack"),
        (r.packs_written, "write", "wrote", "new pack"),
    ]
    said = [
        f"{'would ' + now if dry else past} {plural(n, what)}" for n, now, past, what in done if n
    ]
    out.print(f"remote {result.remote}: " + (", ".join(said) if said else "nothing to repack"))
    if result.format == 1 and not dry:
        out.print(f"remote.{result.remote}.format is now 2: commit .dvlite/config")


# -- transfers -------------------------------------------------------------------------------
_TRANSFER_OPTIONS = [
    click.argument("targets", nargs=-1, type=click.Path()),
    click.option("-r", "--remote", metavar="NAME", help="Remote to use (default: core.remote)."),
    click.option("-j", "--jobs", type=click.IntRange(min=1), help="Objects moved at once."),
    click.option(
        "--rev", "revs", multiple=True, metavar="REV", help="Also the data of this git revision."
    ),
    flag("-a", "--all-branches", help="Also the data of every branch tip."),
    flag("-T", "--all-tags", help="Also the data of every tag."),
    flag("-A", "--all-commits", help="Also the data of every commit."),
    flag("--all-experiments", help="Also the data of every experiment."),
    flag(
        "--no-run-cache", help="Leave the run cache (moved by default when no TARGETS are given)."
    ),
    json_option,
]


def _transfer_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_TRANSFER_OPTIONS):
        f = option(f)
    return f


def _run(verb: str, label: str, api: Callable[..., TransferResult], **options: Any) -> None:
    """Call the transfer function ``api`` with a command's options and a progress bar; render
    its result (also that of a transfer that failed, before the error is reported)."""
    from dvlite.transfer import TransferError

    as_json = options.pop("as_json")
    options["run_cache"] = not options.pop("no_run_cache")
    options["revisions"] = pop_revisions(options)
    repo = open_repo()
    try:
        with progress(label) as bar:
            result = api(repo, options.pop("targets"), progress=bar, **options)
    except TransferError as exc:
        _show(verb, exc.result, as_json)
        raise
    _show(verb, result, as_json)


def _show(verb: str, result: TransferResult, as_json: bool) -> None:
    if as_json:
        print_json(result.to_dict())
        return
    out = console()
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if result.transferred:
        size = human_size(result.size)
        if result.reused:  # chunks of a large file that were not moved
            there = "on the remote" if verb == "pushed" else "in the cache"
            moved = human_size(max(result.size - result.reused, 0))
            size += f"; {moved} moved, the rest was {there} already as chunks"
        out.print(f"{plural(result.transferred, 'object')} {verb} ({size})")
    elif result.ok and not result.runs:
        out.print("Everything is up to date.")
    if result.runs:
        out.print(f"{plural(result.runs, 'run-cache entry', 'run-cache entries')} {verb}")
    c = result.checkout
    if c and any(c.values()):
        out.print(
            f"{len(c['added'])} added, {len(c['modified'])} modified, {len(c['deleted'])} deleted"
        )


@cli.command()
@_transfer_options
def push(**options: Any) -> None:
    """Upload the tracked data (or TARGETS) that the remote lacks."""
    from dvlite.transfer import push as do_push

    _run("pushed", "Pushing", do_push, **options)


@cli.command()
@_transfer_options
def fetch(**options: Any) -> None:
    """Download the tracked data (or TARGETS) that the cache lacks; the workspace is untouched."""
    from dvlite.transfer import fetch as do_fetch

    _run("fetched", "Fetching", do_fetch, **options)


@cli.command()
@_transfer_options
@flag("-f", "--force", help="Overwrite workspace changes that are not in the cache.")
def pull(**options: Any) -> None:
    """Fetch, then check out the tracked data (or TARGETS, which may be inside a tracked folder)."""
    from dvlite.ops.pull import pull as do_pull

    _run("fetched", "Pulling", do_pull, **options)
