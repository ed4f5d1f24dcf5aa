"""INI configuration: ``.dvlite/config`` (committed), ``.dvlite/config.local`` (git-ignored,
for credentials) and the user's ``~/.config/dvlite/config``, in that precedence. Keys are
``section.option`` (``core.remote``) or ``remote.NAME.option`` (``remote.store.url``)."""

from __future__ import annotations

import configparser
import io
import os
from pathlib import Path

from dvlite import secrets
from dvlite.errors import ConfigError
from dvlite.objects import fsutil

KNOWN_SECTIONS = ("core", "cache", "state", "hooks", "model")  # and remote.NAME
PRIVATE_MODE = 0o600  # config.local and the user's config may hold credentials
BOOLEANS = {"1": True, "true": True, "yes": True, "on": True}
BOOLEANS |= {"0": False, "false": False, "no": False, "off": False}
# every key dvlite reads (docs/formats.md lists them), with the values it accepts;
# remote.NAME.OPTION is checked by `remote modify` (dvlite/remote_config.py)
KEYS = {
    "cache.dir": "a folder path",
    "cache.type": "link types",
    "core.autostage": "true or false",
    "core.no_scm": "true or false",
    "core.remote": "a remote's name",
    "hooks.strict": "true or false",
    "model.stages": "stage names",
}


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "dvlite" / "config"


def parse_key(key: str) -> tuple[str, str]:
    """``remote.store.url`` -> (``remote "store"``, ``url``), ``core.remote`` -> (core, remote)."""
    parts = key.split(".")
    if len(parts) == 2 and parts[0] in KNOWN_SECTIONS and all(parts):
        return parts[0], parts[1]
    if len(parts) == 3 and parts[0] == "remote" and all(parts):
        return f'remote "{parts[1]}"', parts[2]
    raise ConfigError(
        f"unknown config key {key!r}: use SECTION.OPTION (core, cache, state, hooks, model) "
        "or remote.NAME.OPTION"
    )


def key_of(section: str, option: str) -> str:
    """The inverse of ``parse_key``: (``remote "store"``, ``url``) -> ``remote.store.url``."""
    name = section.replace(' "', ".").rstrip('"')
    return f"{name}.{option}"


