"""Templates in dvlite.yaml, in DVC's syntax: ``vars``, ``${...}`` interpolation, and families
of stages made by ``foreach``/``do`` and ``matrix``.

Names come from ``params.yaml`` (read only when something interpolates), then the top-level
``vars`` (files, ``file.yaml:key1,key2`` and inline mappings), then a stage's own ``vars``
(relative to its ``wdir``); no source may redefine a name another one set. ``${a.b}`` and
``${a[0]}`` reach into mappings and lists. A string that is one ``${...}`` takes the value as
it is (a list for ``foreach: ${models}``); inside a longer string a value must be a string,
number or bool (written ``true``/``false``). ``\\${`` is a literal ``${``.

Everything here comes from committed files: the stages one family makes are bounded
(MAX_GENERATED) and so is the work of one load (MAX_STEPS, against YAML aliases repeated).
Paths are left to the pipeline, which checks each one after interpolation.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Callable, Iterator
from itertools import product
from pathlib import Path

from dvlite.errors import PipelineError
from dvlite.records import yamlio

Reader = Callable[[str], bytes | None]  # repository-relative path -> bytes (None if absent)
Normpath = Callable[[str, str, str], str]  # (path, where, wdir) -> repository-relative path

DEFAULT_VARS = "params.yaml"
JOIN = "@"
FAMILY_KEYS = ("foreach", "do", "matrix")
MAX_GENERATED = 1000  # stages one foreach or matrix may make
MAX_STEPS = 200_000  # values one load may visit (merging vars, resolving stages)
_EXPR = re.compile(r"(?<!\\)\$\{(?P<inner>[^}]*)\}")
_SUFFIX = re.compile(r"[A-Za-z0-9_.,+=-]+")
_MISSING = object()


def uses_templates(data: dict[object, object], text: str | None) -> bool:
    """Whether a parsed dvlite.yaml needs this module (plain pipelines skip it)."""
    if "vars" in data or (text is not None and "${" in text):
        return True
    stages = data.get("stages")
    return isinstance(stages, dict) and any(
        isinstance(s, dict) and any(k in s for k in (*FAMILY_KEYS, "vars")) for s in stages.values()
    )


def has_template(value: object) -> bool:
    """Whether a stage's raw definition is a family or interpolates (for ``stage add -f``)."""
    if isinstance(value, dict):
        return any(k in value for k in (*FAMILY_KEYS, "vars")) or any(
            has_template(v) for v in value.values()
        )
    if isinstance(value, list):
        return any(has_template(v) for v in value)
    return isinstance(value, str) and "${" in value


