"""Charts as inline SVG: line, scatter and bar (vertical or horizontal), one series per
revision; the confusion matrix is ``confusion``. Each series is a ``<g class="series ..."
data-series="REV">``, each point or bar has a ``<title>`` tooltip. A series with more points
than a chart can show is thinned for drawing, and the chart's notes say so."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dvlite.render import svg
from dvlite.render.svg import Scale, esc, fmt, num
from dvlite.render.table import STEP, Series, Value

WIDTH, HEIGHT = 640, 320  # the plotting area's box, axes included; the legend goes below
LEFT, RIGHT, TOP, BOTTOM = 64, 28, 12, 44
MAX_POINTS = 2000  # per series drawn; more are thinned (the JSON output has them all)
MARKED = 300  # a line with at most this many points gets a marker and a tooltip per point
MAX_CATEGORIES = 60  # bars per series


@dataclass(frozen=True)
class Chart:
    """One plot across revisions: what ``page`` draws."""

    path: str
    kind: str  # line, scatter, bar, bar_horizontal, confusion, confusion_normalized
    title: str
    x_label: str
    y_label: str
    series: tuple[Series, ...]
    revs: tuple[str, ...] = ()  # every revision compared: a revision keeps its colour
    notes: tuple[str, ...] = ()  # about the revisions (absent at one, a column missing)

    def colour(self, label: str, i: int) -> str:
        return svg.color(self.revs.index(label) if label in self.revs else i)


@dataclass
class Drawn:
    svg: str
    notes: list[str] = field(default_factory=list)


def _legend(chart: Chart, y: float) -> tuple[str, float]:
    labels = [(s.label, chart.colour(s.label, i)) for i, s in enumerate(chart.series)]
    return svg.legend(labels, LEFT, y, WIDTH - LEFT - RIGHT)


def _finish(chart: Chart, body: list[str], height: float, drawn: Drawn) -> Drawn:
    legend, tall = _legend(chart, height + 6)
    drawn.svg = svg.document(WIDTH, height + tall + 10, "".join([*body, legend]), chart.title)
    return drawn


# -- line and scatter ----------------------------------------------------------------------------
def thin(ys: Sequence[Value], limit: int, keep_peaks: bool) -> list[int]:
    """Indices of at most ``limit`` points: the lowest and highest of each stretch (a line keeps
    its peaks), or evenly spaced ones (a scatter keeps its density)."""
    n = len(ys)
    if n <= limit:
        return list(range(n))
    if not keep_peaks:
        step = -(-n // limit)
        return list(range(0, n, step))
    buckets = limit // 2
    found: list[int] = []
    for b in range(buckets):
        lo, hi = b * n // buckets, (b + 1) * n // buckets
        stretch = range(lo, hi)
        low = min(stretch, key=ys.__getitem__)
        high = max(stretch, key=ys.__getitem__)
        found += sorted({low, high})
    return found


def draw_xy(chart: Chart) -> Drawn:
    """A line or scatter chart, and notes on what drawing it left out."""
    drawn = Drawn("")
    line = chart.kind == "line"
    picked: list[tuple[int, Series, list[int]]] = []
    for i, s in enumerate(chart.series):
        keep = thin(s.ys, MAX_POINTS, keep_peaks=line)
        if len(keep) < len(s.ys):
            how = "the lowest and highest of each stretch" if line else "evenly spaced"
            drawn.notes.append(f"{s.label}: drew {len(keep):,} of {len(s.ys):,} points ({how})")
        picked.append((i, s, keep))
    numeric_x = all(isinstance(s.xs[k], float) for _, s, keep in picked for k in keep)
    categories: dict[str, int] = {}
    if not numeric_x:  # categories in the order they first appear
        for _, s, keep in picked:
            for k in keep:
                categories.setdefault(_category(s.xs[k]), len(categories))
    bottom = HEIGHT - BOTTOM
    xs_all = [float(s.xs[k]) for _, s, keep in picked for k in keep] if numeric_x else []
    ys_all = [float(s.ys[k]) for _, s, keep in picked for k in keep]
    if numeric_x:
        xticks = svg.nice_ticks(min(xs_all, default=0), max(xs_all, default=1), 8)
        xscale = Scale(xticks[0], xticks[-1], LEFT, WIDTH - RIGHT)
        xlabels = [(t, fmt(t)) for t in xticks]
    else:
        xscale = Scale(-0.5, max(len(categories), 1) - 0.5, LEFT, WIDTH - RIGHT)
        every = max(1, len(categories) // 10)
        band = (WIDTH - LEFT - RIGHT) / max(len(categories), 1) * every
        xlabels = [(float(i), svg.clip(c, band)) for c, i in categories.items() if i % every == 0]
    yticks = svg.nice_ticks(min(ys_all, default=0), max(ys_all, default=1), 6)
    yscale = Scale(yticks[0], yticks[-1], bottom, TOP)
    body = [
        svg.axis_y(yscale, [(t, fmt(t)) for t in yticks], LEFT, WIDTH - RIGHT, chart.y_label),
        svg.axis_x(xscale, xlabels, bottom, TOP, chart.x_label),
    ]
    for i, s, keep in picked:
        colour = chart.colour(s.label, i)

        def at(k: int, s: Series = s) -> tuple[float, float]:
            x = float(s.xs[k]) if numeric_x else float(categories[_category(s.xs[k])])
            return xscale(x), yscale(float(s.ys[k]))

        kind = "line" if line else "scatter"
        parts = [f'<g class="series {kind}" data-series="{esc(s.label)}" fill="{colour}">']
        if line and keep:
            path = "L".join(f"{num(x)},{num(y)}" for x, y in map(at, keep))
            parts.append(
                f'<path d="M{path}" fill="none" stroke="{colour}" stroke-width="1.8">'
                f"<title>{esc(s.label)}</title></path>"
            )
        if not line or len(keep) <= MARKED:
            for k in keep:
                x, y = at(k)
                tip = (
                    f"{s.label}: {chart.x_label}={_text(s.xs[k])}, {chart.y_label}={_text(s.ys[k])}"
                )
                parts.append(
                    f'<circle cx="{num(x)}" cy="{num(y)}" r="{2.5 if line else 3}">'
                    f"<title>{esc(tip)}</title></circle>"
                )
        parts.append("</g>")
        body.append("".join(parts))
    if not ys_all:
        drawn.notes.append("no points to draw")
    return _finish(chart, body, HEIGHT, drawn)


def _category(value: Value) -> str:
    return fmt(value) if isinstance(value, float) else value


def _text(value: Value) -> str:
    return fmt(value) if isinstance(value, float) else value


# -- bars -------------------------------------------------------------------------------------
def draw_bars(chart: Chart) -> Drawn:
    """Grouped bars, one per revision in each category: ``bar`` has the categories along x and
    the values up y; ``bar_horizontal`` (DVC's) the values along x and the categories down y."""
    drawn = Drawn("")
    across = chart.kind == "bar_horizontal"
    values: list[dict[str, float]] = []
    categories: dict[str, None] = {}
    for s in chart.series:
        cats, vals = (s.ys, s.xs) if across else (s.xs, s.ys)
        found: dict[str, float] = {}
        for c, v in zip(cats, vals, strict=True):
            found[_category(c)] = float(v)
        if len(found) < len(cats):
            drawn.notes.append(f"{s.label}: a category given twice is drawn with its last value")
        values.append(found)
        categories.update(dict.fromkeys(found))
    names = list(categories)
    if len(names) > MAX_CATEGORIES:
        drawn.notes.append(f"drew the first {MAX_CATEGORIES} of {len(names):,} categories")
        names = names[:MAX_CATEGORIES]
    numbers = [v for found in values for v in found.values()]
    ticks = svg.nice_ticks(min([0.0, *numbers]), max([0.0, *numbers]), 6)
    group = max(len(chart.series), 1)
    if across:
        left = min(220.0, 36 + max((len(n) for n in names), default=4) * svg.CHAR_WIDTH)
        band = max(14.0 * group + 8, 20.0)
        bottom = TOP + band * max(len(names), 1)
        vscale = Scale(ticks[0], ticks[-1], left, WIDTH - RIGHT)
        value_label, cat_label = chart.x_label, chart.y_label
        body = [svg.axis_x(vscale, [(t, fmt(t)) for t in ticks], bottom, TOP, value_label)]
        body.append(_category_axis_y(names, left, band, cat_label))
    else:
        bottom = HEIGHT - BOTTOM
        band = (WIDTH - LEFT - RIGHT) / max(len(names), 1)
        vscale = Scale(ticks[0], ticks[-1], bottom, TOP)
        value_label, cat_label = chart.y_label, chart.x_label
        body = [svg.axis_y(vscale, [(t, fmt(t)) for t in ticks], LEFT, WIDTH - RIGHT, value_label)]
        labels = [(LEFT + band * (j + 0.5), svg.clip(n, band)) for j, n in enumerate(names)]
        body.append(_category_axis_x(labels, bottom, cat_label))
    inner = band * 0.8 / group
    zero = vscale(0.0)
    for i, (s, found) in enumerate(zip(chart.series, values, strict=True)):
        colour = chart.colour(s.label, i)
        parts = [f'<g class="series bar" data-series="{esc(s.label)}" fill="{colour}">']
        for j, name in enumerate(names):
            if name not in found:
                continue
            v = vscale(found[name])
            start = (LEFT if not across else 0) + band * (j + 0.1) + inner * i
            if across:
                start += TOP
                box = (min(zero, v), start, abs(v - zero), inner)
            else:
                box = (start, min(zero, v), inner, abs(v - zero))
            tip = f"{s.label}: {name} = {fmt(found[name])}"
            parts.append(
                '<rect x="{}" y="{}" width="{}" height="{}">'.format(*map(num, box))
                + f"<title>{esc(tip)}</title></rect>"
            )
        body.append("".join([*parts, "</g>"]))
    return _finish(chart, body, bottom + BOTTOM, drawn)


def _category_axis_x(labels: list[tuple[float, str]], y: float, label: str) -> str:
    parts = [
        f'<g class="axis x" {svg.FONT} fill="#333">',
        svg.line(LEFT, y, WIDTH - RIGHT, y, "#888"),
    ]
    parts += [svg.text(x, y + 14, text, "middle") for x, text in labels]
    parts.append(svg.text((LEFT + WIDTH - RIGHT) / 2, y + 32, label, "middle", 'class="label"'))
    return "".join([*parts, "</g>"])


def _category_axis_y(names: list[str], left: float, band: float, label: str) -> str:
    bottom = TOP + band * max(len(names), 1)
    parts = [
        f'<g class="axis y" {svg.FONT} fill="#333">',
        svg.line(left, TOP, left, bottom, "#888"),
    ]
    parts += [
        svg.text(left - 5, TOP + band * (j + 0.5), svg.clip(n, left - 10), "end", 'dy="0.32em"')
        for j, n in enumerate(names)
    ]
    turn = f'class="label" transform="translate(12,{num((TOP + bottom) / 2)}) rotate(-90)"'
    parts.append(svg.text(0, 0, label, "middle", turn))
    return "".join([*parts, "</g>"])


def axis_name(name: str | None) -> str:
    """The label of an axis that reads column ``name`` (None: the row index)."""
    return STEP if name is None else name