def to_bool(key: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in BOOLEANS:
        raise ConfigError(f"{key} must be true or false, not {value!r}")
    return BOOLEANS[lowered]


class Config:
    """A merged view of the three config files; writes go to one level."""

    def __init__(self, dvlite_dir: Path | None) -> None:
        # lowest precedence first: global < repo < local
        self.paths: dict[str, Path] = {"global": user_config_path()}
        if dvlite_dir is not None:
            self.paths["repo"] = dvlite_dir / "config"
            self.paths["local"] = dvlite_dir / "config.local"
        self._parsers = {level: self._read(path) for level, path in self.paths.items()}

    @staticmethod
    def _read(path: Path) -> configparser.RawConfigParser:
        parser = configparser.RawConfigParser()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return parser
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"cannot read {path}: not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} "
                f"at position {exc.start}); fix or delete it"
            ) from None
        try:
            parser.read_string(text, source=str(path))
        except configparser.Error as exc:
            first = str(exc).splitlines()[0]
            raise ConfigError(f"malformed config file {path}: {first}") from None
        return parser

    def get(self, key: str, default: str | None = None) -> str | None:
        section, option = parse_key(key)
        for parser in reversed(self._parsers.values()):
            if parser.has_option(section, option):
                return parser.get(section, option)
        return default

    def value_at(self, key: str, level: str) -> str | None:
        """``key`` as one level's file sets it (None when that file does not)."""
        section, option = parse_key(key)
        return self._parsers[level].get(section, option, fallback=None)

    def get_bool(self, key: str, default: bool) -> bool:
        value = self.get(key)
        return default if value is None else to_bool(key, value)

    def check_setting(self, key: str, value: str) -> None:
        """Refuse a key dvlite does not read, or a value it could not use, before it is
        written (and before every later command fails on it)."""
        if parse_key(key)[0].startswith("remote "):
            return
        kind = KEYS.get(key)
        if kind is None:
            raise ConfigError(
                f"unknown config key {key!r}; known keys: {', '.join(KEYS)}, remote.NAME.OPTION"
            )
        if kind == "true or false":
            to_bool(key, value)
        if kind == "link types":
            from dvlite.objects.cache import LINK_TYPES  # the cache is what uses them

            types = [t.strip() for t in value.split(",")]
            if not all(t in LINK_TYPES for t in types):
                raise ConfigError(
                    f"cache.type {value!r}: each link type must be one of {', '.join(LINK_TYPES)} "
                    "(a comma-separated list is tried in order)"
                )
        if kind == "stage names":
            from dvlite.records.modeltag import parse_stages  # the registry is what uses them

            parse_stages(value)
        if kind == "a folder path" and not value.strip():
            raise ConfigError("cache.dir must be a folder path")
        if kind == "a remote's name" and f'remote "{value}"' not in self.sections("remote "):
            raise ConfigError(
                f"no remote named {value!r}; add it with `dvlite remote add {value} URL`"
            )

    def sections(self, prefix: str = "") -> dict[str, dict[str, str]]:
        """Merged sections whose name starts with ``prefix``."""
        merged: dict[str, dict[str, str]] = {}
        for parser in self._parsers.values():
            for section in parser.sections():
                if section.startswith(prefix):
                    merged.setdefault(section, {}).update(parser.items(section))
        return merged

    def level_for_write(self, level: str) -> str:
        if level not in self.paths:
            raise ConfigError("not inside a dvlite repository: use --global")
        return level

    def check_storable(self, section: str, option: str, value: str, level: str) -> None:
        """Refuse to write a credential (or a URL with a password) into the committed
        ``.dvlite/config``: once committed and pushed, a secret cannot be taken back."""
        if level != "repo" or not (secrets.is_secret(option) or secrets.url_password(value)):
            return
        what = "is a credential" if secrets.is_secret(option) else "holds a password"
        raise ConfigError(
            f"`{key_of(section, option)}` {what}: it would be committed in .dvlite/config; "
            "use --local (written to .dvlite/config.local, git-ignored)"
        )

    def set(self, key: str, value: str | None, level: str = "repo") -> None:
        """Set ``key`` (or remove it when ``value`` is None) at ``level`` and save the file."""
        parser = self._parsers[self.level_for_write(level)]
        section, option = parse_key(key)
        if value is not None:
            self.set_section(section, {option: value}, level)
            return
        if not parser.has_option(section, option):
            raise ConfigError(f"{key} is not set in the {level} config")
        parser.remove_option(section, option)
        if not parser.items(section):
            parser.remove_section(section)
        self.save(level)

    def levels_with(self, section: str) -> list[str]:
        """The levels (lowest precedence first) whose file has ``section``."""
        return [level for level, parser in self._parsers.items() if parser.has_section(section)]

    def entries(self) -> list[tuple[str, str, str]]:
        """Every (key, value, level) in effect: each key once, from the level that wins."""
        found: dict[str, tuple[str, str]] = {}
        for level, parser in self._parsers.items():  # lowest first: the last level wins
            for section in parser.sections():
                for option, value in parser.items(section):
                    found[key_of(section, option)] = (value, level)
        return [(key, value, level) for key, (value, level) in sorted(found.items())]

    def rename_section(self, old: str, new: str, level: str) -> bool:
        """Rename ``old`` to ``new`` at ``level`` (options and their order kept); False when
        that level has no ``old``."""
        parser = self._parsers[self.level_for_write(level)]
        if not parser.has_section(old):
            return False
        items = parser.items(old)
        parser.remove_section(old)
        parser.add_section(new)
        for option, value in items:
            parser.set(new, option, value)
        self.save(level)
        return True

    def remove_section(self, section: str, level: str) -> bool:
        parser = self._parsers[self.level_for_write(level)]
        removed = parser.remove_section(section)
        if removed:
            self.save(level)
        return removed

    def set_section(self, section: str, values: dict[str, str], level: str) -> None:
        parser = self._parsers[self.level_for_write(level)]
        for option, value in values.items():
            self.check_storable(section, option, value, level)
        parser.read_dict({section: values})  # adds the section if it is new
        self.save(level)

    def save(self, level: str) -> None:
        """Write one level's file; the ones that hold credentials (local, global) are readable
        by their owner alone (0600), however they were created before."""
        path = self.paths[level]
        buf = io.StringIO()
        self._parsers[level].write(buf)
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = 0o666 if level == "repo" else PRIVATE_MODE
        fsutil.atomic_write(path, buf.getvalue().encode("utf-8"), mode=mode)
