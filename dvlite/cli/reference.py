"""Render the command reference (docs/commands.md) from the commands' own --help.

``python -m dvlite.cli.reference > docs/commands.md``; a test keeps the file in step.
"""

from __future__ import annotations

import click

from dvlite.cli import cli
from dvlite.cli.base import CONTEXT


def _commands(group: click.Group, ctx: click.Context) -> list[tuple[str, click.Command]]:
    found = []
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None
        found.append((name, cmd))
        if isinstance(cmd, click.Group):
            sub_ctx = click.Context(cmd, info_name=name, parent=ctx)
            found += [(f"{name} {sub}", subcmd) for sub, subcmd in _commands(cmd, sub_ctx)]
    return found


def render() -> str:
    root = click.Context(
        cli,
        info_name="dvlite",
        terminal_width=100,
        help_option_names=CONTEXT["help_option_names"],
        max_content_width=CONTEXT["max_content_width"],
    )
    parts = [
        "# Command reference\n",
        "Generated from each command's `--help` by `make docs`; a test fails when it goes stale.\n",
        "```text\n" + cli.get_help(root) + "\n```\n",
    ]
    for name, cmd in _commands(cli, root):
        parent = root
        for word in name.split()[:-1]:
            group = parent.command
            assert isinstance(group, click.Group)
            sub = group.get_command(parent, word)
            assert sub is not None
            parent = click.Context(sub, info_name=word, parent=parent)
        ctx = click.Context(cmd, info_name=name.split()[-1], parent=parent)
        parts.append(f"## dvlite {name}\n\n```text\n{cmd.get_help(ctx)}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
