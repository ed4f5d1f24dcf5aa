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


def _repo(root: Path):  # type: ignore[no-untyped-def]
    import git

    try:
        return git.Repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise ScmError(f"{root} is not a git repository") from None


def stage(root: Path, paths: Iterable[str]) -> None:
    """``git add`` the given repo-relative paths (pointers, .gitignore files)."""
    import git

    paths = sorted(set(paths))
    if not paths:
        return
    try:
        _repo(root).git.add("--", *paths)
    except git.GitCommandError as exc:
        raise ScmError(f"git add failed: {_stderr(exc)}") from None


def unstage_removed(root: Path, paths: Iterable[str]) -> None:
    """Record the removal of files in git's index (``git rm --cached``), if git tracks them."""
    import git

    paths = sorted(set(paths))
    if not paths:
        return
    try:
        _repo(root).git.rm("--cached", "--ignore-unmatch", "-q", "--", *paths)
    except git.GitCommandError as exc:
        raise ScmError(f"git rm failed: {_stderr(exc)}") from None


def _stderr(exc: Exception) -> str:
    text = getattr(exc, "stderr", "") or str(exc)
    lines = [line.strip() for line in str(text).strip().strip("'").splitlines() if line.strip()]
    return lines[-1] if lines else str(exc)


def in_git_dir(path: Path) -> bool:
    return ".git" in path.parts or os.path.basename(path) == ".git"


def is_tracked(root: Path, rel: str) -> bool:
    """Whether git's index holds ``rel`` or anything below it."""
    import git

    try:
        return bool(_repo(root).git.ls_files("--", rel).strip())
    except git.GitCommandError as exc:
        raise ScmError(f"git ls-files failed: {_stderr(exc)}") from None
