"""The remote of another repository (``get``, ``import``, ``update``, ``ls URL``), and the
store of an ``import-url``: which URL dvlite reads, with which options and credentials.

Another repository's ``.dvlite/config`` is hostile input: it may name any URL and any option.
The rules (docs/sharing.md, "What dvlite trusts"):

- its remote's URL is followed when it is an object store or web URL (``NETWORK``); a folder
  (a path or ``file://``) only when that repository is itself on this machine (then resolved
  from its folder, as it resolves it); any other kind is refused;
- of its options only ``endpoint_url``, ``region``, ``format`` and ``timeout`` are kept: never a
  credential, a profile or a filesystem option (its ``config.local`` is never in a clone anyway);
- credentials come from this user: the environment the storage library reads (``AWS_*``), or
  a remote in the user's own config (this repository's, or ``~/.config/dvlite/config``) with
  the same URL, which is then used as the user configured it, endpoint included.
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path

from dvlite.errors import SourceError
from dvlite.records.config import Config
from dvlite.remote.config import RemoteConfig, protocol_of

# kinds of URL another repository may send dvlite to: stores and web servers, never this machine
NETWORK = frozenset(
    {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "http", "https", "ssh", "sftp", "webdav"}
    | {"webdavs", "hdfs", "oss"}
)
KEPT_OPTIONS = ("endpoint_url", "region", "format", "timeout")


def _same(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def own_remote(own: Config, url: str) -> RemoteConfig | None:
    """The user's own remote (any config level) with this URL, if there is one."""
    for section, options in own.sections('remote "').items():
        opts = dict(options)
        theirs = opts.pop("url", "")
        if theirs and protocol_of(theirs) and _same(theirs, url):
            return RemoteConfig(section[len('remote "') : -1], theirs, opts)
    return None


def given(url: str, own: Config) -> tuple[RemoteConfig, Path]:
    """A remote URL the user typed (``--remote-url``): trusted as typed, a folder taken from
    the current folder, options from the user's remote of the same URL."""
    found = own_remote(own, url) if protocol_of(url) else None
    return found or RemoteConfig("given", url), Path.cwd()


def source_remote(
    text: bytes | None, repo_url: str, *, name: str | None, local: Path | None, own: Config
) -> tuple[RemoteConfig, Path]:
    """The remote ``name`` (else the default) of the repository at ``repo_url``, whose
    ``.dvlite/config`` holds ``text``, and the folder a relative folder URL starts from;
    ``local`` is that repository's folder when it is on this machine."""
    where = f"{repo_url} (.dvlite/config)"
    if text is None:
        raise SourceError(
            f"{repo_url} is not a dvlite repository at that revision (no .dvlite/config)"
        )
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text.decode("utf-8"), source=where)
    except (configparser.Error, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0]
        raise SourceError(f"malformed config of {where}: {first}") from None
    remotes = {
        s[len('remote "') : -1]: dict(parser.items(s))
        for s in parser.sections()
        if s.startswith('remote "') and s.endswith('"')
    }
    if name is None:
        name = parser.get("core", "remote", fallback=None) or None
        if name is None and len(remotes) == 1:
            name = next(iter(remotes))
        if name is None:
            known = f" (it has {', '.join(sorted(remotes))})" if remotes else ""
            raise SourceError(
                f"{repo_url} names no default remote{known}; pass -r NAME or --remote-url URL"
            )
    if name not in remotes:
        known = ", ".join(sorted(remotes)) or "none"
        raise SourceError(f"{repo_url} has no remote named {name!r} (its remotes: {known})")
    options = remotes[name]
    url = options.get("url", "")
    if not url or any(ord(c) < 32 for c in url):
        raise SourceError(f"remote {name!r} of {where} has no usable url")
    protocol = protocol_of(url)
    if not protocol:
        if local is None:
            raise SourceError(
                f"remote {name!r} of {repo_url} is a folder ({url}): a repository reached over "
                "the network cannot send dvlite to a folder of this machine; pass --remote-url "
                "URL to say where its data is"
            )
        return RemoteConfig(name, url, _kept(options)), local
    if protocol not in NETWORK:
        raise SourceError(
            f"remote {name!r} of {repo_url} has a URL of a kind dvlite does not follow from "
            f"another repository ({protocol}://); pass --remote-url URL"
        )
    mine = own_remote(own, url)
    if mine is not None:
        return mine, Path.cwd()
    return RemoteConfig(name, url, _kept(options)), Path.cwd()


def _kept(options: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in options.items() if k in KEPT_OPTIONS and v}


def url_remote(url: str, own: Config, name: str | None) -> RemoteConfig:
    """How to reach the object at ``url`` (``import-url``): with the options of the user's
    remote ``name``, else of the user's remote on the same bucket or host, else none (the
    environment's credentials)."""
    protocol = protocol_of(url)
    if name is not None:
        chosen = own.sections(f'remote "{name}"').get(f'remote "{name}"')
        if chosen is None:
            raise SourceError(f"no remote named {name!r} in your config to take options from")
        opts = {k: v for k, v in chosen.items() if k != "url"}
        return RemoteConfig(name, url, opts)
    if protocol:
        host = url.split("://", 1)[1].split("/", 1)[0]
        for section, options in own.sections('remote "').items():
            theirs = options.get("url", "")
            if protocol_of(theirs) == protocol and theirs.split("://", 1)[1].split("/")[0] == host:
                opts = {k: v for k, v in options.items() if k != "url"}
                return RemoteConfig(section[len('remote "') : -1], url, opts)
    return RemoteConfig("url", url if protocol else os.path.abspath(url.removeprefix("file://")))
