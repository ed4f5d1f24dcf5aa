import os
import subprocess
import sys


def complete(words: str, cword: int) -> list[str]:
    env = {
        **os.environ,
        "_DVLITE_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
    }
    out = subprocess.run(
        [sys.executable, "-m", "dvlite"], env=env, capture_output=True, text=True, check=True
    ).stdout
    return [line.split(",", 1)[1] for line in out.splitlines()]


def test_shell_completion_of_commands_and_subcommands() -> None:
    assert complete("dvlite re", 1) == ["remote", "remove", "report", "repro"]
    assert complete("dvlite remote a", 2) == ["add"]
