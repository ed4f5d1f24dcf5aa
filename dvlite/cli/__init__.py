"""The command line: a thin layer that parses arguments, calls one API function, renders."""

from dvlite.cli import data  # noqa: F401  (registers the commands)
from dvlite.cli import git  # noqa: F401
from dvlite.cli import pipeline  # noqa: F401
from dvlite.cli import remote  # noqa: F401
from dvlite.cli.base import cli, main

__all__ = ["cli", "main"]
