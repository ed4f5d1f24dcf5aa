"""Git hooks, run by real git: install/uninstall beside a user's hook, pre-commit,
post-checkout and post-merge."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import git

from dvlite.ops.hooks import HOOKS, script
from dvlite.records.repo import Repo

BIN = os.path.dirname(sys.executable)


@pytest.fixture
def on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hook scripts find the dvlite of this virtual environment."""
    monkeypatch.setenv("PATH", BIN + os.pathsep + os.environ["PATH"])


def git_run(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env)


def two_branches(repo: Repo, dvlite) -> Path:  # type: ignore[no-untyped-def]
    """main: data/{a,b,sub/c} and model.bin; other: b changed, sub/c deleted, d added, no model."""
    root = repo.root
    root.joinpath("data", "sub").mkdir(parents=True)
    (root / "data" / "a").write_text("a")
    (root / "data" / "b").write_text("b")
    (root / "data" / "sub" / "c").write_text("c")
    (root / "model.bin").write_text("weights")
    assert dvlite("add", "data", "model.bin").exit_code == 0
    git(root, "commit", "-qm", "main data")
    git(root, "checkout", "-q", "-b", "other")
    (root / "data" / "b").write_text("b on other")
    (root / "data" / "sub" / "c").unlink()
    (root / "data" / "d").write_text("d")
    assert dvlite("add", "data").exit_code == 0
    assert dvlite("remove", "model.bin.dvl").exit_code == 0
    (root / "model.bin").unlink()
    git(root, "add", "-A")
    git(root, "commit", "-qm", "other data")
    return root


def files(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): p.read_text()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


MAIN = {"a": "a", "b": "b", "sub/c": "c"}
OTHER = {"a": "a", "b": "b on other", "d": "d"}


def test_branch_switch_updates_the_data_through_the_hook(repo: Repo, dvlite, on_path) -> None:
    root = two_branches(repo, dvlite)
    result = dvlite("install")
    assert (result.exit_code, result.stdout) == (
        0,
        "installed pre-commit\ninstalled post-checkout\ninstalled post-merge\ninstalled pre-push\n",
    )
    assert files(root / "data") == OTHER

    switch = git_run(root, "checkout", "-q", "main")
    assert switch.returncode == 0, switch.stderr
    assert switch.stderr == "dvlite: data updated (2 added, 1 modified, 1 deleted)\n"
    assert files(root / "data") == MAIN
    assert (root / "model.bin").read_text() == "weights"
    assert dvlite("status").stdout == ""

    switch = git_run(root, "checkout", "-q", "other")
    assert (switch.returncode, switch.stderr) == (
        0,
        "dvlite: data updated (1 added, 1 modified, 2 deleted)\n",
    )
    assert files(root / "data") == OTHER
    assert not (root / "model.bin").exists()  # no longer tracked there; its bytes are in the cache


def test_a_file_checkout_is_not_a_branch_switch(repo: Repo, dvlite, on_path) -> None:
    root = two_branches(repo, dvlite)
    dvlite("install")
    result = git_run(root, "checkout", "main", "--", "data.dvl")
    assert (result.returncode, result.stderr) == (0, "")
    assert files(root / "data") == OTHER  # the third argument was 0: nothing to do


def test_post_merge_updates_the_data(repo: Repo, dvlite, on_path) -> None:
    root = two_branches(repo, dvlite)
    git(root, "checkout", "-q", "main")  # hooks not installed yet: data stays as on other
    assert dvlite("checkout").exit_code == 0
    dvlite("install")
    merge = git_run(root, "merge", "-q", "--ff-only", "other")
    assert merge.returncode == 0, merge.stderr
    assert merge.stderr == "dvlite: data updated (1 added, 1 modified, 2 deleted)\n"
    assert files(root / "data") == OTHER


def test_switch_keeps_unsaved_changes(repo: Repo, dvlite, on_path) -> None:
    root = two_branches(repo, dvlite)
    dvlite("install")
    (root / "data" / "b").write_text("my unsaved edit")
    switch = git_run(root, "checkout", "-q", "main")
    assert switch.returncode == 1
    assert switch.stderr == (
        "dvlite post-checkout: the data was not updated because it has changes that are not in the "
        "cache: data/b; `dvlite add` them (or `dvlite checkout --force` to discard them)\n"
    )
    assert (root / "data" / "b").read_text() == "my unsaved edit"
    assert (root / "data" / "d").read_text() == "d"


