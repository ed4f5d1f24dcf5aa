"""The few git operations dvlite needs. gitpython is imported only here, and only when
one of these functions runs, so commands that never touch git stay fast."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from dvlite.errors import ScmError


def find_git_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` that has a ``.git`` (no git process needed)."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def import_git():
    """The gitpython module; ScmError (not an ImportError traceback) when git is missing."""
    try:
        import git
    except ImportError:
        raise ScmError(
            "git is not installed or not on PATH; install git, or use a repository "
            "initialised with `dvlite init --no-scm`"
        ) from None
    return git


def _repo(root: Path):
    git = import_git()

    try:
        repo = git.Repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise ScmError(f"{root} is not a git repository") from None
    # paths are file names, never patterns: `git add 'a*.dvl'` must not stage `ab.dvl`
    repo.git.update_environment(GIT_LITERAL_PATHSPECS="1")
    return repo


def stage(root: Path, paths: Iterable[str]) -> None:
    """``git add`` the given repo-relative paths (pointers, .gitignore files)."""
    git = import_git()

    paths = sorted(set(paths))
    if not paths:
        return
    try:
        _repo(root).git.add("--", *paths)
    except git.CommandError as exc:
        raise ScmError(f"git add failed: {_stderr(exc)}") from None


def unstage_removed(root: Path, paths: Iterable[str]) -> None:
    """Record the removal of files in git's index (``git rm --cached``), if git tracks them."""
    git = import_git()

    paths = sorted(set(paths))
    if not paths:
        return
    try:
        _repo(root).git.rm("--cached", "--ignore-unmatch", "-q", "--", *paths)
    except git.CommandError as exc:
        raise ScmError(f"git rm failed: {_stderr(exc)}") from None


def _stderr(exc: Exception) -> str:
    text = getattr(exc, "stderr", "") or str(exc)
    lines = [line.strip() for line in str(text).strip().strip("'").splitlines() if line.strip()]
    return lines[-1] if lines else str(exc)


def in_git_dir(path: Path) -> bool:
    return ".git" in path.parts or os.path.basename(path) == ".git"


def is_tracked(root: Path, rel: str) -> bool:
    """Whether git's index holds ``rel`` or anything below it."""
    git = import_git()

    try:
        return bool(_repo(root).git.ls_files("--", rel).strip())
    except git.CommandError as exc:
        raise ScmError(f"git ls-files failed: {_stderr(exc)}") from None
