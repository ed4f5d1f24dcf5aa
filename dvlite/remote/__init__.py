"""Remotes: object stores that hold the same ``objects/<2 hex>/<30 hex>`` layout as the cache.

A folder path is a ``folder`` remote (no extra package); ``s3://bucket/prefix`` goes through
s3fs (``s3``), any other URL through its fsspec filesystem (``fsspec_remote``, or
``fsspec_async`` for async ones). ``base`` is the interface, each operation a batch that
``retry`` runs; ``errors`` says what went wrong once; ``config`` reads which remotes there are.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from dvlite.remote.base import Obj, Remote
from dvlite.remote.config import RemoteConfig, configured, default_name, get_config, protocol_of

if TYPE_CHECKING:
    from dvlite.records.repo import Repo


def from_config(
    cfg: RemoteConfig, base: str | os.PathLike[str], *, jobs: int | None = None
) -> Remote:
    """The backend for the remote's URL (folder paths relative to ``base``). Only the backend
    in use is imported: fsspec is not cheap."""
    protocol = protocol_of(cfg.url)
    kind: type[Remote]
    if not protocol:
        from dvlite.remote.folder import FolderRemote as kind
    elif protocol in ("s3", "s3a"):
        from dvlite.remote.s3 import S3Remote as kind
    else:
        from dvlite.remote.fsspec_remote import FsspecRemote, is_async

        if is_async(protocol):
            from dvlite.remote.fsspec_async import AsyncFsspecRemote as kind
        else:
            kind = FsspecRemote
    return kind(cfg, base, jobs=jobs)


def open_remote(repo: Repo, name: str | None = None, *, jobs: int | None = None) -> Remote:
    return from_config(get_config(repo, name), repo.root, jobs=jobs)


__all__ = [
    "Obj",
    "Remote",
    "RemoteConfig",
    "configured",
    "default_name",
    "from_config",
    "open_remote",
    "protocol_of",
]
