"""The git index operations of add and remove, run as plain git processes (``gitcmd``):
importing gitpython alone costs more (0.1-0.2 s) than the whole `git add` it would run."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from dvlite.git import cmd as gitcmd


def stage(root: Path, paths: Iterable[str]) -> None:
    """``git add`` the given repo-relative paths (pointers, .gitignore files)."""
    paths = sorted(set(paths))
    if paths:
        gitcmd.run(root, "add", "--", *paths)


def not_ignored(root: Path, paths: Iterable[str]) -> list[str]:
    """The paths that a .gitignore does not exclude (``git add`` refuses those it does)."""
    paths = sorted(set(paths))
    if not paths:
        return []
    out = gitcmd.run(root, "check-ignore", "-z", "--", *paths, check=False)
    ignored = set(out.decode("utf-8", errors="surrogateescape").split("\0"))
    return [p for p in paths if p not in ignored]


def unstage_removed(root: Path, paths: Iterable[str]) -> None:
    """Record the removal of files in git's index (``git rm --cached``), if git tracks them."""
    paths = sorted(set(paths))
    if paths:
        gitcmd.run(root, "rm", "--cached", "--ignore-unmatch", "-q", "--", *paths)


def tracked_files(root: Path, rel: str) -> list[str]:
    """The files git's index holds at or below ``rel``."""
    return gitcmd.lines(root, "ls-files", "-z", "--", rel)
