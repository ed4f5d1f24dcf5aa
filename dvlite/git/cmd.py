"""Plain ``git`` subprocesses: dvlite's one way into git (no gitpython). One ``cat-file
--batch`` process reads any number of blobs, so reading history stays cheap for history,
diff, ls, gc, lineage, metrics and the git hooks, where start-up time matters."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from dvlite.errors import ScmError

NULL_SHA = "0" * 40


def run(
    root: Path,
    *args: str,
    input: bytes | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
) -> bytes:
    """``git ARGS`` in ``root`` (with ``env`` added to the environment); its stdout. A failure
    raises ScmError with git's own words."""
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=root,
            input=input,
            capture_output=True,
            # dvlite passes file names, never patterns: `git add 'a*.dvl'` must not stage `ab.dvl`
            env={**os.environ, "GIT_LITERAL_PATHSPECS": "1", **(env or {})},
        )
    except FileNotFoundError:
        raise ScmError(
            "git is not installed (or not on PATH); install it, or use `dvlite init --no-scm`"
        ) from None
    if check and proc.returncode != 0:
        stderr = proc.stderr.decode(errors="replace")
        if "not a git repository" in stderr:
            raise ScmError(f"{root} is not a git repository")
        lines = [line for line in stderr.splitlines() if line.strip()]
        why = lines[-1].strip() if lines else f"exit code {proc.returncode}"
        raise ScmError(f"git {args[0]} failed: {why}")
    return proc.stdout


def git_dir(root: Path) -> Path:
    """The git directory of the work tree at ``root``: ``.git``, or where a ``.git`` file
    points (linked worktrees, submodules); asks git only when neither tells."""
    dot = root / ".git"
    if "GIT_DIR" not in os.environ:
        if dot.is_dir():
            return dot.resolve()
        try:
            text = dot.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        if text.startswith("gitdir: ") and text.count("\n") <= 1:
            return (root / text[len("gitdir: ") :].strip()).resolve()
    return Path(run(root, "rev-parse", "--absolute-git-dir").decode().strip())


def lines(root: Path, *args: str) -> list[str]:
    """NUL-separated output of ``git ARGS -z`` as a list."""
    out = run(root, *args)
    return [p for p in out.decode("utf-8", errors="surrogateescape").split("\0") if p]


def rev_parse(root: Path, rev: str) -> str | None:
    """The commit id ``rev`` names, or None when there is no such commit."""
    args = ("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    return run(root, *args, check=False).decode().strip() or None


def is_dirty(root: Path, rel: str) -> bool:
    """Whether ``rel`` differs from the last commit, staged or not, or was never committed."""
    return bool(run(root, "status", "--porcelain", "--untracked-files=all", "--", rel).strip())


def has_path(root: Path, commit: str, rel: str) -> bool:
    """Whether ``rel`` (a file or a folder) exists at ``commit``."""
    return bool(run(root, "rev-parse", "--verify", "--quiet", f"{commit}:{rel}", check=False))


def read_blobs(root: Path, specs: list[str], kind: str = "blob") -> dict[str, bytes | None]:
    """The contents of many blobs (``<sha>`` or ``<rev>:<path>``) through one
    ``git cat-file --batch``; None for those that do not exist or are not files (with
    ``kind``: objects of that type, such as the "tag" objects of annotated tags)."""
    if not specs:
        return {}
    out = run(root, "cat-file", "--batch", input="".join(s + "\n" for s in specs).encode())
    result: dict[str, bytes | None] = {}
    pos = 0
    for spec in specs:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode(errors="replace")
        pos = end + 1
        if header.endswith(" missing") or header.endswith(" ambiguous"):
            result[spec] = None
            continue
        _, found, size_text = header.rsplit(" ", 2)
        size = int(size_text)
        result[spec] = out[pos : pos + size] if found == kind else None
        pos += size + 1  # the content is followed by a newline
    return result
