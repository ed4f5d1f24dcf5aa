"""The command modules are imported only when one of their commands is needed."""

import importlib
import subprocess
import sys

from dvlite.cli import cli


def test_the_lazy_table_names_every_command_where_it_is_registered() -> None:
    for module in set(cli.lazy.values()):
        importlib.import_module(module)
    registered = {name: cmd.callback.__module__ for name, cmd in cli.commands.items()}
    assert registered == cli.lazy


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"import sys\n{code}\nprint(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


def test_a_command_imports_only_its_own_module() -> None:
    loaded = _modules_after("from dvlite.cli import cli\ncli.get_command(None, 'status')")
    assert {m for m in loaded if m.startswith("dvlite.cli.")} == {
        "dvlite.cli.base",
        "dvlite.cli.data",
    }


def test_the_git_hooks_import_no_yaml_rich_or_gitpython() -> None:
    loaded = _modules_after(
        "from dvlite.cli import cli\n"
        "cli.get_command(None, 'hook')\n"
        "import dvlite.hooks, dvlite.history"
    )
    assert "dvlite.hooks" in loaded
    assert {"yaml", "rich", "git", "fsspec", "concurrent.futures"} & loaded == set()
