"""Commands that need neither git history nor a remote must not import gitpython, fsspec or
s3fs (start-up time)."""

import subprocess
import sys
import textwrap

import pytest

_DRIVER = textwrap.dedent(
    """
    import sys
    from dvlite.cli import main
    try:
        main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
    print(code, sorted(m for m in sys.modules if m.split(".")[0] in {"git", "fsspec", "s3fs"}))
    """
)


def _modules(cwd, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", _DRIVER, *args], cwd=cwd, capture_output=True, text=True
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture
def tracked(repo, dvlite):
    (repo.root / "d").mkdir()
    (repo.root / "d" / "f").write_text("x")
    (repo.root / "m").write_text("y")
    assert dvlite("add", "d", "m").exit_code == 0
    (repo.root / "d" / "f").write_text("changed")
    (repo.root / "m").unlink()
    return repo


@pytest.mark.parametrize(
    "args",
    [
        ("status",),
        ("status", "--json", "d"),
        ("checkout", "--force"),
        ("checkout", "--relink"),
        ("fsck",),
        ("config", "cache.type", "copy"),
        ("config", "--list"),
    ],
)
def test_local_commands_import_no_git_and_no_remote_libraries(tracked, args) -> None:
    code = "1" if args == ("checkout", "--relink") else "0"  # refuses: d/f has unsaved changes
    assert _modules(tracked.root, *args) == f"{code} []"


def test_add_runs_git_without_importing_gitpython_or_remote_libraries(tracked) -> None:
    (tracked.root / "n").write_text("z")
    assert _modules(tracked.root, "add", "n") == "0 []"


def test_status_without_a_pipeline_does_not_import_yaml(tracked) -> None:
    driver = _DRIVER.replace('{"git", "fsspec", "s3fs"}', '{"yaml"}')
    result = subprocess.run(
        [sys.executable, "-c", driver, "status", "-q"], cwd=tracked.root, capture_output=True
    )
    assert result.stdout.decode().strip().splitlines()[-1] == "1 []"
