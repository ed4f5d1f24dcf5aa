"""Changing the remotes in the config: add, remove, modify, set the default."""

from __future__ import annotations

import os
import re

from dvlite.errors import ConfigError, RemoteError
from dvlite.records.repo import Repo
from dvlite.remote.config import (
    COMMON_OPTIONS,
    S3_OPTIONS,
    configured,
    default_name,
    parse_format,
    parse_grace,
    parse_timeout,
    protocol_of,
)

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def _section(name: str) -> str:
    return f'remote "{name}"'


def normalise_url(repo: Repo, url: str, base: str | os.PathLike[str] = "") -> str:
    """A folder path relative to ``base`` (default: the current folder) is stored relative to
    the repository root (where it is resolved), so that it works from any folder."""
    if protocol_of(url) or url.startswith("file://") or os.path.isabs(os.path.expanduser(url)):
        return url
    rel = os.path.relpath(os.path.abspath(os.path.join(base, url)), repo.root)
    return rel.replace(os.sep, "/")


def add(
    repo: Repo,
    name: str,
    url: str,
    *,
    default: bool = False,
    force: bool = False,
    level: str = "repo",
    base: str | os.PathLike[str] = "",
) -> None:
    if not _NAME.match(name):
        raise ConfigError(f"bad remote name {name!r}: use letters, digits, '_', '-' and '.'")
    if name in configured(repo) and not force:
        raise RemoteError(
            f"remote {name!r} already exists; use --force to replace it, or `remote modify`"
        )
    url = normalise_url(repo, url, base)
    repo.config.check_storable(_section(name), "url", url, level)  # before --force removes
    if force:
        for lvl in ("repo", "local"):
            repo.config.remove_section(_section(name), lvl)
    # a new remote is written in storage format 2 (packs); one without the key is format 1
    repo.config.set_section(_section(name), {"url": url, "format": "2"}, level)
    if default:
        repo.config.set("core.remote", name, level)


def remove(repo: Repo, name: str) -> None:
    removed = False
    for level in ("repo", "local"):
        removed |= repo.config.remove_section(_section(name), level)
    if not removed:
        raise RemoteError(f"no remote named {name!r} in this repository's config")
    for level in ("repo", "local"):
        parser = repo.config._parsers.get(level)
        if parser is not None and parser.get("core", "remote", fallback=None) == name:
            repo.config.set("core.remote", None, level)


def modify(repo: Repo, name: str, key: str, value: str | None, *, level: str = "repo") -> None:
    remotes = configured(repo)
    if name not in remotes:
        raise RemoteError(f"no remote named {name!r}; add it with `dvlite remote add {name} URL`")
    url = value if key == "url" and value else remotes[name].url
    if protocol_of(url) in ("s3", "s3a") and key not in S3_OPTIONS + COMMON_OPTIONS:
        raise ConfigError(
            f"{key!r} is not an option of an S3 remote; "
            f"use one of {', '.join(S3_OPTIONS + COMMON_OPTIONS)}"
        )
    if not re.match(r"^[a-z][a-z0-9_]*$", key):
        raise ConfigError(f"bad option name {key!r}")
    if key == "jobs" and value is not None and (not value.isdigit() or int(value) < 1):
        raise ConfigError(f"jobs must be a whole number above 0, not {value!r}")
    if key == "timeout" and value is not None:
        parse_timeout(name, value)
    if key == "format" and value is not None:
        parse_format(name, value)
    if key == "gc_grace" and value is not None:
        parse_grace(name, value)
    if key == "url" and value is not None:
        value = normalise_url(repo, value)
    if value is None:
        if key not in repo.config.sections(_section(name)).get(_section(name), {}):
            raise ConfigError(f"remote.{name}.{key} is not set")
        if key == "url":
            raise ConfigError("a remote needs a url; use `dvlite remote remove` to drop the remote")
    repo.config.set(f"remote.{name}.{key}", value, level)


def set_default(repo: Repo, name: str | None) -> None:
    if name is None:
        if default_name(repo) is not None:
            repo.config.set("core.remote", None, "repo")
        return
    if name not in configured(repo):
        raise RemoteError(f"no remote named {name!r}; add it with `dvlite remote add {name} URL`")
    repo.config.set("core.remote", name, "repo")


def rename(repo: Repo, old: str, new: str, *, include_global: bool = False) -> list[str]:
    """Rename remote ``old`` to ``new`` in each of the repository's config levels that
    defines it (and the user's, with ``include_global``); ``core.remote`` follows at every
    level that named ``old``. Returns the levels changed."""
    if not _NAME.match(new):
        raise ConfigError(f"bad remote name {new!r}: use letters, digits, '_', '-' and '.'")
    config = repo.config
    where = config.levels_with(_section(old))
    if not where:
        raise RemoteError(f"no remote named {old!r}; `dvlite remote list` shows the remotes")
    if config.levels_with(_section(new)):
        raise RemoteError(
            f"remote {new!r} already exists; remove it first (`dvlite remote remove {new}`) "
            "or choose another name"
        )
    if where == ["global"] and not include_global:
        raise RemoteError(
            f"remote {old!r} is defined in your user config ({config.paths['global']}), which "
            "other repositories share; use --global to rename it there"
        )
    levels = [level for level in where if include_global or level != "global"]
    for level in levels:
        config.rename_section(_section(old), _section(new), level)
    for level in ("global", "repo", "local"):
        if level == "global" and not include_global:
            continue
        if level in config.paths and config.value_at("core.remote", level) == old:
            config.set("core.remote", new, level)
    return levels
