"""SVG drawing primitives: one escape for every string, number formats, linear scales with
round ticks, axes and a legend. Output is deterministic: the same data gives the same bytes."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

# Vega's "tableau10": distinct, and readable by most colour-blind viewers
PALETTE = (
    "#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2",
    "#eeca3b", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac",
)  # fmt: skip
FONT = 'font-family="system-ui, sans-serif" font-size="11"'
AXIS = '<g class="axis {}" ' + FONT + ' fill="#333">'  # .format("x") or "y"
CHAR_WIDTH = 6.2  # about what one character of FONT takes, for laying out labels


def esc(text: object) -> str:
    """Text or an attribute value, escaped: everything drawn comes from someone's file."""
    return html.escape(str(text), quote=True)


def num(value: float) -> str:
    """A coordinate: one decimal, no trailing zero."""
    text = f"{value:.1f}"
    text = text[:-2] if text.endswith(".0") else text
    return "0" if text == "-0" else text


def fmt(value: float) -> str:
    """A value for a person: six significant digits."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.6g}"
    return "0" if text == "-0" else text


def clip(text: str, width: float) -> str:
    """``text`` cut to fit about ``width`` pixels."""
    most = max(int(width / CHAR_WIDTH), 2)
    return text if len(text) <= most else text[: most - 1] + "…"


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten apart) covering ``lo``..``hi``."""
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        lo, hi = (lo - 1, hi + 1) if lo == 0 else (lo - abs(lo) / 2, hi + abs(hi) / 2)
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first, last = math.floor(lo / step), math.ceil(hi / step)
    return [_clean(i * step) for i in range(first, max(last, first + 1) + 1)]


def _clean(value: float) -> float:
    """0.30000000000000004 -> 0.3: a tick is a round number, so say it as one."""
    return float(f"{value:.12g}")


class Scale:
    """Maps ``lo``..``hi`` onto ``a``..``b`` (b < a for a y axis, whose origin is at the top)."""

    def __init__(self, lo: float, hi: float, a: float, b: float) -> None:
        self.lo, self.hi, self.a, self.b = lo, hi, a, b

    def __call__(self, value: float) -> float:
        span = self.hi - self.lo
        return self.a + (value - self.lo) / span * (self.b - self.a) if span else self.a


def line(x1: float, y1: float, x2: float, y2: float, stroke: str) -> str:
    return f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}" stroke="{stroke}"/>'


def text(x: float, y: float, content: object, anchor: str = "start", extra: str = "") -> str:
    """A text element at (x, y); ``content`` is escaped."""
    more = f" {extra}" if extra else ""
    return f'<text x="{num(x)}" y="{num(y)}" text-anchor="{anchor}"{more}>{esc(content)}</text>'


def axis_x(
    scale: Scale, ticks: Sequence[tuple[float, str]], y: float, top: float, label: str
) -> str:
    """A bottom axis at ``y``, grid lines up to ``top``, its tick labels and ``label``."""
    parts = [AXIS.format("x"), line(scale.a, y, scale.b, y, "#888")]
    for value, tick in ticks:
        x = scale(value)
        parts += [line(x, top, x, y, "#eee"), text(x, y + 14, tick, "middle")]
    parts.append(text((scale.a + scale.b) / 2, y + 32, label, "middle", 'class="label"'))
    return "".join([*parts, "</g>"])


def axis_y(
    scale: Scale, ticks: Sequence[tuple[float, str]], x: float, right: float, label: str
) -> str:
    """A left axis at ``x``, grid lines across to ``right``, its tick labels and ``label``."""
    parts = [AXIS.format("y"), line(x, scale.a, x, scale.b, "#888")]
    for value, tick in ticks:
        y = scale(value)
        parts += [line(x, y, right, y, "#eee"), text(x - 5, y, tick, "end", 'dy="0.32em"')]
    middle = num((scale.a + scale.b) / 2)
    turn = f'class="label" transform="translate({num(x - 50)},{middle}) rotate(-90)"'
    parts.append(text(0, 0, label, "middle", turn))
    return "".join([*parts, "</g>"])


def legend(
    labels: Sequence[tuple[str, str]], x: float, y: float, width: float
) -> tuple[str, float]:
    """One swatch and name per (label, colour), wrapped to ``width``; and the height it took."""
    parts = [f'<g class="legend" {FONT} fill="#333">']
    cx, cy = x, y
    for label, fill in labels:
        text = clip(label, 180)
        item = 18 + len(text) * CHAR_WIDTH + 14
        if cx > x and cx + item > x + width:
            cx, cy = x, cy + 18
        parts.append(
            f'<g class="item" data-series="{esc(label)}"><rect x="{num(cx)}" y="{num(cy)}" '
            f'width="12" height="12" fill="{fill}"/><text x="{num(cx + 17)}" y="{num(cy + 10)}">'
            f"{esc(text)}</text></g>"
        )
        cx += item
    parts.append("</g>")
    return "".join(parts), cy - y + 18


def document(width: float, height: float, body: str, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{num(width)}" height="{num(height)}" '
        f'viewBox="0 0 {num(width)} {num(height)}" role="img" aria-label="{esc(title)}">'
        f"{body}</svg>"
    )
