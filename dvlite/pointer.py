"""Pointer files: ``<path>.dvl`` beside the data, small YAML committed to git."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dvlite import fsutil
from dvlite.errors import PointerError
from dvlite.hashing import is_oid
from dvlite.tree import DIR, FILE

SUFFIX = ".dvl"
VERSION = 1
_KEYS = ("version", "path", "kind", "oid", "size", "files")

# The exact text dvlite writes for a plain name: parsed without importing yaml (14 ms of
# every status). Anything else (quoted names, comments, hand edits) goes through yaml.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_CANONICAL = re.compile(
    r"version: 1\npath: ([A-Za-z_][A-Za-z0-9_.-]*)\nkind: (file|dir)\noid: (xxh128:[0-9a-f]{32})\n"
    r"size: (0|[1-9][0-9]*)\n(?:files: (0|[1-9][0-9]*)\n)?"
)
# plain names that YAML 1.1 reads as something other than a string
_YAML_WORDS = frozenset({"y", "yes", "n", "no", "true", "false", "on", "off", "null"})


def _yaml() -> Any:
    import yaml

    return yaml


@dataclass(frozen=True, slots=True)
class Pointer:
    path: str  # the data's name, relative to the pointer's folder
    kind: str  # FILE or DIR
    oid: str
    size: int
    files: int = 1

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {
            "version": VERSION,
            "path": self.path,
            "kind": self.kind,
            "oid": self.oid,
            "size": self.size,
        }
        if self.kind == DIR:
            d["files"] = self.files
        return d

    def dumps(self) -> str:
        if _PLAIN.fullmatch(self.path) and self.path.lower() not in _YAML_WORDS:
            # exactly what yaml.safe_dump writes for a plain name, without importing yaml
            head = f"version: {VERSION}\npath: {self.path}\nkind: {self.kind}\n"
            files = f"files: {self.files}\n" if self.kind == DIR else ""
            return f"{head}oid: {self.oid}\nsize: {self.size}\n{files}"
        return _yaml().safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=10_000)

    @classmethod
    def from_dict(cls, d: object, where: str) -> Pointer:
        def bad(why: str) -> PointerError:
            return PointerError(f"malformed pointer file {where}: {why}")

        if not isinstance(d, dict):
            raise bad("expected a YAML mapping")
        unknown = set(d) - set(_KEYS)
        if unknown:
            raise bad(f"unknown key {sorted(unknown)[0]!r}")
        if d.get("version") != VERSION:
            raise bad(f"unsupported version {d.get('version')!r} (this dvlite reads version {VERSION})")
        path = d.get("path")
        if not isinstance(path, str) or not path or "/" in path or path in (".", ".."):
            raise bad(f"'path' must be the name of the data beside the pointer, not {path!r}")
        kind = d.get("kind")
        if kind not in (FILE, DIR):
            raise bad(f"'kind' must be file or dir, not {kind!r}")
        oid = d.get("oid")
        if not is_oid(oid):
            raise bad(f"'oid' must look like xxh128:<32 hex digits>, not {oid!r}")
        size = d.get("size")
        if not _is_count(size):
            raise bad(f"'size' must be a whole number of bytes, not {size!r}")
        files = d.get("files", 1)
        if kind == DIR and not _is_count(files):
            raise bad(f"'files' must be a whole number, not {files!r}")
        return cls(path, kind, oid, size, files if kind == DIR else 1)  # type: ignore[arg-type]


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def pointer_path_for(data_path: Path) -> Path:
    return data_path.with_name(data_path.name + SUFFIX)


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
    match = _CANONICAL.fullmatch(text)
    if match and match[1].lower() not in _YAML_WORDS:
        fields: dict[str, object] = {"version": VERSION, "path": match[1], "kind": match[2]}
        fields.update(oid=match[3], size=int(match[4]))
        if match[5] is not None:
            fields["files"] = int(match[5])
        data: object = fields
    else:
        data = _parse_yaml(text, where)
    pointer = Pointer.from_dict(data, where)
    if pointer.path != expected_name:
        raise PointerError(
            f"malformed pointer file {where}: 'path' is {pointer.path!r} but the file is named "
            f"for {expected_name!r}; rename one of them"
        )
    return pointer


def _parse_yaml(text: str, where: str) -> object:
    yaml = _yaml()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise PointerError(f"malformed pointer file {where}: not valid YAML{line}") from None


def save(path: Path, pointer: Pointer) -> bool:
    """Write the pointer atomically; returns False if the file already had these bytes."""
    text = pointer.dumps().encode("utf-8")
    try:
        if path.read_bytes() == text:
            return False
    except OSError:
        pass
    fsutil.atomic_write(path, text)
    return True


def is_pointer(path: str | os.PathLike[str]) -> bool:
    return os.fspath(path).endswith(SUFFIX)