def test_existing_hook_still_runs_after_install_and_after_uninstall(
    repo: Repo, dvlite, on_path
) -> None:
    root = two_branches(repo, dvlite)
    hook = root / ".git" / "hooks" / "post-checkout"
    hook.write_text('#!/bin/sh\necho "user hook $3" >> user-hook.log\n')
    hook.chmod(0o755)

    result = dvlite("install")
    assert (
        result.stdout.splitlines()[1]
        == "  chained post-checkout  (your hook now runs from post-checkout.pre-dvlite)"
    )
    assert (
        (root / ".git" / "hooks" / "post-checkout.pre-dvlite")
        .read_text()
        .startswith("#!/bin/sh\necho")
    )
    git(root, "checkout", "-q", "main")
    assert (root / "user-hook.log").read_text() == "user hook 1\n"
    assert files(root / "data") == MAIN

    result = dvlite("uninstall")
    assert (
        result.stdout == "  removed pre-commit\n"
        " restored post-checkout  (your previous post-checkout is back)\n"
        "  removed post-merge\n"
        "  removed pre-push\n"
    )
    assert hook.read_text() == '#!/bin/sh\necho "user hook $3" >> user-hook.log\n'
    git(root, "checkout", "-q", "other")
    assert (root / "user-hook.log").read_text() == "user hook 1\nuser hook 1\n"
    assert files(root / "data") == MAIN  # dvlite's hook is gone


def test_failing_user_pre_commit_hook_still_stops_the_commit(repo: Repo, dvlite, on_path) -> None:
    hook = repo.root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'user says no' >&2\nexit 3\n")
    hook.chmod(0o755)
    dvlite("install")
    (repo.root / "f.txt").write_text("x")
    git(repo.root, "add", "f.txt")
    commit = git_run(repo.root, "commit", "-qm", "x")
    assert (commit.returncode, commit.stderr) == (1, "user says no\n")


def test_install_refuses_an_unexpected_hook_without_force(repo: Repo, dvlite, on_path) -> None:
    hooks = repo.root / ".git" / "hooks"
    (hooks / "pre-commit").write_text("#!/bin/sh\necho mine\n")
    (hooks / "pre-commit.pre-dvlite").write_text("#!/bin/sh\necho older\n")
    result = dvlite("install")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {hooks / 'pre-commit'} exists and so does pre-commit.pre-dvlite; dvlite will not "
        "overwrite it. Move it away, or run `dvlite install --force` to move it to "
        "pre-commit.dvlite-backup\n"
    )
    assert not (hooks / "post-checkout").exists()  # nothing was installed

    result = dvlite("install", "--force")
    assert result.exit_code == 0
    assert (
        result.stdout.splitlines()[0]
        == "backed up pre-commit  (the previous pre-commit was moved to pre-commit.dvlite-backup)"
    )
    assert (hooks / "pre-commit.dvlite-backup").read_text() == "#!/bin/sh\necho mine\n"
    assert (hooks / "pre-commit").read_text() == script("pre-commit")


def test_install_honours_core_hooks_path(repo: Repo, dvlite, on_path) -> None:
    git(repo.root, "config", "core.hooksPath", "githooks")
    assert dvlite("install").exit_code == 0
    assert sorted(p.name for p in (repo.root / "githooks").iterdir()) == sorted(HOOKS)
    assert not (repo.root / ".git" / "hooks" / "pre-commit").exists()


def test_install_twice_updates_in_place(repo: Repo, dvlite, on_path) -> None:
    dvlite("install")
    result = dvlite("install")
    assert result.stdout == (
        "  updated pre-commit\n  updated post-checkout\n  updated post-merge\n  updated pre-push\n"
    )
    assert not list((repo.root / ".git" / "hooks").glob("*.pre-dvlite"))


def test_hook_without_dvlite_repository_or_without_dvlite_on_path(
    scm: Path, dvlite, on_path
) -> None:
    git(scm, "commit", "-q", "--allow-empty", "-m", "one")
    hook = scm / ".git" / "hooks" / "post-checkout"
    hook.write_text(script("post-checkout"))
    hook.chmod(0o755)
    git(scm, "checkout", "-q", "-b", "two")
    git(scm, "commit", "-q", "--allow-empty", "-m", "two")
    git(scm, "checkout", "-q", "main")
    switch = git_run(scm, "checkout", "-q", "two")
    assert (switch.returncode, switch.stderr) == (
        0,
        "dvlite: no .dvlite/ in this repository, so the post-checkout hook did nothing\n",
    )
    no_dvlite = {
        **os.environ,
        "PATH": os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != BIN),
    }
    switch = git_run(scm, "checkout", "-q", "-", env=no_dvlite)
    assert switch.returncode == 0
    assert switch.stderr == (
        "dvlite: not on PATH, so the post-checkout hook did nothing "
        "(install dvlite or run `dvlite uninstall`)\n"
    )


