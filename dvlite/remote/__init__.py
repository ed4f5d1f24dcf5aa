"""Remotes: object stores that hold the same ``objects/<2 hex>/<30 hex>`` layout as the cache.

A plain folder path is the embedded default (no extra package, ``folder``); ``s3://bucket/
prefix`` goes through s3fs (``s3``); any other URL through the fsspec package for its protocol
(``fsspec_remote``). ``base`` is the interface every backend implements, where each operation
is a batch; ``errors`` translates the storage libraries' errors once into ``RemoteError``;
``config`` reads which remotes a repository has.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dvlite.remote.base import Obj, Remote
from dvlite.remote.config import (
    COMMON_OPTIONS,
    S3_OPTIONS,
    SECRET_OPTIONS,
    RemoteConfig,
    configured,
    default_name,
    get_config,
    protocol_of,
)

if TYPE_CHECKING:
    from dvlite.records.repo import Repo


def open_remote(repo: Repo, name: str | None = None, *, jobs: int | None = None) -> Remote:
    cfg = get_config(repo, name)
    return Remote.from_config(cfg, repo.root, jobs=jobs)


__all__ = [
    "COMMON_OPTIONS",
    "S3_OPTIONS",
    "SECRET_OPTIONS",
    "Obj",
    "Remote",
    "RemoteConfig",
    "configured",
    "default_name",
    "get_config",
    "open_remote",
    "protocol_of",
]
