"""Commands that share data between repositories (get, import, import-url, update; ``ls URL``
is ls's) and bring a DVC project over (migrate-dvc)."""

from __future__ import annotations

import os
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
    print_json,
    progress,
)

if TYPE_CHECKING:
    from dvlite.ops.imports import ImportResult
    from dvlite.transfer.result import TransferResult


def source_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--rev, -r, --remote-url and -j: which revision of the source, and where its data is."""
    for option in reversed(
        [
            click.option(
                "--rev", help="The source's branch, tag or commit (default: its default branch)."
            ),
            click.option(
                "-r",
                "--remote",
                metavar="NAME",
                help="A remote of the source repository (default: its core.remote).",
            ),
            click.option(
                "--remote-url",
                metavar="URL",
                help="Read the data from this URL instead of the source's remote (a folder, s3://...).",
            ),
            click.option("-j", "--jobs", type=click.IntRange(min=1), help="Objects moved at once."),
        ]
    ):
        f = option(f)
    return f


def _moved(fetched: TransferResult | None) -> str:
    if fetched is None:
        return ""
    return f"; {plural(fetched.transferred, 'object')} fetched ({human_size(fetched.size)})"


@cli.command()
@click.argument("url")
@click.argument("path")
@click.option("-o", "--out", type=click.Path(), help="Where to write it (default: its name, here).")
@source_options
@flag("-f", "--force", help="Replace what is at the output path.")
@json_option
def get(
    url: str,
    path: str,
    out: str | None,
    rev: str | None,
    remote: str | None,
    remote_url: str | None,
    jobs: int | None,
    force: bool,
    as_json: bool,
) -> None:
    """Download data another git repository tracks, without tracking it here.

    URL is anything `git clone` takes (a path, file://, https://, ssh). PATH is data dvlite
    tracks there (a pointer's data, a stage output, or a file or folder inside one), or a file
    git tracks. Only its objects are fetched from the source's remote, each one verified.
    """
    from dvlite.ops.get import Where, find_repo
    from dvlite.ops.get import get as do_get

    where = Where(remote, remote_url, jobs)
    with progress("Fetching") as bar:
        result = do_get(
            url, path, rev=rev, out=out, where=where, force=force, repo=find_repo(), progress=bar
        )
    if as_json:
        print_json(result.to_dict())
        return
    what = plural(result.files, "file") if result.kind == "dir" else human_size(result.size)
    click.echo(
        f"Wrote {result.path} to {out or os.path.relpath(result.out)} ({what}, commit "
        f"{result.commit[:12]}){_moved(result.fetched)}"
    )


def _show_import(r: ImportResult) -> None:
    src = r.source
    origin = f"{src.get('repo')}:{src.get('path')}@{str(src.get('commit'))[:12]}"
    if "url" in src:
        origin = str(src["url"])
    verb = {"imported": "Imported", "updated": "Updated", "source moved": "Source moved"}
    if r.status == "unchanged":
        click.echo(f"{r.pointer}: up to date ({origin})")
        return
    what = plural(r.files, "file") if r.kind == "dir" else human_size(r.size)
    same = "; the data is the same" if r.status == "source moved" else ""
    click.echo(f"{verb[r.status]} {r.path} from {origin} ({what}){same}{_moved(r.fetched)}")


@cli.command(name="import")
@click.argument("url")
@click.argument("path")
@click.option("-o", "--out", type=click.Path(), help="The data path here (default: its name).")
@source_options
@flag("-f", "--force", help="Replace what is at the output path.")
@json_option
def import_command(
    url: str,
    path: str,
    out: str | None,
    rev: str | None,
    remote: str | None,
    remote_url: str | None,
    jobs: int | None,
    force: bool,
    as_json: bool,
) -> None:
    """Download data from another git repository and track it, with where it came from.

    As `get`, and the pointer (OUT.dvl) records the source: its URL, the revision as given,
    the commit that was, and the path there. `dvlite update` moves it to the source's newest
    version; `dvlite lineage` shows where it came from.
    """
    from dvlite.ops.get import Where
    from dvlite.ops.imports import import_repo

    repo = open_repo()
    where = Where(remote, remote_url, jobs)
    with progress("Fetching") as bar:
        result = import_repo(
            repo, url, path, rev=rev, out=out, where=where, force=force, progress=bar
        )
    if as_json:
        print_json(result.to_dict())
        return
    _show_import(result)


@cli.command(name="import-url")
@click.argument("url")
@click.argument("out", required=False, type=click.Path())
@click.option(
    "-r",
    "--remote",
    metavar="NAME",
    help="Reach the URL with this remote's options (endpoint, credentials); default: your "
    "remote on the same bucket or host, else the environment's.",
)
@flag("-f", "--force", help="Replace what is at the output path.")
@json_option
def import_url(url: str, out: str | None, remote: str | None, force: bool, as_json: bool) -> None:
    """Download one object (s3://, gs://, az://, http(s)://, a file) and track it.

    The pointer records the URL and what the store said of the object (ETag, version, size,
    modification time): `dvlite update` asks the store again and downloads only when it
    changed. The bytes are hashed as they are stored, as everything in the cache.
    """
    from dvlite.ops.import_url import import_url as do_import_url

    repo = open_repo()
    with progress("Downloading") as bar:
        result = do_import_url(repo, url, out, remote=remote, force=force, progress=bar)
    if as_json:
        print_json(result.to_dict())
        return
    _show_import(result)


@cli.command()
@click.argument("targets", nargs=-1, type=click.Path())
@source_options
@flag(
    "--allow-local",
    help="Follow sources on this machine (a path, file://), which a committed pointer can name.",
)
@json_option
def update(
    targets: tuple[str, ...],
    rev: str | None,
    remote: str | None,
    remote_url: str | None,
    jobs: int | None,
    allow_local: bool,
    as_json: bool,
) -> None:
    """Move imported data to its source's newest version (all imports, or TARGETS).

    One request says whether the source changed (the revision's commit, or the object's
    version or ETag); only then is the new version fetched and checked out. --rev moves an
    import from a repository to another revision, recorded from then on.
    """
    from dvlite.ops.get import Where
    from dvlite.ops.update import update as do_update

    repo = open_repo()
    where = Where(remote, remote_url, jobs)
    with progress("Updating") as bar:
        results = do_update(
            repo, list(targets) or None, rev=rev, where=where, allow_local=allow_local, progress=bar
        )
    if as_json:
        print_json([r.to_dict() for r in results])
        return
    if not results:
        click.echo("No imports to update.")
    for r in results:
        _show_import(r)


@cli.command(name="migrate-dvc")
@flag("--dry", help="Only print the plan: what would be written, and what cannot be converted.")
@flag("--remove-dvc", help="Then remove the DVC files it converted (dvc.yaml, *.dvc, .dvc/).")
@json_option
def migrate_dvc(dry: bool, remove_dvc: bool, as_json: bool) -> None:
    """Convert the DVC project here into dvlite's files.

    .dvc files become .dvl pointers (the data re-hashed from the workspace, else from DVC's
    cache), dvc.yaml becomes dvlite.yaml, dvc.lock's stages whose outputs are present become
    dvlite.lock entries, .dvc/config's remotes become dvlite remotes (credentials only into
    .dvlite/config.local). What cannot be converted is reported with the reason; the DVC
    files stay until --remove-dvc.
    """
    from dvlite.ops.migrate import migrate

    with progress("Converting"):
        result = migrate(None, dry=dry, remove_dvc=remove_dvc)
    if as_json:
        print_json(result.to_dict())
        if result.skipped and not dry:
            raise SystemExit(1)
        return
    out = console()
    from rich.markup import escape

    title = "Would write" if dry else "Wrote"
    for step in result.done:
        out.print(f"{title:>12}  {escape(step.path)}  [dim]{escape(step.what)}[/]", emoji=False)
    for step in result.notes:
        out.print(f"{'Note':>12}  {escape(step.path)}: {escape(step.what)}", emoji=False)
    for step in result.skipped:
        out.print(
            f"[yellow]{'Not converted':>12}[/]  {escape(step.path)}: {escape(step.what)}",
            emoji=False,
        )
    for path in result.removed:
        out.print(f"{'Removed':>12}  {escape(path)}", emoji=False)
    if not dry and result.done:
        click.echo("Next: review the changes (git status), then `dvlite status` and git commit.")
    if result.skipped and not dry:
        from dvlite.errors import MigrateError

        n = len(result.skipped)
        raise MigrateError(
            f"{n} thing{'s' if n > 1 else ''} could not be converted (listed above, with the "
            "reasons); the rest was"
        )
