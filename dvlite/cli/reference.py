"""Render the command reference (docs/commands.md) from the commands' own --help.

``python -m dvlite.cli.reference > docs/commands.md``; a test keeps the file in step.
"""

from __future__ import annotations

from collections.abc import Iterator

import click

from dvlite.cli import cli
from dvlite.cli.base import CONTEXT


def _commands(
    group: click.Group, parent: click.Context, prefix: str = ""
) -> Iterator[tuple[str, click.Command, click.Context]]:
    """Every command below ``group`` (sub-commands after their group), with its context."""
    for name in group.list_commands(parent):
        cmd = group.get_command(parent, name)
        assert cmd is not None
        ctx = click.Context(cmd, info_name=name, parent=parent)
        yield prefix + name, cmd, ctx
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, ctx, f"{prefix}{name} ")


def render() -> str:
    root = click.Context(cli, info_name="dvlite", terminal_width=100, **CONTEXT)
    parts = [
        "# Command reference\n",
        "Generated from each command's `--help` by `make docs`; a test fails when it goes stale.\n",
        "```text\n" + cli.get_help(root) + "\n```\n",
    ]
    for name, cmd, ctx in _commands(cli, root):
        parts.append(f"## dvlite {name}\n\n```text\n{cmd.get_help(ctx)}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
