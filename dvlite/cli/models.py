"""The model registry's commands: model register, promote, list, show, get."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import TYPE_CHECKING

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
    print_table,
    progress,
)

if TYPE_CHECKING:
    from dvlite.ops.model_show import VersionDetails


@cli.group()
def model() -> None:
    """A model registry on git tags: versions, stages, and the bytes of each.

    A version is the annotated tag NAME@vX.Y.Z, a promotion the tag NAME#STAGE#N: push
    them with `git push origin --tags`, and CI can deploy on NAME#prod#*.
    """


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)


def _date(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


def _short(value: str | None, whole: bool) -> str:
    if value is None:
        return "-"
    return value if whole else value.removeprefix("xxh128:")[:12]


@model.command("register")
@click.argument("name")
@click.argument("path", type=click.Path())
@click.option("--version", metavar="vX.Y.Z", help="The version to register.")
@click.option(
    "--bump",
    type=click.Choice(["major", "minor", "patch"]),
    help="Register the next version at this level (the default: minor; the first is v0.1.0).",
)
@click.option("--rev", metavar="REV", help="The commit that records the model (default HEAD).")
@flag("-f", "--force", help="Also a version below the latest, or a commit registered already.")
@json_option
def model_register(
    name: str,
    path: str,
    version: str | None,
    bump: str | None,
    rev: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Register the model at PATH as a new version of NAME.

    PATH is a file or folder tracked (a .dvl pointer or a stage output) at the commit --rev
    names; the version is the annotated tag NAME@vX.Y.Z on that commit.
    """
    from dvlite.ops.model_register import register

    if version and bump:
        raise click.UsageError("give --version or --bump, not both")
    v = register(open_repo(), name, path, version=version, bump_level=bump, rev=rev, force=force)
    if as_json:
        print_json(v.to_dict())
        return
    click.echo(
        f"Registered {name} {v.version}: {v.path} ({human_size(v.size)}, {v.oid}) at commit "
        f"{v.commit[:12]}, tag {v.tag}"
    )
    click.echo(f"Push it: git push origin {v.tag}")


@model.command("promote")
@click.argument("name")
@click.argument("version")
@click.argument("stage")
@flag("-f", "--force", help="Also when that version is in that stage already.")
@json_option
def model_promote(name: str, version: str, stage: str, force: bool, as_json: bool) -> None:
    """Put VERSION (vX.Y.Z or latest) of NAME in STAGE.

    The stages are the config key model.stages (default dev,staging,prod). Each promotion is a
    new annotated tag NAME#STAGE#N, so the history of a stage is kept.
    """
    from dvlite.ops.model_register import promote

    a = promote(open_repo(), name, version, stage, force=force)
    if as_json:
        print_json(a.to_dict())
        return
    click.echo(f"{name} {a.version} is now in {a.stage} (tag {a.tag})")
    click.echo(f"Push it: git push origin {a.tag}")


@model.command("list")
@json_option
def model_list(as_json: bool) -> None:
    """List the models: the latest version of each, and the version in each stage."""
    from dvlite.ops.registry import read

    reg = read(open_repo())
    _warn(reg.warnings)
    stages = list(reg.stages)
    for m in reg.models:
        stages += [s for s in m.stages if s not in stages]
    if as_json:
        print_json(
            [
                {"name": m.name, "latest": m.latest.version}
                | {"stages": {s: m.stages.get(s) for s in stages}}
                for m in reg.models
            ]
        )
        return
    if not reg.models:
        click.echo("No model is registered yet; `dvlite model register NAME PATH` registers one.")
        return
    print_table(
        ["model", "latest", *stages],
        [[m.name, m.latest.version, *(m.stages.get(s, "-") for s in stages)] for m in reg.models],
    )


@model.command("show")
@click.argument("name")
@json_option
def model_show(name: str, as_json: bool) -> None:
    """Show every version of NAME, with its stages, metrics and lineage.

    For each version: its commit, path, oid, size, the stages it is in, the metrics at its
    commit and the data it was made from; then the promotions.
    """
    from rich.markup import escape

    from dvlite.ops.model_show import show

    details = show(open_repo(), name)
    _warn(details.warnings)
    if as_json:
        print_json(details.to_dict())
        return
    out = console()
    whole = not out.is_terminal  # a pipe or a file gets whole commit ids and oids
    m = details.model
    out.print(f"[bold]{escape(m.name)}[/]  {plural(len(m.versions), 'version')}")
    for d in details.versions:
        for line in _version_lines(d, whole):
            out.print(line)
    if m.history:
        out.print("promotions:")
        for a in m.history:
            out.print(f"  {_date(a.date)}  {escape(a.tag)}  {a.version}")


def _version_lines(d: VersionDetails, whole: bool) -> list[str]:
    from rich.markup import escape

    v = d.version
    stages = f"  [green]{escape(', '.join(v.stages))}[/]" if v.stages else ""
    what = v.kind if v.kind == "file" else f"folder of {plural(v.files, 'file')}"
    lines = [
        f"  [bold]{v.version}[/]{stages}  {_date(v.date)}  commit {_short(v.commit, whole)}",
        f"    {escape(v.path)}  {what}, {human_size(v.size)}  {_short(v.oid, whole)}",
    ]
    for path, values in d.metrics.items():
        shown = ", ".join(f"{k}={val}" for k, val in values.items())
        lines.append(f"    metrics  {escape(path)}: {escape(shown)}")
    if d.stages:
        lines.append(f"    made by  {escape(' <- '.join(d.stages))}")
    if d.inputs:
        shown = ", ".join(f"{i.path} ({_short(i.oid, whole)})" for i in d.inputs)
        lines.append(f"    from     {escape(shown)}")
    lines += [f"    [yellow]{escape(p)}[/]" for p in d.problems]
    return lines


@model.command("get")
@click.argument("spec", metavar="SPEC")
@click.option("-o", "--out", type=click.Path(), help="Where to write it (default: its name, here).")
@click.option("-r", "--remote", metavar="NAME", help="Remote to fetch from (default: core.remote).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Objects moved at once.")
@flag("-f", "--force", help="Replace what is at the output path.")
@json_option
def model_get(
    spec: str, out: str | None, remote: str | None, jobs: int | None, force: bool, as_json: bool
) -> None:
    """Write the bytes of one version of a model.

    SPEC is NAME@vX.Y.Z, NAME@STAGE (or NAME#STAGE), a stage tag NAME#STAGE#N (the version it
    promoted), or NAME (the latest). Only its objects are fetched from the remote, each one
    verified: it works in a fresh clone where no data was pulled.
    """
    from dvlite.ops.model_get import get

    repo = open_repo()
    with progress("Fetching") as bar:
        result = get(repo, spec, out=out, remote=remote, jobs=jobs, force=force, progress=bar)
    _warn(result.warnings)
    if as_json:
        print_json(result.to_dict())
        return
    moved = ""
    if result.fetched is not None:
        f = result.fetched
        moved = f"; {plural(f.transferred, 'object')} fetched ({human_size(f.size)})"
    click.echo(
        f"Wrote {result.name} {result.version} to {out or os.path.relpath(result.path)} "
        f"({human_size(result.size)}){moved}"
    )
