"""A stage's ``plots:`` as dvlite.yaml declares them, in DVC's syntax: a list whose items are
paths or one-key mappings ``{path: {x: COL, y: COL, template: NAME, title: ..., x_label: ...,
y_label: ...}}``, or one such mapping of paths. Only the declaration lives here; reading the
files and drawing them is ``ops.plots`` and ``render``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dvlite.errors import PipelineError

# a template name (DVC's and our own) -> the kind of chart drawn
TEMPLATES = {
    "line": "line",
    "linear": "line",
    "simple": "line",
    "scatter": "scatter",
    "bar": "bar",
    "bar_horizontal": "bar_horizontal",
    "confusion": "confusion",
    "confusion_normalized": "confusion_normalized",
}
DEFAULT_TEMPLATE = "linear"
_TEXT_KEYS = ("x", "y", "template", "title", "x_label", "y_label")
_KEYS = (*_TEXT_KEYS, "cache")


@dataclass(frozen=True, slots=True)
class Plot:
    """One declared plot: a data file (CSV, TSV, JSON) drawn as a chart, or an image."""

    path: str
    x: str | None = None  # None: the row index (DVC's ``step``)
    y: str | None = None  # None: the last column
    template: str | None = None  # None: DEFAULT_TEMPLATE
    title: str | None = None
    x_label: str | None = None
    y_label: str | None = None

    @property
    def kind(self) -> str:
        """The chart drawn: line, scatter, bar, bar_horizontal, confusion(_normalized)."""
        return TEMPLATES[self.template or DEFAULT_TEMPLATE]

    def to_yaml(self) -> object:
        """A bare path when nothing else is set, else DVC's ``{path: {key: value}}``."""
        props = {k: getattr(self, k) for k in _TEXT_KEYS if getattr(self, k) is not None}
        return {self.path: props} if props else self.path


Normalise = Callable[[str, str], str]  # (path, where) -> the repository-relative path


def parse(raw: object, where: str, normpath: Normalise) -> tuple[Plot, ...]:
    """The plots of a stage's ``plots:`` value; PipelineError naming what is wrong."""
    if raw is None:
        return ()
    items: list[object]
    if isinstance(raw, str):
        items = [raw]
    elif isinstance(raw, dict):
        items = [{k: v} for k, v in raw.items()]
    elif isinstance(raw, list):
        items = raw
    else:
        raise PipelineError(f"{where}: 'plots' must be a list of paths or {{path: {{x: ...}}}}")
    found: dict[str, Plot] = {}
    for item in items:
        plot = _one(item, where, normpath)
        found.setdefault(plot.path, plot)
    return tuple(found.values())


def _one(item: object, where: str, normpath: Normalise) -> Plot:
    if isinstance(item, str):
        return Plot(normpath(item, f"{where} plots"))
    if not isinstance(item, dict) or len(item) != 1:
        raise PipelineError(
            f"{where}: each plot must be a path or a one-key mapping {{path: {{x: COL, y: COL}}}}"
        )
    ((raw_path, props),) = item.items()
    path = normpath(raw_path, f"{where} plots")
    props = {} if props is None else props
    if not isinstance(props, dict):
        raise PipelineError(f"{where}: plot {path}: its settings must be a mapping")
    unknown = sorted(str(k) for k in set(props) - set(_KEYS))
    if unknown:
        raise PipelineError(
            f"{where}: plot {path} has an unknown key {unknown[0]!r} (known: {', '.join(_KEYS)})"
        )
    if props.get("cache") not in (None, False):
        raise PipelineError(
            f"{where}: plot {path}: 'cache' can only be false (a plot not in the stage's outs is "
            "kept in git); to cache it, list it in 'outs' too"
        )
    text: dict[str, str] = {}
    for key in _TEXT_KEYS:
        value = props.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise PipelineError(f"{where}: plot {path}: {key!r} must be text, not {value!r}")
        text[key] = str(value)
    template = text.get("template")
    if template is not None and template not in TEMPLATES:
        raise PipelineError(
            f"{where}: plot {path}: unknown template {template!r} (known: {', '.join(TEMPLATES)})"
        )
    return Plot(path, **text)
