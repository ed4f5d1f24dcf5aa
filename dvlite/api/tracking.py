"""The API of the commands that change what is tracked by hand: commit, move, check-ignore."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dvlite.api.base import Paths, StrPath, open_repo, paths_in

if TYPE_CHECKING:
    from dvlite.ops.check_ignore import IgnoreMatch


def check_ignore(paths: Paths, *, repo: StrPath | None = None) -> list[IgnoreMatch]:
    """``dvlite check-ignore``: for each path, whether .dvliteignore ignores it and which
    line decides (``.source``, ``.line``, ``.pattern``)."""
    from dvlite.ops.check_ignore import check_ignore as do_check

    return do_check(open_repo(repo), paths_in(repo, paths))
