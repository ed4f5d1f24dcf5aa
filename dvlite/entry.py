"""The ``dvlite`` executable. A bare ``dvlite status``, the command run most often (by hand,
in prompts and hooks), runs without importing click: building the click app costs ~20 ms,
a tenth of a status of 20k files. Everything else goes to the click app (dvlite.cli)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dvlite.status import TargetStatus

STYLE = {
    "modified": "yellow",
    "new": "green",
    "deleted": "red",
    "not in cache": "magenta",
    "out of date": "yellow",
    "uncommitted": "cyan",
}


def main() -> None:
    if sys.argv[1:] == ["status"] and "_DVLITE_COMPLETE" not in os.environ:
        code = _status()
        if code is not None:
            sys.exit(code)
    from dvlite.cli import main as cli_main

    cli_main()


def _status() -> int | None:
    """``dvlite status`` as the click command runs it; None when it failed before printing
    anything, so that the click app runs it again and reports the error (status changes
    nothing but the state database, a cache) through the one error boundary."""
    from dvlite.errors import DvliteError

    try:
        from dvlite.repo import Repo
        from dvlite.status import status

        repo = Repo.find()
        repo.config  # noqa: B018  (a malformed config file is reported by every command)
        report = status(repo)
    except (DvliteError, OSError):
        return None
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    if report:  # clean: print nothing, and do not even import rich
        try:
            print_status(report)
        except KeyboardInterrupt:
            print("Interrupted.", file=sys.stderr)
            return 130
        except OSError as exc:
            print(f"Error: {os_error_message(exc)}", file=sys.stderr)
            return 1
    return 0


def print_status(report: list[TargetStatus]) -> None:
    """The human form of a status report (the click command prints it the same way)."""
    from rich.console import Console

    out = Console(highlight=False, soft_wrap=True)
    for target in report:
        out.print(target.source, style="bold", markup=False)
        for change in target.changes:
            out.print(
                f"    {change.state + ':':<14}{change.path}",
                style=STYLE.get(change.state),
                markup=False,
            )


def os_error_message(exc: OSError) -> str:
    """What the error boundary says about an OSError, after ``Error: ``."""
    import errno

    where = f": {exc.filename}" if exc.filename else ""
    hint = "; free some space, then run the command again" if exc.errno == errno.ENOSPC else ""
    return f"{exc.strerror or exc}{where}{hint}"