def test_pre_commit_refuses_a_stale_pointer(repo: Repo, dvlite, on_path) -> None:
    root = repo.root
    (root / "data").mkdir()
    (root / "data" / "x").write_text("x")
    dvlite("add", "data")
    dvlite("install")
    (root / "data" / "x").write_text("changed after add")
    commit = git_run(root, "commit", "-qm", "stale")
    assert commit.returncode == 1
    assert commit.stderr == (
        "dvlite: data does not match the staged data.dvl; run `dvlite add data` and stage "
        "data.dvl again\n"
        "dvlite: commit refused (to commit anyway: `git commit --no-verify`; to only warn: "
        "`dvlite config hooks.strict false`)\n"
    )
    assert dvlite("add", "data").exit_code == 0
    commit = git_run(root, "commit", "-qm", "fresh")
    assert (commit.returncode, commit.stderr) == (0, "")


def test_pre_commit_refuses_an_object_missing_from_the_cache(repo: Repo, dvlite, on_path) -> None:
    (repo.root / "model.bin").write_text("weights")
    result = dvlite("add", "model.bin", "--json")
    oid = result.stdout.split('"oid": "')[1].split('"')[0]
    os.unlink(repo.cache.path(oid))
    dvlite("install")
    commit = git_run(repo.root, "commit", "-qm", "x")
    assert commit.returncode == 1
    assert commit.stderr.splitlines()[0] == (
        "dvlite: not in the cache: model.bin (of model.bin.dvl); "
        "run `dvlite add model.bin` to store it"
    )


def test_pre_commit_only_warns_when_not_strict(repo: Repo, dvlite, on_path) -> None:
    (repo.root / "model.bin").write_text("weights")
    dvlite("add", "model.bin")
    (repo.root / "model.bin").write_text("new weights, not added")
    assert dvlite("config", "hooks.strict", "false").exit_code == 0
    git(repo.root, "add", ".dvlite/config")
    dvlite("install")
    commit = git_run(repo.root, "commit", "-qm", "x")
    assert (commit.returncode, commit.stderr) == (
        0,
        "dvlite: model.bin does not match the staged model.bin.dvl; "
        "run `dvlite add model.bin` and stage model.bin.dvl again\n",
    )


def test_hook_reads_the_pre_commit_frameworks_variables(
    repo: Repo, dvlite, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = two_branches(repo, dvlite)
    old, new = git(root, "rev-parse", "other").strip(), git(root, "rev-parse", "main").strip()
    git(root, "checkout", "-q", "main")  # no hooks installed: the data is still other's
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", old)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", new)
    monkeypatch.setenv("PRE_COMMIT_CHECKOUT_TYPE", "1")
    result = dvlite("hook", "post-checkout")
    assert (result.exit_code, result.stderr) == (
        0,
        "dvlite: data updated (2 added, 1 modified, 1 deleted)\n",
    )
    assert files(root / "data") == MAIN


def test_post_checkout_stays_out_of_a_rebase(repo: Repo, dvlite, on_path) -> None:
    root = repo.root
    (root / "model.bin").write_text("v1")
    dvlite("add", "model.bin")
    git(root, "commit", "-qm", "v1")
    git(root, "checkout", "-q", "-b", "feature")
    (root / "notes.txt").write_text("notes")
    git(root, "add", "notes.txt")
    git(root, "commit", "-qm", "notes")
    git(root, "checkout", "-q", "main")
    (root / "model.bin").write_text("v2")
    dvlite("add", "model.bin")
    git(root, "commit", "-qm", "v2")
    git(root, "checkout", "-q", "feature")
    assert dvlite("checkout").exit_code == 0
    dvlite("install")
    rebase = git_run(root, "rebase", "-q", "main")
    assert (rebase.returncode, rebase.stderr) == (0, "")
    assert (root / "model.bin").read_text() == "v1"  # untouched while git rebased
    assert dvlite("checkout").exit_code == 0
    assert (root / "model.bin").read_text() == "v2"
