from pathlib import Path

from dvlite.cli.reference import render

ROOT = Path(__file__).resolve().parent.parent


def test_command_reference_matches_help() -> None:
    """docs/commands.md is generated from --help; regenerate with `make docs`."""
    assert (ROOT / "docs" / "commands.md").read_text(encoding="utf-8") == render()
