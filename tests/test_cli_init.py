import subprocess
import sys

from helpers import git, run_main

from dvlite import __version__


def test_init_in_git_repo_stages_config(scm, dvlite) -> None:
    result = dvlite("init")
    assert result.exit_code == 0, result.output
    assert (scm / ".dvlite" / "config").read_text() == "[core]\n"
    assert (scm / ".dvlite" / ".gitignore").read_text() == "/config.local\n/tmp\n/cache\n"
    staged = git(scm, "diff", "--cached", "--name-only").split()
    assert staged == [".dvlite/.gitignore", ".dvlite/config", ".dvliteignore"]


def test_init_from_subfolder_goes_to_git_root(scm, dvlite, monkeypatch) -> None:
    (scm / "a" / "b").mkdir(parents=True)
    monkeypatch.chdir(scm / "a" / "b")
    assert dvlite("init").exit_code == 0
    assert (scm / ".dvlite").is_dir()
    assert not (scm / "a" / "b" / ".dvlite").exists()


def test_init_no_scm_in_plain_folder(tmp_dir, dvlite) -> None:
    result = dvlite("init", "--no-scm")
    assert result.exit_code == 0, result.output
    assert (tmp_dir / ".dvlite" / "config").read_text() == "[core]\nno_scm = true\n"
    tmp_dir.gen({"f.txt": "x"})
    assert dvlite("add", "f.txt").exit_code == 0
    assert dvlite("status").stdout == ""


def test_init_outside_git_is_an_error(tmp_dir, dvlite) -> None:
    result = dvlite("init")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {tmp_dir} is not in a git repository; "
        "run `git init` first, or `dvlite init --no-scm`\n"
    )
    assert not (tmp_dir / ".dvlite").exists()


def test_init_twice_is_an_error_and_force_keeps_settings(scm, dvlite) -> None:
    assert dvlite("init").exit_code == 0
    assert dvlite("config", "cache.type", "hardlink,copy").exit_code == 0
    result = dvlite("init")
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"Error: {scm / '.dvlite'} already exists; use --force to initialise it again\n"
    )
    assert dvlite("init", "--force").exit_code == 0
    # --force repairs .dvlite/ but never throws away the settings already made there
    assert dvlite("config", "cache.type").stdout == "hardlink,copy\n"
    assert (scm / ".dvlite" / ".gitignore").read_text() == "/config.local\n/tmp\n/cache\n"


def test_version(dvlite) -> None:
    result = dvlite("--version")
    assert (result.exit_code, result.stdout) == (0, f"dvlite, version {__version__}\n")


def test_python_dash_m(tmp_dir) -> None:
    result = run_main("--version")
    assert (result.returncode, result.stdout) == (0, f"dvlite, version {__version__}\n")
    result = run_main("status")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ") and "run `dvlite init` first" in result.stderr
    assert "Traceback" not in result.stderr


def test_commands_outside_a_repo(tmp_dir, dvlite) -> None:
    for args in (("status",), ("add", "x"), ("checkout",), ("remove", "x.dvl"), ("fsck",)):
        result = dvlite(*args)
        assert result.exit_code == 1, args
        assert result.stderr == (
            f"Error: {tmp_dir} is not inside a dvlite repository; run `dvlite init` first\n"
        ), args


def test_usage_errors_exit_2(repo, dvlite) -> None:
    assert dvlite("add").exit_code == 2
    assert dvlite("no-such-command").exit_code == 2
    result = dvlite("status", "--no-such-option")
    assert result.exit_code == 2
    assert "No such option '--no-such-option'" in result.stderr
    assert dvlite("config").exit_code == 2


def test_help(dvlite) -> None:
    result = dvlite("--help")
    assert result.exit_code == 0
    for command in ("init", "add", "status", "checkout", "remove", "config", "fsck"):
        assert command in result.stdout


def test_git_missing_is_a_clear_error(repo, tmp_dir) -> None:
    tmp_dir.gen({"f.txt": "x"})
    env = {"PATH": str(tmp_dir / "no-bin"), "HOME": str(tmp_dir)}
    result = subprocess.run(
        [sys.executable, "-m", "dvlite", "add", "f.txt"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: git") and "git" in result.stderr
    assert result.stderr.count("\n") == 1
