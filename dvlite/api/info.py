"""The API of the commands that report on the repository: du, doctor."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from dvlite.api.base import StrPath, open_repo, path_in

if TYPE_CHECKING:
    from dvlite.ops.doctor import DoctorReport
    from dvlite.ops.du import DuResult


def doctor(*, repo: StrPath | None = None) -> DoctorReport:
    """``dvlite doctor``: versions, the repository, its cache, remotes (``.reachable``) and
    hooks; ``.ok`` is false only when the repository itself is broken (``.problems``)."""
    from dvlite.ops.doctor import doctor as do_doctor

    return do_doctor(None if repo is None else os.fspath(repo))


def du(
    path: StrPath | None = None, *, rev: str | None = None, repo: StrPath | None = None
) -> DuResult:
    """``dvlite du``: the size and file count of each tracked item at ``rev`` (default: the
    workspace's records) under ``path``, and their total (``.size``, ``.files``)."""
    from dvlite.ops.du import du as do_du

    return do_du(open_repo(repo), None if path is None else path_in(repo, path), rev)
