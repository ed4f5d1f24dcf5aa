"""Commands on local data: init, add, status, checkout, unprotect, remove, config, fsck."""

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
    print_json,
    progress,
)

if TYPE_CHECKING:
    from dvlite.ops.fsck import FsckResult
    from dvlite.ops.remote_status import RemoteStatus
    from dvlite.records.config import Config


def _remote_option(help: str) -> Callable[..., Any]:
    """``--remote [NAME]``: ``remote_name`` is None without it, "" for the default remote."""
    return click.option(
        "--remote", "remote_name", is_flag=False, flag_value="", metavar="[NAME]", help=help
    )


@cli.command()
@flag("--no-scm", help="Use dvlite in a plain folder, without git.")
@flag("-f", "--force", help="Initialise again where .dvlite/ already exists.")
def init(no_scm: bool, force: bool) -> None:
    """Make .dvlite/ at the root of this git repository."""
    from dvlite.ops.init import init as do_init

    repo = do_init(no_scm=no_scm, force=force)
    console().print(f"Initialised dvlite in {repo.dvlite_dir}", markup=False)
    if not no_scm:
        console().print("Next: [bold]dvlite add[/] your data, then [bold]git commit[/].")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@flag("--no-stage", help="Do not `git add` the pointer and .gitignore files.")
@json_option
def add(paths: tuple[str, ...], no_stage: bool, as_json: bool) -> None:
    """Track files or folders: store them in the cache and write PATH.dvl pointers."""
    from dvlite.ops.add import add as do_add

    repo = open_repo()
    with progress("Hashing") as bar:
        results = do_add(repo, paths, stage=False if no_stage else None, progress=bar)
    if as_json:
        print_json([r.to_dict() for r in results])
        return
    out = console()
    for r in results:
        what = f"{plural(r.files, 'file')}, " if r.kind == "dir" else ""
        verb = "added" if r.changed else "unchanged"
        out.print(f"{verb:>9} {r.pointer}  ({what}{human_size(r.size)})", markup=False)


@cli.command()
@click.argument("targets", nargs=-1, type=click.Path())
@flag("-q", "--quiet", help="Print nothing; exit 1 when anything is not clean.")
@_remote_option("Compare the cache with a remote (the default one without NAME) instead.")
@flag("-v", "--verbose", help="With --remote, every file instead of a line per pointer.")
@json_option
@click.pass_context
def status(
    ctx: click.Context,
    targets: tuple[str, ...],
    quiet: bool,
    remote_name: str | None,
    verbose: bool,
    as_json: bool,
) -> None:
    """Show how the workspace differs from the pointers, file by file."""
    if remote_name is not None:
        _remote_status(ctx, targets, remote_name or None, quiet, as_json, verbose)
        return
    from dvlite.ops.status import status as do_status

    report = do_status(open_repo(), targets)
    if as_json:
        print_json([t.to_dict() for t in report])
    elif not quiet and report:  # clean: print nothing, and do not even import rich
        out = console()
        for target in report:
            out.print(target.source, style="bold", markup=False)
            for change in target.changes:
                out.print(
                    f"    {change.state + ':':<14}{change.path}" + _HINT.get(change.state, ""),
                    style=_STYLE.get(change.state),
                    markup=False,
                )
    if quiet and report:
        ctx.exit(1)


_STYLE = {
    "modified": "yellow",
    "new": "green",
    "deleted": "red",
    "not in cache": "magenta",
    "out of date": "yellow",
    "uncommitted": "cyan",
    "not pulled": "magenta",
    "not on remote": "yellow",
    "missing": "red",
}
_HINT = {"not pulled": "  (not in the workspace nor the cache: run `dvlite pull`)"}


@cli.command()
@click.argument("targets", nargs=-1, type=click.Path())
@flag("-f", "--force", help="Overwrite or delete workspace changes that are not in the cache.")
@flag("--relink", help="Re-create every file with the configured link type.")
@json_option
def checkout(targets: tuple[str, ...], force: bool, relink: bool, as_json: bool) -> None:
    """Make the workspace match the pointers (all of them, or TARGETS)."""
    from dvlite.ops.checkout import checkout as do_checkout

    with progress("Checking out") as bar:
        result = do_checkout(open_repo(), targets, force=force, relink=relink, progress=bar)
    if as_json:
        print_json(result.to_dict())
    elif result.changed:
        console().print(
            f"{len(result.added)} added, {len(result.modified)} modified, "
            f"{len(result.deleted)} deleted"
        )