def text(value: object) -> str:
    """A value as it reads inside a string: YAML's spelling of bools."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict | list):
        return "a mapping" if isinstance(value, dict) else "a list"
    return type(value).__name__


def lookup(data: object, expr: str) -> object:
    """The value at ``a.b[0].c`` in ``data``; _MISSING when absent."""
    node = data
    for part in expr.replace("[", ".").replace("]", "").split("."):
        if isinstance(node, dict):
            if part in node:
                node = node[part]
            elif part.lstrip("-").isdigit() and int(part) in node:
                node = node[int(part)]
            else:
                return _MISSING
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


class _Budget:
    def __init__(self, where: str) -> None:
        self.where, self.left = where, MAX_STEPS

    def step(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise PipelineError(
                f"{self.where}: too large to resolve (over {MAX_STEPS} values visited); "
                "is a YAML alias repeated?"
            )


class Context:
    """The names ``${...}`` can use: immutable, each change makes a new one."""

    def __init__(
        self, data: dict[object, object], sources: dict[object, str], files: frozenset[str]
    ) -> None:
        self.data, self.sources, self.files = data, sources, files

    def merged(self, new: dict[object, object], source: str, budget: _Budget) -> Context:
        data = _merge(self.data, new, source, self.sources, budget, "")
        sources = {**{k: source for k in new}, **self.sources}
        return Context(data, sources, self.files)

    def with_items(self, items: dict[object, object]) -> Context:
        return Context(
            {**self.data, **items}, {**self.sources, **dict.fromkeys(items, "foreach")}, self.files
        )


def _merge(
    old: dict[object, object],
    new: dict[object, object],
    source: str,
    sources: dict[object, str],
    budget: _Budget,
    prefix: str,
) -> dict[object, object]:
    """``old`` with ``new`` merged in, sharing what did not change; a name set twice is an
    error (mappings merge key by key)."""
    out = dict(old)
    for key, value in new.items():
        budget.step()
        name = f"{prefix}{key}"
        if key not in old:
            out[key] = value
        elif isinstance(old[key], dict) and isinstance(value, dict):
            out[key] = _merge(old[key], value, source, sources, budget, f"{name}.")  # type: ignore[arg-type]
        else:
            top = name.split(".", 1)[0]
            first = next((s for k, s in sources.items() if str(k) == top), "another source")
            raise PipelineError(
                f"{budget.where}: {source} cannot redefine {name!r}: {first} already defines it"
            )
    return out


class Resolver:
    """Expands the ``stages`` of one dvlite.yaml into plain stage definitions."""

    def __init__(self, doc: dict[object, object], read: Reader, normpath: Normpath, where: str):
        self.doc, self.read, self.normpath, self.where = doc, read, normpath, where
        self.budget = _Budget(where)
        self._base: Context | None = None
        self.groups: dict[str, tuple[str, ...]] = {}  # family -> the stages it made

    # -- names ------------------------------------------------------------------------------
    @property
    def base(self) -> Context:
        """params.yaml and the top-level vars, loaded on first use."""
        if self._base is None:
            ctx = Context({}, {}, frozenset())
            if self.read(DEFAULT_VARS) is not None:
                ctx = self._load(ctx, DEFAULT_VARS, "", f"{self.where} vars")
            self._base = self._vars(ctx, self.doc.get("vars", []), "", f"{self.where} vars")
        return self._base

    def _vars(self, ctx: Context, items: object, wdir: str, label: str) -> Context:
        if not isinstance(items, list):
            raise PipelineError(
                f"{label} must be a list of files (params.yaml, file.yaml:key) and mappings"
            )
        for i, item in enumerate(items):
            if isinstance(item, str):
                file, _, keys = item.partition(":")
                ctx = self._load(
                    ctx, file, wdir, label, [k.strip() for k in keys.split(",") if k.strip()]
                )
            elif isinstance(item, dict):
                if has_template(item):
                    raise PipelineError(f"{label}[{i}]: interpolation is not allowed in vars")
                ctx = ctx.merged(item, f"vars[{i}]", self.budget)
            else:
                raise PipelineError(
                    f"{label}[{i}] must be a file name or a mapping, not {_kind(item)}"
                )
        return ctx

    def _load(
        self, ctx: Context, file: str, wdir: str, label: str, keys: list[str] | None = None
    ) -> Context:
        rel = self.normpath(file, label, wdir)
        if rel in ctx.files:
            return ctx  # loaded whole already (params.yaml is loaded first)
        raw = self.read(rel)
        if raw is None:
            raise PipelineError(f"{label}: {rel} does not exist")
        try:
            data = yamlio.load(raw.decode("utf-8"), rel, PipelineError)
        except UnicodeDecodeError:
            raise PipelineError(f"{label}: {rel} is not UTF-8 text") from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise PipelineError(f"{label}: {rel} must hold a mapping, not {_kind(data)}")
        if not keys:
            merged = ctx.merged(data, rel, self.budget)
            return Context(merged.data, merged.sources, ctx.files | {rel})
        for key in keys:
            value = lookup(data, key)
            if value is _MISSING:
                raise PipelineError(f"{label}: {rel} has no key {key!r}")
            for part in reversed(key.split(".")):
                value = {part: value}
            ctx = ctx.merged(value, f"{rel}:{key}", self.budget)  # type: ignore[arg-type]
        return ctx

    # -- stages -----------------------------------------------------------------------------
    def stages(self) -> Iterator[tuple[str, object]]:
        """(name, plain definition) for each stage, families expanded, in file order."""
        stages = self.doc.get("stages") or {}
        assert isinstance(stages, dict)
        if "vars" in self.doc:
            self.base  # noqa: B018 (top-level vars are checked even when nothing uses them)
        for name, body in stages.items():
            if isinstance(body, dict) and ("foreach" in body or "matrix" in body):
                yield from self._family(str(name), body)
            elif isinstance(body, dict) and (has_template(body) or "vars" in body):
                yield str(name), self._stage(str(name), body, self.base)
            else:
                yield str(name), body

    def _family(self, name: str, body: dict[object, object]) -> Iterator[tuple[str, object]]:
        here = f"{self.where}: stage {name!r}"
        if "foreach" in body and "matrix" in body:
            raise PipelineError(f"{here} has both 'foreach' and 'matrix'; use one")
        if "foreach" in body:
            extra = sorted(str(k) for k in body if k not in ("foreach", "do"))
            if extra or "do" not in body:
                raise PipelineError(
                    f"{here}: a foreach stage has only 'foreach' and 'do' (the stage to make "
                    f"for each item)" + (f"; move {extra[0]!r} under 'do'" if extra else "")
                )
            members = self._foreach(name, self._value(self.base, body["foreach"], name, "foreach"))
            template = body["do"]
        else:
            if "do" in body:
                raise PipelineError(
                    f"{here}: a matrix stage takes no 'do'; write its keys beside 'matrix'"
                )
            members = self._matrix(name, self._value(self.base, body["matrix"], name, "matrix"))
            template = {k: v for k, v in body.items() if k != "matrix"}
        made: list[str] = []
        for suffix, items in members:
            if not _SUFFIX.fullmatch(suffix):
                raise PipelineError(
                    f"{here}: {suffix!r} cannot be part of a stage name ({name}{JOIN}...); use "
                    "letters, digits and _ . , + = - (a mapping names each stage by its key)"
                )
            generated = f"{name}{JOIN}{suffix}"
            if generated in made:
                raise PipelineError(f"{here} makes the stage {generated!r} twice")
            made.append(generated)
            yield generated, self._stage(generated, template, self.base.with_items(items))
        self.groups[name] = tuple(made)

    def _foreach(self, name: str, items: object) -> list[tuple[str, dict[object, object]]]:
        if isinstance(items, dict):
            self._bound(name, len(items))
            return [(text(k), {"item": v, "key": k}) for k, v in items.items()]
        if not isinstance(items, list):
            raise PipelineError(
                f"{self.where}: stage {name!r} foreach must be a list or a mapping, not "
                f"{_kind(items)}"
            )
        self._bound(name, len(items))
        composite = any(isinstance(v, dict | list) for v in items)
        return [
            (str(i) if composite else self._scalar(name, v), {"item": v})
            for i, v in enumerate(items)
        ]

    def _matrix(self, name: str, matrix: object) -> list[tuple[str, dict[object, object]]]:
        here = f"{self.where}: stage {name!r} matrix"
        if not isinstance(matrix, dict) or not matrix:
            raise PipelineError(f"{here} must map names to lists of values")
        for key, values in matrix.items():
            if not isinstance(values, list):
                raise PipelineError(f"{here}: {key!r} must be a list, not {_kind(values)}")
        self._bound(name, math.prod(len(v) for v in matrix.values()))
        members: list[tuple[str, dict[object, object]]] = []
        for combo in product(*(enumerate(v) for v in matrix.values())):
            item = {str(k): v for k, (_, v) in zip(matrix, combo, strict=True)}
            parts = (
                f"{k}{i}" if isinstance(v, dict | list) else self._scalar(name, v)
                for k, (i, v) in zip(matrix, combo, strict=True)
            )
            key = "-".join(parts)
            members.append((key, {"item": item, "key": key}))
        return members

    def _scalar(self, name: str, value: object) -> str:
        if value is None:
            raise PipelineError(f"{self.where}: stage {name!r} has a null item; name it")
        return text(value)

    def _bound(self, name: str, count: int) -> None:
        if count > MAX_GENERATED:
            raise PipelineError(
                f"{self.where}: stage {name!r} would make {count} stages; one foreach or "
                f"matrix may make at most {MAX_GENERATED}"
            )

    def _stage(self, name: str, body: object, ctx: Context) -> object:
        if not isinstance(body, dict):
            return body  # the pipeline says what a stage must be
        wdir = ""
        if "wdir" in body:
            raw = self._value(ctx, body["wdir"], name, "wdir")
            if isinstance(raw, str) and raw.strip() and posixpath.normpath(raw) != ".":
                wdir = self.normpath(raw, f"{self.where}: stage {name!r} wdir", "")
        if "vars" in body:
            ctx = self._vars(ctx, body["vars"], wdir, f"{self.where}: stage {name!r} vars")
        return {k: self._value(ctx, v, name, str(k)) for k, v in body.items() if k != "vars"}

    def _value(self, ctx: Context, value: object, stage: str, field: str) -> object:
        self.budget.step()
        if isinstance(value, str):
            return self._string(ctx, value, stage, field)
        if isinstance(value, list):
            return [self._value(ctx, v, stage, field) for v in value]
        if isinstance(value, dict):
            return {
                (self._string(ctx, k, stage, field, whole=False) if isinstance(k, str) else k): (
                    self._value(ctx, v, stage, field)
                )
                for k, v in value.items()
            }
        return value

    def _string(
        self, ctx: Context, value: str, stage: str, field: str, *, whole: bool = True
    ) -> object:
        if "${" not in value:
            return value
        matches = list(_EXPR.finditer(value))
        if whole and len(matches) == 1 and matches[0].group(0) == value:
            found = self._select(ctx, matches[0]["inner"], stage, field)
            return text(found) if field == "cmd" and not isinstance(found, dict | list) else found
        out, at = [], 0
        for m in matches:
            found = self._select(ctx, m["inner"], stage, field)
            if found is None or isinstance(found, dict | list):
                raise PipelineError(
                    f"{self.where}: stage {stage!r} {field}: ${{{m['inner']}}} is "
                    f"{_kind(found)}; only a string, number or bool can be part of a string"
                )
            out += [value[at : m.start()], text(found)]
            at = m.end()
        out.append(value[at:])
        return "".join(out).replace("\\${", "${")

    def _select(self, ctx: Context, expr: str, stage: str, field: str) -> object:
        name = expr.strip()
        parts = name.replace("[", ".").replace("]", "").split(".")
        if not name or not all(parts):
            raise PipelineError(f"{self.where}: stage {stage!r} {field}: ${{{expr}}} is not a name")
        found = lookup(ctx.data, name)
        if found is _MISSING:
            raise PipelineError(
                f"{self.where}: stage {stage!r} {field}: ${{{name}}} is not defined in "
                f"{DEFAULT_VARS} or vars; define it, or write \\${{...}} for a literal ${{...}}"
            )
        return found


def workspace_reader(root: Path) -> Reader:
    """A Reader of the files in the workspace at ``root``."""

    def read(rel: str) -> bytes | None:
        try:
            return (root / rel).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    return read
