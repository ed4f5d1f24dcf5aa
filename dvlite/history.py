"""Tracked data at git revisions: pointer files read from git history (gitpython)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from dvlite import pointer as pointers
from dvlite.errors import ScmError
from dvlite.lockfile import LOCK_FILE
from dvlite.repo import Repo
from dvlite.tracked import Tracked, collect, outputs_of

WORKSPACE = "workspace"


def _git(repo: Repo):  # type: ignore[no-untyped-def]
    import git

    if not repo.uses_git:
        raise ScmError("this dvlite repository has no git (initialised with --no-scm)")
    try:
        return git.Repo(repo.root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise ScmError(f"{repo.root} is not a git repository") from None


def resolve(repo: Repo, rev: str) -> str:
    """The commit id a revision names; ScmError for an unknown one."""
    import git

    try:
        return str(_git(repo).commit(rev).hexsha)
    except (git.BadName, git.BadObject, ValueError):
        raise ScmError(f"unknown git revision {rev!r}") from None


def revisions(
    repo: Repo,
    revs: Iterable[str] = (),
    *,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
) -> list[str]:
    """Commit ids for the given revisions and ref sets, each once, in a stable order."""
    g = _git(repo)
    found: dict[str, None] = {}
    for rev in revs:
        found[resolve(repo, rev)] = None
    if all_branches:
        for head in g.heads:
            found[head.commit.hexsha] = None
    if all_tags:
        for tag in g.tags:
            found[tag.commit.hexsha] = None
    if all_commits:
        for line in g.git.rev_list("--all").split():
            found[line] = None
    return list(found)


def tracked_at(repo: Repo, rev: str) -> list[Tracked]:
    """Every pointer and stage output committed at ``rev`` (the workspace for ``WORKSPACE``)."""
    if rev == WORKSPACE:
        return collect(repo)
    import git

    try:
        commit = _git(repo).commit(rev)
    except (git.BadName, git.BadObject, ValueError):
        raise ScmError(f"unknown git revision {rev!r}") from None
    items = []
    for obj in commit.tree.traverse():
        path = obj.path
        if obj.type == "blob" and path == LOCK_FILE:
            text = obj.data_stream.read().decode("utf-8", errors="replace")
            items.extend(outputs_of(text, f"{path} at {rev[:12]}"))
            continue
        if obj.type != "blob" or not pointers.is_pointer(path):
            continue
        where = f"{path} at {rev[:12]}"
        text = obj.data_stream.read().decode("utf-8", errors="replace")
        p = pointers.loads(text, where, posixpath.basename(path)[: -len(pointers.SUFFIX)])
        items.append(Tracked(path, path[: -len(pointers.SUFFIX)], p))
    return items
