"""Params: values a stage reads from YAML or JSON files, named by dotted keys.

``train.lr`` is the key ``lr`` under ``train`` in ``params.yaml``; ``conf/model.yaml:layers``
names another file. A stage depends on the values of the keys it names, not on the whole file.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from dvlite.errors import PipelineError
from dvlite.records import yamlio
from dvlite.records.lockfile import Params
from dvlite.records.pipeline import params_file
from dvlite.records.templating import Reader
from dvlite.records.templating import workspace_reader as workspace_reader

MISSING = object()


def split(ref: str) -> tuple[str, str]:
    """``"file.yaml:key"`` -> (file, key); a bare key lives in params.yaml."""
    return params_file(ref), ref.rpartition(":")[2]


def lookup(data: object, key: str) -> object:
    """The value at a dotted key (``a.b.c``; list items by index); MISSING when absent."""
    if isinstance(data, dict) and key in data:  # a key that itself has dots
        return data[key]
    node = data
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return MISSING
    return node


def flatten(data: object, prefix: str = "") -> dict[str, object]:
    """Nested mappings as dotted keys -> leaf values (lists kept as values)."""
    if not isinstance(data, dict):
        return {prefix: data} if prefix else {}
    flat: dict[str, object] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name))
        else:
            flat[name] = value
    return flat


def same_value(a: object, b: object) -> bool:
    """Whether two param values are equal, with nan equal to nan (``a: .nan`` stays up to
    date), in lists and mappings too; otherwise Python's ``==`` (so 1 equals 1.0)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def parse(data: bytes, where: str) -> object:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PipelineError(f"{where} is not UTF-8 text") from None
    return yamlio.load(text, where, PipelineError)  # YAML is a superset of JSON


def values(
    refs: Iterable[str], read: Reader, *, stage: str = "", parsed: dict[str, object] | None = None
) -> Params:
    """The value of every referenced param, grouped by file; PipelineError for a missing
    file or key. ``parsed`` remembers parsed files between calls."""
    parsed = {} if parsed is None else parsed
    result: Params = {}
    who = f"stage {stage!r}: " if stage else ""
    for ref in refs:
        file, key = split(ref)
        if file not in parsed:
            data = read(file)
            if data is None:
                raise PipelineError(f"{who}params file {file} does not exist (needed for {ref})")
            parsed[file] = parse(data, file)
        value = lookup(parsed[file], key)
        if value is MISSING:
            raise PipelineError(
                f"{who}{file} has no key {key!r}; add it or remove the param from the stage"
            )
        result.setdefault(file, {})[key] = value
    return result


def assign(data: object, key: str, value: object, where: str) -> dict[str, object]:
    """``data`` (a parsed params file; None for a new one) with the dotted ``key`` set to
    ``value``, missing mappings on the way made; PipelineError where a key runs into a value."""
    root: object = {} if data is None else data
    if not isinstance(root, dict):
        raise PipelineError(f"{where} does not hold a mapping, so it has no key {key!r}")
    node = root
    parts = key.split(".")
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            above = ".".join(parts[: depth + 1])
            raise PipelineError(f"{where}: {above} is a value, not a mapping; cannot set {key}")
        node = child
    node[parts[-1]] = value
    return root


def dumps(data: object, original: bytes | None) -> bytes:
    """A params file's text for ``data``, keeping its flavour: a file written as JSON stays
    JSON (YAML reads both); comments in a YAML file are not kept."""
    import json

    if original is not None and original.lstrip().startswith((b"{", b"[")):
        return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    return yamlio.dump(data).encode("utf-8")
