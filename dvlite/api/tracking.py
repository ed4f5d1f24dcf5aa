"""The API of the commands that change what is tracked by hand: commit, move, check-ignore."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dvlite.api.base import Paths, StrPath, open_repo, path_in, paths_in

if TYPE_CHECKING:
    from dvlite.ops.check_ignore import IgnoreMatch
    from dvlite.ops.commit import Committed
    from dvlite.ops.move import MoveResult
    from dvlite.progress import Progress


def commit(
    targets: Paths | None = None,
    *,
    force: bool = False,
    stage: bool | None = None,
    progress: Progress | None = None,
    repo: StrPath | None = None,
) -> list[Committed]:
    """``dvlite commit``: record outputs made or fixed by hand (all, or ``targets``: pointers,
    data paths, stage names, stage outputs); ``force`` records a stage whose command, deps or
    params changed since it ran."""
    from dvlite.ops.commit import commit as do_commit

    paths = paths_in(repo, targets)  # a stage's name, taken from repo=, is still its name
    return do_commit(open_repo(repo), paths, force=force, stage=stage, progress=progress)


def move(
    src: StrPath, dst: StrPath, *, stage: bool | None = None, repo: StrPath | None = None
) -> MoveResult:
    """``dvlite move``: move tracked data with its pointer and .gitignore line (staged in git
    unless ``stage=False``)."""
    from dvlite.ops.move import move as do_move

    return do_move(open_repo(repo), path_in(repo, src), path_in(repo, dst), stage=stage)


def check_ignore(paths: Paths, *, repo: StrPath | None = None) -> list[IgnoreMatch]:
    """``dvlite check-ignore``: for each path, whether .dvliteignore ignores it and which
    line decides (``.source``, ``.line``, ``.pattern``)."""
    from dvlite.ops.check_ignore import check_ignore as do_check

    return do_check(open_repo(repo), paths_in(repo, paths))
