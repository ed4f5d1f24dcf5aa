"""Where imported data came from: the optional ``source:`` block of a pointer file written by
``import`` (another git repository: its URL, the revision as given, the commit it named, the
path there) or ``import-url`` (a URL, and what the store said of the object: ETag, version,
size, modification time). ``update`` reads it back; ``lineage`` shows it. A pointer is a
committed file, so every field is checked as hostile input before anything uses it."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dvlite.safepath import rel_problem

_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256 repositories
_TEXT_MAX = 4096
REPO_KEYS = ("repo", "rev", "commit", "path")
URL_KEYS = ("url", "etag", "version", "size", "mtime")


def text_problem(value: object, *, option_like: bool = False) -> str | None:
    """Why ``value`` cannot be a URL, revision or store tag read from a pointer (None: it can)."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if len(value) > _TEXT_MAX or any(ord(c) < 32 or c == "\x7f" for c in value):
        return "holds a control character or is too long"
    if option_like and value.startswith("-"):
        return "starts with '-'"
    return None


@dataclass(frozen=True, slots=True)
class RepoSource:
    """Data imported from another git repository."""

    repo: str  # the URL as given to `import`
    path: str  # the data's path in that repository
    commit: str  # the commit it was taken from
    rev: str | None = None  # the revision as given (None: the default branch)

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"repo": self.repo}
        if self.rev is not None:
            d["rev"] = self.rev
        return d | {"commit": self.commit, "path": self.path}


@dataclass(frozen=True, slots=True)
class UrlSource:
    """An object imported from a URL (S3, HTTP, a file): what the store said of it."""

    url: str
    etag: str | None = None
    version: str | None = None  # the store's version id, where it keeps versions
    size: int | None = None
    mtime: str | None = None

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"url": self.url}
        for key in URL_KEYS[1:]:
            value = getattr(self, key)
            if value is not None:
                d[key] = value
        return d

    def same_object(self, other: UrlSource) -> bool:
        """Whether ``other`` (the store's answer now) describes the same object: the version
        or the ETag when the store gives one, else size and modification time."""
        for key in ("version", "etag"):
            mine, theirs = getattr(self, key), getattr(other, key)
            if mine is not None and theirs is not None:
                return bool(mine == theirs)
        if self.size is None or other.size is None:
            return False  # nothing to compare by: download, the oid decides
        return (self.size, self.mtime) == (other.size, other.mtime)


Source = RepoSource | UrlSource


def from_dict(d: object, bad: Callable[[str], Exception]) -> Source:
    """The ``source:`` block of a pointer, each field refused through ``bad(why)`` unless it is
    what dvlite writes."""
    if not isinstance(d, Mapping):
        raise bad("'source' must be a mapping")
    if "repo" in d:
        return _repo_source(d, bad)
    if "url" in d:
        return _url_source(d, bad)
    raise bad("'source' needs 'repo' (an import) or 'url' (an import-url)")


def _unknown(
    d: Mapping[object, object], keys: tuple[str, ...], bad: Callable[[str], Exception]
) -> None:
    extra = sorted(map(str, set(d) - set(keys)))
    if extra:
        raise bad(f"unknown key {extra[0]!r} in 'source'")


def _repo_source(d: Mapping[object, object], bad: Callable[[str], Exception]) -> RepoSource:
    _unknown(d, REPO_KEYS, bad)
    repo, rev, commit, path = (d.get(k) for k in REPO_KEYS)
    if (why := text_problem(repo, option_like=True)) is not None:
        raise bad(f"source 'repo' {why}")
    if rev is not None and (why := text_problem(rev, option_like=True)) is not None:
        raise bad(f"source 'rev' {why}")
    if rev is not None and any(c.isspace() for c in str(rev)):
        raise bad(f"source 'rev' {rev!r} holds a space")
    if not isinstance(commit, str) or _COMMIT.fullmatch(commit) is None:
        raise bad(f"source 'commit' must be a full commit id (40 hex digits), not {commit!r}")
    if (why := rel_problem(path)) is not None:
        raise bad(f"source 'path' {path!r} {why}")
    return RepoSource(repo, path, commit, rev)  # type: ignore[arg-type]


def _url_source(d: Mapping[object, object], bad: Callable[[str], Exception]) -> UrlSource:
    _unknown(d, URL_KEYS, bad)
    url = d.get("url")
    if (why := text_problem(url, option_like=True)) is not None:
        raise bad(f"source 'url' {why}")
    texts: dict[str, str | None] = {}
    for key in ("etag", "version", "mtime"):
        value = d.get(key)
        if value is not None and (why := text_problem(value)) is not None:
            raise bad(f"source '{key}' {why}")
        texts[key] = value  # type: ignore[assignment]
    size = d.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise bad(f"source 'size' must be a whole number of bytes, not {size!r}")
    return UrlSource(url, texts["etag"], texts["version"], size, texts["mtime"])  # type: ignore[arg-type]
