"""Start-up: command modules are imported only when one of their commands is needed, and the
git hooks find what they need without extra imports or git processes."""

import importlib
import subprocess
import sys
from pathlib import Path

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
        "import dvlite.ops.hooks, dvlite.git.history"
    )
    assert "dvlite.ops.hooks" in loaded
    assert {"yaml", "rich", "git", "fsspec", "concurrent.futures"} & loaded == set()


def test_git_dir_without_git_matches_git(tmp_path) -> None:
    from dvlite.git import cmd as gitcmd

    main, linked = tmp_path / "main", tmp_path / "linked"
    subprocess.run(["git", "init", "-q", str(main)], check=True)
    who = ["-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(
        ["git", "-C", str(main), *who, "commit", "-q", "--allow-empty", "-m", "x"], check=True
    )
    subprocess.run(["git", "-C", str(main), "worktree", "add", "-q", str(linked)], check=True)
    for root in (main, linked):
        asked = subprocess.run(
            ["git", "rev-parse", "--absolute-git-dir"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        assert gitcmd.git_dir(root) == Path(asked).resolve()
    assert gitcmd.git_dir(linked).parent.name == "worktrees"
