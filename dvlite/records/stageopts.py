"""What a stage in dvlite.yaml says beyond its lists of paths, in DVC's syntax: ``cmd`` as one
line or a list, ``wdir``, ``desc``, ``meta``, ``always_changed``, and outs and metrics written
as one-key mappings with options (``- model.pkl: {cache: false, persist: true}``).

Paths are written relative to the stage's ``wdir`` and kept repository-relative once parsed
(``normpath`` checks each); ``relative`` turns them back when dvlite.yaml is written.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, replace
from difflib import get_close_matches
from typing import Any

from dvlite.errors import PipelineError
from dvlite.records.plotspec import Plot
from dvlite.records.templating import DEFAULT_VARS as DEFAULT_PARAMS

Normpath = Callable[[str, str, str], str]  # (path, where, wdir) -> repository-relative path
OUT_OPTIONS = ("cache", "persist")
EXTRA_KEYS = ("wdir", "desc", "meta", "always_changed")  # beside cmd and the lists


@dataclass(frozen=True, slots=True)
class Outputs:
    outs: tuple[str, ...]  # cached, git-ignored
    uncached: tuple[str, ...]  # outs with cache: false: recorded, kept in git
    metrics: tuple[str, ...]
    persist: tuple[str, ...]  # not removed before the stage runs


def parse_cmd(value: object, here: str) -> tuple[str, tuple[str, ...]]:
    """(the cmd as dvlite.lock records it, the commands when written as a list)."""
    if isinstance(value, list) and value:
        if all(isinstance(c, str) and c.strip() for c in value):
            return "\n".join(value), tuple(value)
        raise PipelineError(f"{here}: each command in its 'cmd' list must be a non-empty string")
    if not isinstance(value, str) or not value.strip():
        raise PipelineError(f"{here} needs a 'cmd' (the command to run, as one string)")
    return value, ()


def parse_wdir(value: object, here: str, normpath: Normpath) -> str:
    """The folder the command runs in, repository-relative ("" for the root)."""
    if value is None:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise PipelineError(f"{here} wdir: must be a folder name, not {value!r}")
    if posixpath.normpath(value.replace("\\", "/")) == ".":
        return ""
    return normpath(value, f"{here} wdir", "")


def parse_extras(d: dict[object, object], here: str) -> tuple[str, bool]:
    """(desc, always_changed); ``meta`` is anything and ignored, as DVC does."""
    desc = d.get("desc", "")
    if desc is None:
        desc = ""
    if not isinstance(desc, str):
        raise PipelineError(f"{here}: 'desc' must be a string")
    always = d.get("always_changed", False)
    if not isinstance(always, bool):
        raise PipelineError(f"{here}: 'always_changed' must be true or false, not {always!r}")
    return desc, always


def parse_outputs(
    raw_outs: list[object], raw_metrics: list[object], here: str, wdir: str, normpath: Normpath
) -> Outputs:
    outs: dict[str, None] = {}
    uncached: dict[str, None] = {}
    metrics: dict[str, None] = {}
    persist: dict[str, None] = {}
    for key, raw, found in (("outs", raw_outs, outs), ("metrics", raw_metrics, metrics)):
        for item in raw:
            path, options = _one(item, f"{here} {key}")
            rel = normpath(path, f"{here} {key}", wdir)
            if options.get("persist"):
                persist[rel] = None
            if key == "metrics" and options.get("cache", False):
                raise PipelineError(
                    f"{here} metrics: {path!r} has cache: true; metrics stay in git in dvlite "
                    "(make it an out to cache it)"
                )
            cached = key == "metrics" or options.get("cache", True)
            (found if cached else uncached)[rel] = None
    return Outputs(tuple(outs), tuple(uncached), tuple(metrics), tuple(persist))


def _one(item: object, where: str) -> tuple[str, dict[str, bool]]:
    """A path, or ``{path: {cache: bool, persist: bool}}``."""
    if not isinstance(item, dict):
        return item, {}  # type: ignore[return-value]  # normpath says what a path must be
    if len(item) != 1:
        raise PipelineError(
            f"{where}: an output with options is a one-key mapping {{path: {{...}}}}"
        )
    ((path, options),) = item.items()
    options = options or {}
    if not isinstance(options, dict):
        raise PipelineError(f"{where}: the options of {path!r} must be a mapping")
    for name, value in options.items():
        if name not in OUT_OPTIONS:
            raise PipelineError(
                f"{where}: {path!r} has an unknown option {name!r} "
                f"(known: {', '.join(OUT_OPTIONS)})"
            )
        if not isinstance(value, bool):
            raise PipelineError(f"{where}: {path!r} {name} must be true or false, not {value!r}")
    return path, options


def relative(path: str, wdir: str) -> str:
    """A repository-relative path as dvlite.yaml writes it for a stage in ``wdir``."""
    return posixpath.relpath(path, wdir) if wdir else path


def params_file(ref: str) -> str:
    """The file a param reference reads: ``file.yaml:key``, or params.yaml for a bare key."""
    file, sep, _ = ref.rpartition(":")
    return (file if sep else "") or DEFAULT_PARAMS


def parse_params(raw: list[object], here: str, wdir: str, normpath: Normpath) -> list[str]:
    """Param references, their files made repository-relative (a stage's params.yaml is the
    one in its wdir, as in DVC)."""
    params = []
    for p in raw:
        if not isinstance(p, str) or not p.strip():
            raise PipelineError(f"{here}: a param must be a key like 'train.lr', not {p!r}")
        if wdir:
            p = f"{normpath(params_file(p), f'{here} params', wdir)}:{p.rpartition(':')[2]}"
        normpath(params_file(p), f"{here} params", "")
        params.append(p)
    return params


def to_yaml(stage: Any) -> dict[str, object]:
    """A ``pipeline.Stage`` as dvlite.yaml writes it (the keys it does not use left out)."""
    wdir = stage.wdir
    made = Outputs(stage.outs, stage.uncached, stage.metrics, stage.persist)
    lists: dict[str, list[object]] = {
        "deps": [relative(p, wdir) for p in stage.deps],
        "params": [param_relative(p, wdir) for p in stage.params],
        **outputs_yaml(made, wdir),
        "plots": [plot_relative(p, wdir).to_yaml() for p in stage.plots],
    }
    head: dict[str, object] = {"cmd": list(stage.commands) if stage.commands else stage.cmd}
    head |= {"wdir": wdir} if wdir else {}
    tail = {"desc": stage.desc, "always_changed": stage.always_changed, "meta": stage.meta}
    return {
        **head,
        **{key: value for key, value in lists.items() if value},
        **{key: value for key, value in tail.items() if value},
    }


def outputs_yaml(o: Outputs, wdir: str) -> dict[str, list[object]]:
    """The outs and metrics of a stage as dvlite.yaml writes them."""

    def item(path: str, options: dict[str, bool]) -> object:
        rel = relative(path, wdir)
        return {rel: options} if options else rel

    persist = set(o.persist)
    outs = [item(p, {"persist": True} if p in persist else {}) for p in o.outs]
    outs += [
        item(p, {"cache": False, **({"persist": True} if p in persist else {})}) for p in o.uncached
    ]
    metrics = [item(p, {"persist": True} if p in persist else {}) for p in o.metrics]
    return {"outs": outs, "metrics": metrics}


def param_relative(ref: str, wdir: str) -> str:
    """A param reference as dvlite.yaml writes it for a stage in ``wdir`` (a bare key for
    the wdir's params.yaml)."""
    if not wdir:
        return ref
    file, _, key = ref.rpartition(":")
    file = relative(file, wdir)
    return key if file == DEFAULT_PARAMS else f"{file}:{key}"


def plot_relative(plot: Plot, wdir: str) -> Plot:
    return replace(plot, path=relative(plot.path, wdir)) if wdir else plot


def also(key: str) -> str:
    """A hint for an unknown stage key that is close to one of the keys beyond the usual six."""
    close = get_close_matches(key, [*EXTRA_KEYS, "foreach", "matrix", "vars"], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