@cli.command()
@click.argument("targets", nargs=-1, required=True, type=click.Path())
def unprotect(targets: tuple[str, ...]) -> None:
    """Make hardlinked or symlinked files into writable copies, to edit them safely."""
    from dvlite.ops.unprotect import unprotect as do_unprotect

    done = do_unprotect(open_repo(), targets)
    console().print(f"unprotected {plural(len(done), 'file')}")


@cli.command()
@click.argument("targets", nargs=-1, required=True, type=click.Path())
def remove(targets: tuple[str, ...]) -> None:
    """Stop tracking TARGET.dvl; the data stays in the workspace."""
    from dvlite.ops.remove import remove as do_remove

    for rel in do_remove(open_repo(), targets):
        console().print(f"removed {rel}", markup=False)


@cli.command()
@click.argument("key", required=False)
@click.argument("value", required=False)
@click.option(
    "--local", "level", flag_value="local", help="Use .dvlite/config.local (git-ignored)."
)
@click.option("--global", "level", flag_value="global", help="Use ~/.config/dvlite/config.")
@flag("--unset", help="Remove KEY.")
@flag("-l", "--list", "list_all", help="List every setting in effect.")
@flag("--json", "as_json", help="With --list: each key, value and level as JSON.")
@click.pass_context
def config(
    ctx: click.Context,
    key: str | None,
    value: str | None,
    level: str | None,
    unset: bool,
    list_all: bool,
    as_json: bool,
) -> None:
    """Read or set a setting (`dvlite config cache.type hardlink`)."""
    from dvlite.errors import NotARepoError
    from dvlite.records.config import Config
    from dvlite.records.repo import Repo

    try:
        cfg = Repo.find().config
    except NotARepoError:
        if level != "global" and (value is not None or unset):
            raise
        cfg = Config(None)
    if as_json and not list_all:
        raise click.UsageError("--json goes with --list")
    if list_all:
        entries = cfg.entries()  # (key, value, level), each key from the level that wins
        if as_json:
            rows = [{"key": k, "value": _shown(k, v), "level": lv} for k, v, lv in entries]
            print_json(rows)
            return
        for k, val, _ in entries:
            click.echo(f"{k}={_shown(k, val)}")
        return
    if key is None:
        raise click.UsageError("give a KEY (or --list)")
    if unset or value is not None:
        _set(cfg, key, None if unset else value, level or "repo")
        return
    current = cfg.get(key)  # asked for by name, a credential is printed (as git config does)
    if current is None:
        ctx.exit(1)
    click.echo(current)


def _shown(key: str, value: str) -> str:
    """A listed setting's value, a credential masked (``dvlite.secrets``)."""
    from dvlite.secrets import shown

    return shown(key.rpartition(".")[2], value)


def _set(cfg: Config, key: str, value: str | None, level: str) -> None:
    """Set (or unset) a key once it is known to be one dvlite reads, with a value it can use;
    a remote's options go through `remote modify`'s checks."""
    from dvlite.records.config import parse_key

    section, option = parse_key(key)
    if section.startswith("remote ") and value is not None and option != "url":
        from dvlite.remote.settings import modify

        cfg.check_storable(section, option, value, cfg.level_for_write(level))
        modify(open_repo(), key.split(".")[1], option, value, level=level)
        return
    if value is not None:
        cfg.check_setting(key, value)
    old = open_repo().cache_dir if key == "cache.dir" and "repo" in cfg.paths else None
    cfg.set(key, value, level)
    if old is None or value is None or not old.is_dir():
        return
    new = open_repo().cache_dir
    if new.resolve() != old.resolve():
        move = f"mv {old} {new}" if not new.exists() else f"cp -R {old}/. {new}/"
        click.echo(
            f"cache.dir is now {new}. The objects already in {old} stay there (nothing is "
            f"moved): move them with `{move}`, or fill the new cache with `dvlite fetch` "
            "(from a remote) or `dvlite add` (from the workspace).",
            err=True,
        )


