"""Which remotes a repository has: their sections of the config, and the default one."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dvlite.errors import ConfigError, RemoteError
from dvlite.remote.retry import TIMEOUT
from dvlite.secrets import mask_url, shown

if TYPE_CHECKING:
    from dvlite.records.repo import Repo

# Options a remote section may hold; S3 ones are mapped onto s3fs's arguments, the rest of an
# fsspec remote's options are passed to its filesystem as they are.
S3_OPTIONS = (
    "endpoint_url",
    "region",
    "profile",
    "access_key_id",
    "secret_access_key",
    "session_token",
)
COMMON_OPTIONS = ("url", "jobs", "timeout", "format", "gc_grace")


@dataclass(frozen=True)
class RemoteConfig:
    name: str
    url: str
    options: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """The remote as listed, its credentials and its URL's password masked."""
        options = {k: shown(k, v) for k, v in sorted(self.options.items())}
        return {"name": self.name, "url": mask_url(self.url), **options}


def configured(repo: Repo) -> dict[str, RemoteConfig]:
    """Every remote in the merged config, by name."""
    found = {}
    for section, options in repo.config.sections('remote "').items():
        name = section[len('remote "') : -1]
        opts = dict(options)
        url = opts.pop("url", None)
        if not url:
            raise ConfigError(
                f"remote {name!r} has no url; set it with `dvlite remote modify {name} url URL`"
            )
        found[name] = RemoteConfig(name, url, opts)
    return found


def default_name(repo: Repo) -> str | None:
    return repo.config.get("core.remote") or None


def get_config(repo: Repo, name: str | None = None) -> RemoteConfig:
    remotes = configured(repo)
    if name is None:
        name = default_name(repo)
        if name is None:
            if len(remotes) == 1:
                return next(iter(remotes.values()))
            raise RemoteError(
                "no default remote; add one with `dvlite remote add -d NAME URL`, or pass -r NAME"
                if not remotes
                else f"no default remote; pass -r NAME (one of {', '.join(sorted(remotes))}) "
                "or set one with `dvlite remote default NAME`"
            )
    if name not in remotes:
        known = f" (configured: {', '.join(sorted(remotes))})" if remotes else ""
        raise RemoteError(
            f"no remote named {name!r}{known}; add it with `dvlite remote add {name} URL`"
        )
    return remotes[name]


def protocol_of(url: str) -> str:
    """The URL's scheme, lower case; empty for a folder (a path, file:// or local://)."""
    proto = url.split("://", 1)[0].lower() if "://" in url else ""
    return "" if proto in ("file", "local") else proto


FORMATS = ("1", "2")  # remote.NAME.format: 1, loose objects (the default); 2, packs and index


def parse_format(name: str, raw: str | None) -> str:
    """``remote.NAME.format``: 1 (loose objects, the default for remotes older than it) or 2."""
    if raw is None or raw in FORMATS:
        return raw or "1"
    raise ConfigError(f"remote.{name}.format must be 1 or 2, not {raw!r}")


def parse_timeout(name: str, raw: str | None) -> float:
    """``remote.NAME.timeout``: seconds, a number above 0 (``TIMEOUT`` when unset)."""
    return TIMEOUT if raw is None else positive(name, "timeout", raw, float, "a number of seconds")


GC_GRACE = 3600.0  # seconds: gc --cloud deletes no pack, index or object file younger than this


def parse_grace(name: str, raw: str | None) -> float:
    """``remote.NAME.gc_grace``: seconds, 0 or more (``GC_GRACE`` when unset)."""
    if raw is None:
        return GC_GRACE
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < math.inf:
        raise ConfigError(
            f"remote.{name}.gc_grace must be a number of seconds, 0 or more, not {raw!r}"
        )
    return value


def positive(name: str, key: str, raw: str, kind: Callable[[str], float], what: str) -> float:
    """``remote.NAME.KEY`` read by ``kind``; a ConfigError unless it is above 0 (and finite)."""
    try:
        value = kind(raw)
    except ValueError:
        value = 0
    if not 0 < value < math.inf:
        raise ConfigError(f"remote.{name}.{key} must be {what} above 0, not {raw!r}")
    return value
