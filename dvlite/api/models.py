"""The API of the model registry: model register, promote, list, show, get."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from dvlite.api.base import StrPath, open_repo, path_in

if TYPE_CHECKING:
    from dvlite.ops.model_get import GetResult
    from dvlite.ops.model_show import ModelDetails
    from dvlite.ops.registry import Assignment, Registry, Version
    from dvlite.progress import Progress


def model_register(
    name: str,
    path: StrPath,
    *,
    version: str | None = None,
    bump: str | None = None,
    rev: str | None = None,
    force: bool = False,
    repo: StrPath | None = None,
) -> Version:
    """``dvlite model register``: tag the model at ``path``, as committed at ``rev`` (default
    HEAD), as a new version of ``name``: ``version`` ("v1.2.0") or ``bump`` ("major", "minor"
    (the default), "patch") above the highest one."""
    from dvlite.ops.model_register import register

    return register(
        open_repo(repo), name, path_in(repo, path), version=version, bump_level=bump, rev=rev,
        force=force,
    )  # fmt: skip


def model_promote(
    name: str, version: str, stage: str, *, force: bool = False, repo: StrPath | None = None
) -> Assignment:
    """``dvlite model promote``: put ``version`` (or "latest") of ``name`` in ``stage``."""
    from dvlite.ops.model_register import promote

    return promote(open_repo(repo), name, version, stage, force=force)


def model_list(*, repo: StrPath | None = None) -> Registry:
    """``dvlite model list``: every registered model (``.models``) and the tags that were
    skipped as malformed (``.warnings``)."""
    from dvlite.ops.registry import read

    return read(open_repo(repo))


def model_show(name: str, *, repo: StrPath | None = None) -> ModelDetails:
    """``dvlite model show``: every version of ``name`` with its stages, metrics and lineage."""
    from dvlite.ops.model_show import show

    return show(open_repo(repo), name)


def model_get(
    spec: str,
    *,
    out: StrPath | None = None,
    remote: str | None = None,
    jobs: int | None = None,
    force: bool = False,
    progress: Progress | None = None,
    repo: StrPath | None = None,
) -> GetResult:
    """``dvlite model get``: write the version ``spec`` names ("churn@v1.0.0", "churn@prod",
    "churn#prod#3", "churn") at ``out`` (default: its file name in the current folder),
    fetching just its objects from ``remote``."""
    from dvlite.ops.model_get import get

    where = None if out is None else path_in(repo, os.fspath(out))
    return get(
        open_repo(repo), spec, out=where, remote=remote, jobs=jobs, force=force, progress=progress
    )
