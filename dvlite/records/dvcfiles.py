"""DVC's own files, read for ``migrate-dvc``: ``.dvc`` files, ``dvc.lock`` and ``.dvc/config``
(configobj's INI), each parsed into plain values and a list of what this reader does not know,
so the migration reports it (with the file and the reason) instead of guessing. Paths are
checked as any path read from a committed file is. ``dvc.yaml`` is dvlite.yaml's own syntax
and is converted in ``ops/migrate_pipeline.py``."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from dvlite.errors import MigrateError, PipelineError
from dvlite.records import yamlio
from dvlite.safepath import rel_problem

DVC_DIR = ".dvc"
DVC_YAML, DVC_LOCK, DVC_IGNORE = "dvc.yaml", "dvc.lock", ".dvcignore"
FILE_KEYS = frozenset({"outs", "deps", "md5", "wdir", "frozen", "meta", "desc"})
OUT_KEYS = frozenset({"path", "md5", "size", "nfiles", "hash", "isexec", "cache", "persist"})
OUT_KEYS_IGNORED = frozenset({"desc", "type", "labels", "meta", "remote"})  # nothing to keep
_MD5 = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class DvcOut:
    """A path DVC recorded (a ``.dvc`` file's out, a dvc.lock dep or out)."""

    path: str  # repository-relative
    md5: str  # 32 hex digits, without ".dir"
    is_dir: bool
    size: int | None = None
    isexec: bool = False
    legacy: bool = False  # DVC 2's md5 (no ``hash: md5``): text files hashed as dos2unix


@dataclass
class DvcFile:
    rel: str  # the .dvc file
    outs: list[DvcOut] = field(default_factory=list)
    source: dict[str, object] | None = None  # an import's dep: {"repo": ...} or {"url": ...}
    problems: list[str] = field(default_factory=list)  # why something of it is not converted
    notes: list[str] = field(default_factory=list)  # converted, with something said about it


def is_external(path: str) -> bool:
    return "://" in path or posixpath.isabs(path) or re.match(r"^[A-Za-z]:[\\/]", path) is not None


def repo_path(path: object, folder: str, where: str) -> str:
    """A path DVC wrote relative to ``folder``, made repository-relative; MigrateError why not."""
    if not isinstance(path, str) or not path:
        raise MigrateError(f"{where}: a path must be a non-empty string, not {path!r}")
    if is_external(path):
        raise MigrateError(
            f"{where}: {path} is an external output (outside the repository); dvlite tracks data "
            "inside the repository only"
        )
    rel = posixpath.normpath(posixpath.join(folder, path.replace("\\", "/")))
    why = rel_problem(rel)
    if why is not None:
        raise MigrateError(f"{where}: {path!r} {why}")
    return rel


def recorded(d: object, folder: str, where: str) -> DvcOut:
    """One recorded path (``{path, md5, size, nfiles, hash, isexec}``)."""
    if not isinstance(d, dict):
        raise MigrateError(f"{where}: each out must be a mapping")
    rel = repo_path(d.get("path"), folder, where)
    md5 = d.get("md5") or d.get("checksum")
    if not isinstance(md5, str) or _MD5.fullmatch(md5.removesuffix(".dir")) is None:
        raise MigrateError(f"{where}: {rel} has no md5 (was it ever `dvc add`ed or run?)")
    hash_name = d.get("hash")
    if hash_name not in (None, "md5"):
        raise MigrateError(f"{where}: {rel} is hashed with {hash_name!r}; dvlite reads md5 only")
    size = d.get("size")
    return DvcOut(
        rel,
        md5.removesuffix(".dir"),
        md5.endswith(".dir"),
        size if isinstance(size, int) and not isinstance(size, bool) else None,
        d.get("isexec") is True,
        legacy=hash_name is None,
    )


def parse_dvc_file(text: str, rel: str) -> DvcFile:
    """A ``.dvc`` file: its outs, the source of an import, and what cannot be converted."""
    found = DvcFile(rel)
    try:
        data = yamlio.load(text, rel, PipelineError)
    except PipelineError as exc:
        found.problems.append(str(exc))
        return found
    if not isinstance(data, dict):
        found.problems.append("not a mapping")
        return found
    unknown = sorted(str(k) for k in set(data) - FILE_KEYS)
    if unknown:
        found.problems.append(f"unknown key {unknown[0]!r}")
        return found
    folder = posixpath.dirname(rel)
    wdir = data.get("wdir") or "."
    if not isinstance(wdir, str) or is_external(wdir):
        found.problems.append(f"wdir {wdir!r} is not a folder inside the repository")
        return found
    folder = posixpath.normpath(posixpath.join(folder, wdir))
    outs = data.get("outs") or []
    if not isinstance(outs, list) or not outs:
        found.problems.append("it has no outs")
        return found
    for out in outs:
        extra = (
            sorted(str(k) for k in set(out) - OUT_KEYS - OUT_KEYS_IGNORED)
            if isinstance(out, dict)
            else []
        )
        if extra:
            found.problems.append(
                f"out {out.get('path')!r} has {extra[0]!r}, which dvlite cannot keep"
            )
            continue
        if isinstance(out, dict) and out.get("cache") is False:
            found.problems.append(
                f"out {out.get('path')!r} has cache: false (git keeps that data; nothing to "
                "convert)"
            )
            continue
        try:
            found.outs.append(recorded(out, folder, rel))
        except MigrateError as exc:
            found.problems.append(str(exc).removeprefix(f"{rel}: "))
    _source(data, found)
    return found


def _source(data: dict[object, object], found: DvcFile) -> None:
    """The dep of an import (``dvc import``, ``dvc import-url``), said as dvlite's source."""
    deps = data.get("deps") or []
    if not deps:
        return
    dep = deps[0] if isinstance(deps, list) and len(deps) == 1 else None
    if not isinstance(dep, dict):
        found.problems.append("its deps are not one import source")
        return
    if isinstance(dep.get("repo"), dict):
        url = dep["repo"].get("url")
        found.notes.append(
            f"imported from the DVC repository {url}: converted as data (`dvlite update` "
            "cannot follow a DVC repository; `dvlite import` it again once that one is dvlite's)"
        )
        return
    path = dep.get("path")
    if isinstance(path, str) and is_external(path):
        found.source = {"url": path}
        found.notes.append(f"imported from {path}: `dvlite update` checks it for changes")
    else:
        found.problems.append("a .dvc file with deps that are not an import is a stage")
    if data.get("frozen"):
        found.notes.append("it was frozen in DVC; `dvlite update` updates it when asked to")


# -- .dvc/config: configobj's INI ---------------------------------------------------------
_SECTION = re.compile(r"^\s*\[\s*(.+?)\s*\]\s*(?:#.*)?$")
_OPTION = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*=\s*(.*?)\s*$")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value.split(" #", 1)[0].strip()


def parse_config(text: str, where: str) -> dict[str, dict[str, str]]:
    """``.dvc/config`` as sections of options: ``remote "store"`` -> ``{"url": ...}``."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith(("#", ";")):
            continue
        if m := _SECTION.match(line):
            current = sections.setdefault(_unquote(m[1]), {})
            continue
        m = _OPTION.match(line)
        if m is None or current is None:
            raise MigrateError(f"malformed {where} (line {number}): {line.strip()!r}")
        current[m[1].lower()] = _unquote(m[2])
    return sections
