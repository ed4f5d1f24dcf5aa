"""One object at a URL, for ``import-url`` and its ``update``: what the store says of it (one
info request: ETag, version, size, modification time) and its bytes downloaded into the cache,
hashed as they are stored. The URL is reached through the same backends as a remote (one
retry wrapper, errors said once, the options of ``remote/foreign.url_remote``)."""

from __future__ import annotations

import os
from typing import Any

from dvlite.errors import SourceError
from dvlite.objects.cache import Cache
from dvlite.objects.hashing import hash_file
from dvlite.progress import OnBytes
from dvlite.records.source import UrlSource
from dvlite.remote import from_config
from dvlite.remote.base import Remote
from dvlite.remote.config import RemoteConfig

KINDS = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "http", "https")  # and files


def _open(cfg: RemoteConfig) -> tuple[Remote, str]:
    remote = from_config(cfg, os.getcwd())
    if remote.protocol and remote.protocol not in KINDS:
        raise SourceError(
            f"import-url takes s3://, gs://, az://, http(s):// or file URLs, not {cfg.url}"
        )
    full = remote.protocol in ("http", "https")
    return remote, (cfg.url if full else remote.root)


def _call(remote: Remote, op: Any, path: str, url: str) -> Any:
    """``op(path)`` retried; FileNotFoundError said as the URL's, other errors the remote's."""
    result = remote._map(op, [path])[0]
    if isinstance(result, FileNotFoundError):
        raise SourceError(f"{url}: no such object (or no access to it)")
    if isinstance(result, BaseException):
        raise remote.translate(result)
    return result


def describe(cfg: RemoteConfig) -> UrlSource:
    """What the store says of the object at ``cfg.url`` now (one request)."""
    remote, path = _open(cfg)
    if remote.is_folder:
        try:
            st = os.stat(remote.root)
        except FileNotFoundError:
            raise SourceError(f"{cfg.url}: no such file") from None
        if not os.path.isfile(remote.root):
            raise SourceError(f"{cfg.url} is a folder; import-url takes one file")
        return UrlSource(cfg.url, size=st.st_size, mtime=str(st.st_mtime_ns))
    fs: Any = remote.fs  # type: ignore[attr-defined]
    info = _call(remote, fs._info if fs.async_impl else fs.info, path, cfg.url)
    if info.get("type") == "directory":
        raise SourceError(f"{cfg.url} is a folder (a prefix); import-url takes one object")
    etag = info.get("ETag") or info.get("etag") or info.get("md5Hash")
    version = info.get("VersionId") or info.get("generation") or info.get("version_id")
    mtime = info.get("LastModified") or info.get("mtime") or info.get("updated")
    size = info.get("size")
    return UrlSource(
        cfg.url,
        None if etag is None else str(etag),
        None if version is None else str(version),
        size if isinstance(size, int) and size >= 0 else None,
        None if mtime is None else str(mtime),
    )


def download(cfg: RemoteConfig, cache: Cache, on_bytes: OnBytes | None = None) -> tuple[str, int]:
    """Store the object at ``cfg.url`` in ``cache``; its oid (the hash of the bytes as they
    are stored) and size."""
    remote, path = _open(cfg)
    if remote.is_folder:
        try:
            return cache.import_file(remote.root, on_bytes=on_bytes)
        except FileNotFoundError:
            raise SourceError(f"{cfg.url}: no such file") from None
    from dvlite.remote.fsspec_remote import new_tmp, progress_callback

    remote._receiving_into = os.fspath(cache.root)
    with new_tmp(cache) as tmp:
        callback = progress_callback(on_bytes)
        fs: Any = remote.fs  # type: ignore[attr-defined]
        get = fs._get_file if fs.async_impl else fs.get_file
        _call(remote, lambda p: get(p, tmp, callback=callback), path, cfg.url)
        oid, size = hash_file(tmp)
        cache.add_verified(tmp, oid, cfg.url)
    return oid, size
