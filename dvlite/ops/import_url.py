"""``dvlite import-url``: one object at a URL (S3, GCS, Azure, HTTP, a file), downloaded into
the cache (hashed as it is stored) and tracked by a pointer whose ``source:`` records the URL
and what the store said of it (ETag, version, size, modification time), so ``update`` can ask
the store (one request) whether it changed before downloading it again."""

from __future__ import annotations

import posixpath
from urllib.parse import urlsplit

from dvlite.errors import PathError
from dvlite.objects.tree import FILE, TreeEntry
from dvlite.ops.imports import IMPORTED, ImportResult, record, recorded_url, result, target
from dvlite.progress import Progress
from dvlite.records.repo import Repo
from dvlite.records.source import UrlSource
from dvlite.remote import url as urls
from dvlite.remote.config import RemoteConfig
from dvlite.remote.foreign import url_remote


def name_of(url: str) -> str:
    """The last part of the URL's path (``s3://b/x/data.csv?v=1``: ``data.csv``)."""
    path = urlsplit(url).path if "://" in url else url
    return posixpath.basename(path.rstrip("/"))


def download(
    repo: Repo, cfg: RemoteConfig, size: int | None, progress: Progress | None
) -> tuple[str, int]:
    """The object at ``cfg.url`` in the cache (the repository locked): its oid and size."""
    if progress:
        progress.start(1, size or 0)
    on_bytes = (lambda n: progress.advance(0, n)) if progress else None
    with repo.lock():
        oid, got = urls.download(cfg, repo.cache, on_bytes)
    if progress:
        progress.advance(1, 0)
    return oid, got


def import_url(
    repo: Repo,
    url: str,
    out: str | None = None,
    *,
    remote: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the object at ``url`` to ``out`` (default: its name, here); ``remote`` names one
    of the user's remotes whose options (endpoint, credentials) reach it."""
    name = name_of(url)
    if not out and not name:
        raise PathError(f"{url} names no file; give the path to write it to (OUT)")
    cfg = url_remote(url, repo.config, remote)
    now = urls.describe(cfg)
    rel = target(repo, out or name, force)
    oid, size = download(repo, cfg, now.size, progress)
    source = UrlSource(recorded_url(repo, url), now.etag, now.version, now.size, now.mtime)
    entry = TreeEntry(posixpath.basename(rel), FILE, oid, size)
    p = record(repo, rel, entry, 1, source, force=force)
    return result(rel, p, IMPORTED, None)
