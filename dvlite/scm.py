"""The few git operations dvlite needs. gitpython is imported only here, and only when
one of these functions runs, so commands that never touch git stay fast. The index
operations of add and remove run git directly: importing gitpython alone costs more
(0.1-0.2 s) than the whole `git add` it would run."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

from dvlite.errors import ScmError


def find_git_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` that has a ``.git`` (no git process needed)."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _repo(root: Path):  # type: ignore[no-untyped-def]
    import git

    try:
        return git.Repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise ScmError(f"{root} is not a git repository") from None


def _git(root: Path, what: str, *args: str) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    except FileNotFoundError:
        raise ScmError("git is not installed; install it, or use `dvlite init --no-scm`") from None
    if proc.returncode != 0:
        if "not a git repository" in proc.stderr:
            raise ScmError(f"{root} is not a git repository")
        raise ScmError(f"{what} failed: {_stderr(proc.stderr)}")
    return proc.stdout


def stage(root: Path, paths: Iterable[str]) -> None:
    """``git add`` the given repo-relative paths (pointers, .gitignore files)."""
    paths = sorted(set(paths))
    if paths:
        _git(root, "git add", "add", "--", *paths)


def unstage_removed(root: Path, paths: Iterable[str]) -> None:
    """Record the removal of files in git's index (``git rm --cached``), if git tracks them."""
    paths = sorted(set(paths))
    if paths:
        _git(root, "git rm", "rm", "--cached", "--ignore-unmatch", "-q", "--", *paths)


def _stderr(exc: Exception | str) -> str:
    text = exc if isinstance(exc, str) else getattr(exc, "stderr", "") or str(exc)
    lines = [line.strip() for line in str(text).strip().strip("'").splitlines() if line.strip()]
    return lines[-1] if lines else str(exc)


def in_git_dir(path: Path) -> bool:
    return ".git" in path.parts or os.path.basename(path) == ".git"


def is_tracked(root: Path, rel: str) -> bool:
    """Whether git's index holds ``rel`` or anything below it."""
    return bool(_git(root, "git ls-files", "ls-files", "--", rel).strip())
