"""Remotes: stores with the cache's ``objects/<2 hex>/<30 hex>`` layout: a folder (``folder``),
S3 (``s3``) or any other fsspec filesystem (``fsspec_remote``, ``fsspec_async``), behind one
interface (``base``) run through ``retry``; ``errors`` says what went wrong, ``config`` which
remotes a repository has."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from dvlite.remote.base import Remote
from dvlite.remote.config import RemoteConfig, configured, default_name, get_config, protocol_of
from dvlite.remote.packed import Obj

if TYPE_CHECKING:
    from dvlite.records.repo import Repo


def from_config(
    cfg: RemoteConfig, base: str | os.PathLike[str], *, jobs: int | None = None
) -> Remote:
    """The backend for the remote's URL (a folder path relative to ``base``); only that one is
    imported (fsspec is not cheap)."""
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
    """The remote ``name`` (else the default), keeping the index files it reads in the cache."""
    remote = from_config(get_config(repo, name), repo.root, jobs=jobs)
    remote.keep_index = os.path.join(repo.cache_dir, "index")
    return remote


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
