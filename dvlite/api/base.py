"""What every API function shares: finding the repository, and paths taken from it."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dvlite.records.repo import Repo


StrPath = str | os.PathLike[str]
Paths = StrPath | Iterable[StrPath]  # one path, or a list of them


def open_repo(repo: StrPath | None) -> Repo:
    from dvlite.records.repo import Repo

    found = Repo.find(None if repo is None else os.fspath(repo))
    found.config  # noqa: B018  (a malformed config file is reported at once, as the CLI does)
    return found


def path_in(repo: StrPath | None, path: StrPath) -> str:
    """``path`` as the library takes it: a relative one is taken from ``repo`` when given."""
    path = os.fspath(path)
    return path if repo is None else os.path.join(os.path.abspath(repo), path)


def paths_in(repo: StrPath | None, paths: Paths | None) -> list[str]:
    if paths is None:
        return []
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    return [path_in(repo, p) for p in paths]
