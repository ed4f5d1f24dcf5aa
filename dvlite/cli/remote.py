"""Commands for remotes: remote add/list/remove/modify/default, push, fetch, pull."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from dvlite.cli.base import (
    cli,
    console,
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
@click.option("-d", "--default", "make_default", is_flag=True, help="Make it the default remote.")
@click.option("-f", "--force", is_flag=True, help="Replace a remote of the same name.")
@click.option("--local", is_flag=True, help="Write to .dvlite/config.local (git-ignored).")
def remote_add(name: str, url: str, make_default: bool, force: bool, local: bool) -> None:
    """Add a remote: a folder path, s3://bucket/prefix, or any fsspec URL."""
    from dvlite.remote.settings import add

    add(
        open_repo(),
        name,
        url,
        default=make_default,
        force=force,
        level="local" if local else "repo",
    )


@remote.command("list")
@json_option
def remote_list(as_json: bool) -> None:
    """List the remotes (the default one is marked)."""
    from dvlite.remote import configured, default_name
    from dvlite.secrets import mask_url

    repo = open_repo()
    remotes = configured(repo)
    default = default_name(repo)
    if as_json:
        print_json(
            [{**r.to_dict(), "default": name == default} for name, r in sorted(remotes.items())]
        )
        return
    for name, r in sorted(remotes.items()):
        mark = "  (default)" if name == default else ""
        click.echo(f"{name}\t{mask_url(r.url)}{mark}")


@remote.command("remove")
@click.argument("name")
def remote_remove(name: str) -> None:
    """Forget a remote (its objects stay where they are)."""
    from dvlite.remote.settings import remove

    remove(open_repo(), name)


@remote.command("modify")
@click.argument("name")
@click.argument("key")
@click.argument("value", required=False)
@click.option(
    "--local", is_flag=True, help="Write to .dvlite/config.local (git-ignored): for credentials."
)
@click.option("--unset", is_flag=True, help="Remove KEY.")
def remote_modify(name: str, key: str, value: str | None, local: bool, unset: bool) -> None:
    """Set one option of a remote (url, endpoint_url, region, profile, access_key_id,
    secret_access_key, session_token, jobs, or an fsspec option)."""
    from dvlite.remote.settings import modify

    if value is None and not unset:
        raise click.UsageError("give a VALUE (or --unset)")
    modify(open_repo(), name, key, None if unset else value, level="local" if local else "repo")


@remote.command("default")
@click.argument("name", required=False)
@click.option("--unset", is_flag=True, help="Have no default remote.")
@click.pass_context
def remote_default(ctx: click.Context, name: str | None, unset: bool) -> None:
    """Set the default remote (or print it)."""
    from dvlite.remote import default_name
    from dvlite.remote.settings import set_default

    repo = open_repo()
    if name is None and not unset:
        current = default_name(repo)
        if current is None:
            ctx.exit(1)
        click.echo(current)
        return
    set_default(repo, None if unset else name)


# -- transfers -------------------------------------------------------------------------------
def _transfer_options(f: Callable[..., Any]) -> Callable[..., Any]:
    options: list[object] = [
        click.argument("targets", nargs=-1, type=click.Path()),
        click.option(
            "-r", "--remote", metavar="NAME", help="Remote to use (default: core.remote)."
        ),
        click.option("-j", "--jobs", type=click.IntRange(min=1), help="Objects moved at once."),
        click.option(
            "--rev",
            "revs",
            multiple=True,
            metavar="REV",
            help="Also the data of this git revision.",
        ),
        click.option(
            "-a", "--all-branches", is_flag=True, help="Also the data of every branch tip."
        ),
        click.option("-T", "--all-tags", is_flag=True, help="Also the data of every tag."),
        click.option("-A", "--all-commits", is_flag=True, help="Also the data of every commit."),
        click.option(
            "--no-run-cache",
            is_flag=True,
            help="Leave the run cache (moved by default when no TARGETS are given).",
        ),
        json_option,
    ]
    for option in reversed(options):
        f = option(f)  # type: ignore[operator]
    return f


def _run(
    verb: str,
    label: str,
    as_json: bool,
    api: Callable[..., TransferResult],
    targets: tuple[str, ...],
    no_run_cache: bool,
    **options: Any,
) -> None:
    """Call the transfer function ``api`` with a progress bar and render its result."""
    from dvlite.transfer import TransferError

    revisions = pop_revisions(options)
    repo = open_repo()
    try:
        with progress(label) as bar:
            result = api(
                repo,
                targets,
                revisions=revisions,
                run_cache=not no_run_cache,
                progress=bar,
                **options,
            )
    except TransferError as exc:
        if as_json:
            print_json(exc.result.to_dict())
        else:
            _summary(verb, exc.result)
        raise
    if as_json:
        print_json(result.to_dict())
    else:
        _summary(verb, result)


def _summary(verb: str, result: TransferResult) -> None:
    out = console()
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if result.transferred:
        out.print(f"{plural(result.transferred, 'object')} {verb} ({human_size(result.size)})")
    elif result.ok and not result.runs:
        out.print("Everything is up to date.")
    if result.runs:
        out.print(f"{plural(result.runs, 'run-cache entry', 'run-cache entries')} {verb}")
    if result.checkout:
        c = result.checkout
        if any(c.values()):
            out.print(
                f"{len(c['added'])} added, {len(c['modified'])} modified, "
                f"{len(c['deleted'])} deleted"
            )


@cli.command()
@_transfer_options
def push(targets: tuple[str, ...], as_json: bool, **options: Any) -> None:
    """Upload the tracked data (or TARGETS) that the remote lacks."""
    from dvlite.transfer import push as do_push

    _run("pushed", "Pushing", as_json, do_push, targets, **options)


@cli.command()
@_transfer_options
def fetch(targets: tuple[str, ...], as_json: bool, **options: Any) -> None:
    """Download the tracked data (or TARGETS) that the cache lacks; the workspace is untouched."""
    from dvlite.transfer import fetch as do_fetch

    _run("fetched", "Fetching", as_json, do_fetch, targets, **options)


@cli.command()
@_transfer_options
@click.option(
    "-f", "--force", is_flag=True, help="Overwrite workspace changes that are not in the cache."
)
def pull(targets: tuple[str, ...], as_json: bool, **options: Any) -> None:
    """Fetch, then check out the tracked data (or TARGETS, which may be inside a tracked folder)."""
    from dvlite.ops.pull import pull as do_pull

    _run("fetched", "Pulling", as_json, do_pull, targets, **options)
