"""The command line: a thin layer that parses arguments, calls one API function, renders."""

from dvlite.cli.base import cli, main

# Each module registers its commands on `cli` when imported, which happens only when one of
# them runs (or --help lists them all): a command does not pay for importing the others.
# Add a line for a new module; tests/test_cli_lazy.py checks this table against the modules.
cli.add_lazy(
    "dvlite.cli.data",
    ("init", "add", "status", "checkout", "unprotect", "remove", "config", "fsck"),
)
cli.add_lazy("dvlite.cli.checks", ("check",))
cli.add_lazy("dvlite.cli.exp", ("exp",))
cli.add_lazy("dvlite.cli.git", ("install", "uninstall", "hook", "diff", "ls", "gc"))
cli.add_lazy("dvlite.cli.models", ("model",))
cli.add_lazy(
    "dvlite.cli.pipeline", ("stage", "run", "repro", "dag", "lineage", "metrics", "params")
)
cli.add_lazy("dvlite.cli.plots", ("plots", "report"))
cli.add_lazy("dvlite.cli.remote", ("remote", "push", "fetch", "pull"))
cli.add_lazy("dvlite.cli.share", ("get", "import", "import-url", "update", "migrate-dvc"))
cli.add_lazy("dvlite.cli.info", ("doctor", "du"))
cli.add_lazy("dvlite.cli.tracking", ("check-ignore", "commit", "move"))

__all__ = ["cli", "main"]