@cli.command()
@_remote_option("Verify the objects on a remote (the default one without NAME) instead.")
@flag("--repair", help="Fetch good copies of the corrupt and missing objects found (from -r NAME).")
@click.option(
    "-r", "--from", "from_remote", metavar="NAME", help="The remote --repair fetches from."
)
@json_option
@click.pass_context
def fsck(
    ctx: click.Context,
    remote_name: str | None,
    repair: bool,
    from_remote: str | None,
    as_json: bool,
) -> None:
    """Re-hash every cache object; report corrupt and missing ones (exit 1 if any)."""
    if remote_name is not None:
        if repair:
            raise click.UsageError(
                "--repair mends the cache, not a remote: use it without --remote"
            )
        from dvlite.ops.remote_status import fsck_remote

        with progress("Verifying") as bar:
            remote_result = fsck_remote(open_repo(), remote=remote_name or None, progress=bar)
        _show_fsck(ctx, remote_result, as_json, f" on remote {remote_result.remote!r}")
        return
    from dvlite.ops.fsck import fsck as do_fsck

    with progress("Verifying") as bar:
        result = do_fsck(open_repo(), progress=bar, repair=repair, remote=from_remote)
    if result.repaired_from is not None and not as_json:
        shown = f"repaired {plural(result.repaired, 'object')} from remote {result.repaired_from!r}"
        console().print(shown, markup=False)
    if result.removed and not as_json:
        console().print(f"removed {plural(len(result.removed), 'temporary file')}", markup=False)
    _show_fsck(ctx, result, as_json)


def _show_fsck(ctx: click.Context, result: FsckResult, as_json: bool, where: str = "") -> None:
    """Render a cache's (or, with ``where``, a remote's) fsck; exit 1 when anything is wrong."""
    from rich.markup import escape

    if as_json:
        print_json(result.to_dict())
    else:
        out = console()
        damaged = getattr(result, "damaged", [])  # a remote's packs and index files
        for line in damaged:
            out.print(f"[red]damaged:[/] {escape(line)}")
        for oid in result.corrupt:
            out.print(f"[red]corrupt:[/] {escape(oid)}")
        for rel in result.missing:
            out.print(f"[magenta]missing:[/] {escape(rel)}")
        left = "of a killed (or running) push" if where else "left by a killed run"
        for path in result.temporary:
            out.print(f"[yellow]temporary file {left}:[/] {escape(path)}")
        if orphans := getattr(result, "orphans", 0):
            no_index = plural(orphans, "pack") + " that no index file names"
            out.print(f"{no_index} (of a killed or running push; gc --cloud removes them)")
        verdict = (
            "all good"
            if result.ok
            else f"{len(result.corrupt)} corrupt, {len(result.missing)} missing"
            + (f", {plural(len(damaged), 'damaged file')}" if damaged else "")
            + (f", {plural(len(result.temporary), 'temporary file')}" if result.temporary else "")
        )
        out.print(f"checked {plural(result.checked, 'object')}{where}: {verdict}")
    if not result.ok:
        ctx.exit(1)


def _remote_status(
    ctx: click.Context,
    targets: tuple[str, ...],
    remote_name: str | None,
    quiet: bool,
    as_json: bool,
    verbose: bool,
) -> None:
    """``status --remote``: a line per pointer and state, or with ``verbose`` one per file."""
    from dvlite.ops.remote_status import remote_status

    report = remote_status(open_repo(), targets, remote=remote_name)
    if as_json:
        print_json(report.to_dict())
    elif not quiet and not verbose:
        _remote_summary(report)
    elif not quiet:
        out = console()
        for state, paths in (
            ("not on remote", report.not_on_remote),
            ("not in cache", report.not_in_cache),
            ("missing", report.missing),
        ):
            for path in paths:
                out.print(f"    {state + ':':<15}{path}", style=_STYLE[state], markup=False)
        _bytes_line(report)
        if report.clean:
            out.print(f"Cache and remote {report.remote!r} are in sync.")
    if quiet and not report.clean:
        ctx.exit(1)


def _bytes_line(report: RemoteStatus) -> None:
    """How much push and fetch would move (of a chunked file, only the chunks that are new)."""
    moves = [
        f"{verb} would move {human_size(n)}"
        for verb, n in (("push", report.push_bytes), ("fetch", report.fetch_bytes))
        if n
    ]
    if moves:
        console().print("; ".join(moves), markup=False)


def _remote_summary(report: RemoteStatus) -> None:
    """A line per pointer and state: `data.dvl: 1,820 of 1,821 files not on remote 'store'`."""
    out = console()
    for p in report.pointers:
        where = {
            "not on remote": f"not on remote {report.remote!r}",
            "not in cache": "not in cache",
            "missing": f"missing (neither in the cache nor on remote {report.remote!r})",
        }[p.state]
        if p.kind != "dir":
            what = p.path
        elif p.files:
            what = (
                f"{p.files:,} of {plural(p.total, 'file')}" if p.total else plural(p.files, "file")
            )
        else:
            what = plural(p.folders, "folder")
        out.print(f"{p.source}: {what} {where}", style=_STYLE[p.state], markup=False)
    _bytes_line(report)
    if report.pointers:
        out.print("(`dvlite status --remote -v` lists every file)", style="dim", markup=False)
    elif report.clean:
        out.print(f"Cache and remote {report.remote!r} are in sync.")
