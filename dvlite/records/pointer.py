"""Pointer files: ``<path>.dvl`` beside the data, small YAML committed to git."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dvlite.errors import PointerError
from dvlite.objects import fsutil
from dvlite.records import source as sources
from dvlite.records import yamlio
from dvlite.records.recorded import Recorded
from dvlite.records.source import Source
from dvlite.safepath import name_problem

SUFFIX = ".dvl"
VERSION = 1
_KEYS = ("version", "path", "kind", "oid", "size", "files", "exec", "source")

# Pointers as dvlite writes them, for names YAML leaves plain, are read and written without
# PyYAML (importing it costs more than a git hook's whole work); YAML reads them the same way.
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_YAML_WORDS = frozenset({"yes", "no", "true", "false", "on", "off", "null"})  # bools and null
_CANONICAL = re.compile(
    r"version: 1\npath: ([A-Za-z_][A-Za-z0-9_.-]*)\nkind: (file|dir)\noid: (xxh128:[0-9a-f]{32})\n"
    r"size: (0|[1-9][0-9]*)\n(?:files: (0|[1-9][0-9]*)\n|exec: (true)\n)?"
)


def _is_plain(name: str) -> bool:
    """Whether YAML writes and reads ``name`` as it is (no quotes, not a bool or null)."""
    return _PLAIN_NAME.fullmatch(name) is not None and name.lower() not in _YAML_WORDS


def _canonical(text: str) -> dict[str, object] | None:
    """The mapping in ``text`` when it is a pointer exactly as dvlite writes it, else None."""
    m = _CANONICAL.fullmatch(text)
    if m is None or not _is_plain(m[1]):
        return None
    d: dict[str, object] = dict(version=1, path=m[1], kind=m[2], oid=m[3], size=int(m[4]))
    if m[5] is not None:
        d["files"] = int(m[5])
    elif m[6] is not None:
        d["exec"] = True
    return d


@dataclass(frozen=True, slots=True)
class Pointer(Recorded):
    """A ``.dvl`` file: ``path`` is the data's name, relative to the pointer's folder;
    ``source`` where imported data came from (``import``, ``import-url``), written last and
    only then, so every other pointer keeps its bytes (docs/formats.md)."""

    source: Source | None = None

    def to_dict(self) -> dict[str, object]:
        d = {"version": VERSION, **self.fields()}
        return d if self.source is None else {**d, "source": self.source.to_dict()}

    def dumps(self) -> str:
        if _is_plain(self.path) and self.source is None:  # what YAML writes, without YAML
            return "".join(
                f"{k}: {'true' if v is True else v}\n" for k, v in self.to_dict().items()
            )
        import yaml

        # U+0085 (NEL) is a YAML line break: such a name must be written as an escape
        readable = "\x85" not in self.path
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=readable, width=10_000)

    @classmethod
    def from_dict(cls, d: object, where: str) -> Pointer:
        def bad(why: str) -> PointerError:
            return PointerError(f"malformed pointer file {where}: {why}")

        if not isinstance(d, dict):
            raise bad("expected a YAML mapping")
        unknown = set(d) - set(_KEYS)
        if unknown:
            raise bad(f"unknown key {sorted(map(str, unknown))[0]!r}")
        if d.get("version") != VERSION:
            raise bad(
                f"unsupported version {d.get('version')!r} (this dvlite reads version {VERSION})"
            )
        path = d.get("path")
        why = name_problem(path)
        if why is not None:
            raise bad(f"'path' must be the name of the data beside the pointer: {path!r} {why}")
        pointer = cls.checked(d, path, bad)  # type: ignore[arg-type]
        if "source" not in d:
            return pointer
        return dataclasses.replace(pointer, source=sources.from_dict(d["source"], bad))


def data_path_for(pointer_path: Path) -> Path:
    return pointer_path.with_name(pointer_path.name[: -len(SUFFIX)])


def load(path: Path, where: str | None = None) -> Pointer:
    where = where or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PointerError(f"pointer file {where} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PointerError(f"cannot read pointer file {where}: {exc}") from None
    return loads(text, where, data_path_for(path).name)


def loads(text: str, where: str, expected_name: str) -> Pointer:
    """Parse a pointer file's text; ``expected_name`` is the data name its file name implies."""
    data: object = _canonical(text)
    if data is None:
        data = yamlio.load(text, f"pointer file {where}", PointerError)
    pointer = Pointer.from_dict(data, where)
    if pointer.path != expected_name:
        raise PointerError(
            f"malformed pointer file {where}: 'path' is {pointer.path!r} but the file is named "
            f"for {expected_name!r}; rename one of them"
        )
    return pointer


def save(path: Path, pointer: Pointer) -> bool:
    """Write the pointer atomically; returns False if the file already had these bytes."""
    return fsutil.write_if_changed(path, pointer.dumps().encode("utf-8"))


def is_pointer(path: str | os.PathLike[str]) -> bool:
    return os.fspath(path).endswith(SUFFIX)


def tracking(rel: str, exists: Callable[[str], bool]) -> str | None:
    """The pointer file that tracks ``rel`` or a folder above it, among those ``exists``."""
    parts = rel.split("/")
    for i in range(len(parts), 0, -1):
        candidate = "/".join(parts[:i]) + SUFFIX
        if exists(candidate):
            return candidate
    return None
