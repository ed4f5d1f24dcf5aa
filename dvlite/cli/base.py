"""The click group, the error boundary, and output helpers shared by every command."""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

import click

from dvlite import __version__

if TYPE_CHECKING:
    from rich.console import Console

    from dvlite.git.history import Revisions
    from dvlite.records.repo import Repo

CONTEXT: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class LazyGroup(click.Group):
    """A group whose commands register when their module is first needed (cli/__init__.py)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, str] = {}  # command name -> the module that registers it

    def add_lazy(self, module: str, names: Iterable[str]) -> None:
        self.lazy.update(dict.fromkeys(names, module))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.commands.keys() | self.lazy.keys())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            importlib.import_module(self.lazy[cmd_name])
        return self.commands.get(cmd_name)


@click.group(cls=LazyGroup, context_settings=CONTEXT)
@click.version_option(__version__, "--version", "-V", prog_name="dvlite")
def cli() -> None:
    """Version datasets and model files next to your code, with git.

    Data lives in a content-addressed cache; small pointer files (.dvl) go into git.
    """


def flag(*names: str, help: str) -> Callable[..., Any]:
    return click.option(*names, is_flag=True, help=help)


json_option = flag("--json", "as_json", help="Print the result as JSON.")
md_option = flag("--md", "as_md", help="Print the table as Markdown.")


def open_repo() -> Repo:
    from dvlite.records.repo import Repo

    repo = Repo.find()
    repo.config  # noqa: B018  (a malformed config file is reported by every command, at once)
    return repo


def pop_revisions(options: dict[str, Any]) -> Revisions:
    """What a command's --rev, -a/--all-branches, -T/--all-tags, -A/--all-commits and
    --all-experiments select (those it has), taken out of its keyword arguments ``options``."""
    from dvlite.git.history import Revisions

    keys = ("revs", "all_branches", "all_tags", "all_commits", "all_experiments")
    return Revisions(**{key: options.pop(key) for key in keys if key in options})


def console(stderr: bool = False) -> Console:
    """The rich console every command prints through (and progress bars draw on, with
    ``stderr``). With NO_COLOR set it prints no colour and no style at all (https://no-color.org)."""
    from rich.console import Console

    colour: Literal["auto"] | None = None if os.environ.get("NO_COLOR") else "auto"
    out = Console(highlight=False, soft_wrap=True, stderr=stderr, color_system=colour)
    if not out.is_terminal:  # a pipe or a file: never cut a value to fit 80 columns
        out.width = 1 << 20
    return out


def print_table(
    columns: list[str],
    rows: Iterable[Iterable[str]],
    *,
    right: Iterable[str] = (),
    title: str | None = None,
    as_md: bool = False,
) -> None:
    """The one way a command prints a table: rich on a terminal (long cells fold onto more
    lines, never cut), whole cells in a pipe, or Markdown with ``as_md``. Cells are plain text,
    never rich markup."""
    right = set(right)
    if as_md:

        def cell(value: str) -> str:
            return value.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

        lines = ["| " + " | ".join(columns) + " |"]
        lines.append("| " + " | ".join("---:" if c in right else "---" for c in columns) + " |")
        lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
        click.echo("\n".join(lines))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(col, justify="right" if col in right else "left", overflow="fold")
    for row in rows:
        table.add_row(*(Text(v) for v in row))
    console().print(table)


def print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


FILE_COST = 64 << 10  # what one file weighs against bytes in the bar (its requests, its inode)


class Bar:
    """The progress bar of every long command (a ``dvlite.progress.Progress``; threads advance
    it): files and bytes. It fills, and its ETA runs, by bytes plus ``FILE_COST`` per file, so
    that neither 20,000 small files nor one big one (its bytes counted as they move) stalls it.
    """

    def __init__(self, label: str) -> None:
        from rich import progress as bars

        self.rich = bars.Progress(
            bars.TextColumn("{task.description}"),
            bars.BarColumn(),
            bars.TextColumn("{task.fields[files]}"),
            bars.TextColumn("{task.fields[bytes]}"),
            bars.TimeElapsedColumn(),
            bars.TimeRemainingColumn(),
            console=console(stderr=True),
            transient=True,
        )
        self.task = self.rich.add_task(label, total=None, files="", bytes="")
        self._lock = threading.Lock()
        self.files = self.size = self.total_files = self.total_size = 0
        self._started = False

    def start(self, files: int, size: int) -> None:
        with self._lock:
            self._started = True
            self.total_files += files
            self.total_size += size
            self._show()

    def advance(self, files: int, size: int) -> None:
        with self._lock:
            self.files += files
            self.size += size
            self._show()

    def _show(self) -> None:
        if not self._started:  # no totals yet: nothing to show but the label
            return
        by_bytes = self.total_size > 0
        self.rich.update(
            self.task,
            completed=self.size + self.files * FILE_COST,
            total=self.total_size + self.total_files * FILE_COST,
            files=f"{self.files:,}/{plural(self.total_files, 'file')}",
            bytes=f"{human_size(self.size)}/{human_size(self.total_size)}" if by_bytes else "",
        )


@contextmanager
def progress(label: str) -> Iterator[Bar | None]:
    """A progress bar on a terminal (never in CI logs), None elsewhere."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        yield None
        return
    bar = Bar(label)
    with bar.rich:
        yield bar


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 object``, ``20,000 objects``: a count with its noun, never ``object(s)``."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def main(argv: list[str] | None = None) -> None:
    """The error boundary: every failure becomes a one-line message and a documented exit code."""
    from dvlite.errors import DvliteError

    code, error = 1, ""
    try:
        code = cli.main(args=argv, prog_name="dvlite", standalone_mode=False)
    except click.exceptions.Abort:
        code, error = 130, "Aborted."
    except KeyboardInterrupt:
        code, error = 130, "Interrupted."
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except DvliteError as exc:
        error = f"Error: {exc}"
    except RecursionError:  # a backstop: walks are bounded by safepath.MAX_DEPTH
        from dvlite.safepath import MAX_DEPTH

        error = f"Error: data nested too deeply to walk (dvlite tracks at most {MAX_DEPTH} levels"
        error += " of folders)"
    except OSError as exc:
        import errno

        where = f": {exc.filename}" if exc.filename else ""
        hint = "; free some space, then run the command again" if exc.errno == errno.ENOSPC else ""
        error = f"Error: {exc.strerror or exc}{where}{hint}"
    if error:
        click.echo(error, err=True)
    sys.exit(code if isinstance(code, int) else 0)
