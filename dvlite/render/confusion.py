"""The confusion matrix: one grid per revision, side by side, a cell per (x, y) pair of
classes shaded by its count (``confusion_normalized``: its share of its x column, as DVC's
template divides by the actual class), the count written in it."""

from __future__ import annotations

from collections import Counter

from dvlite.render import svg
from dvlite.render.charts import Chart
from dvlite.render.svg import esc, num
from dvlite.render.table import number

MAX_CLASSES = 40
_GAP, _TOP = 28, 34


def _order(labels: set[str]) -> list[str]:
    """Classes sorted as numbers when they all are, else as text."""
    if all(number(c) is not None for c in labels):
        return sorted(labels, key=lambda c: (number(c), c))
    return sorted(labels)


def _shade(t: float) -> str:
    """White (t=0) to the palette's blue (t=1)."""
    low, high = (255, 255, 255), (0x4C, 0x78, 0xA8)
    r, g, b = (round(a + (z - a) * max(0.0, min(t, 1.0))) for a, z in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def draw_confusion(chart: Chart) -> tuple[str, list[str]]:
    notes: list[str] = []
    normalized = chart.kind == "confusion_normalized"
    counts = [Counter(zip(map(str, s.xs), map(str, s.ys), strict=True)) for s in chart.series]
    classes = _order({c for found in counts for pair in found for c in pair})
    if len(classes) > MAX_CLASSES:
        notes.append(f"drew the first {MAX_CLASSES} of {len(classes):,} classes")
        classes = classes[:MAX_CLASSES]
    n = max(len(classes), 1)
    cell = max(14.0, min(40.0, 320.0 / n))
    label_w = min(120.0, 10 + max((len(c) for c in classes), default=1) * svg.CHAR_WIDTH)
    grid = cell * n
    width_one = label_w + grid + _GAP
    parts: list[str] = []
    for i, (s, found) in enumerate(zip(chart.series, counts, strict=True)):
        ox, oy = 8 + i * width_one + label_w, _TOP
        totals = Counter[str]()
        for (x, _), count in found.items():
            totals[x] += count
        shown = {
            pair: count / totals[pair[0]] if normalized else float(count)
            for pair, count in found.items()
        }
        top = max(shown.values(), default=1.0) or 1.0
        group = [
            f'<g class="series confusion" data-series="{esc(s.label)}" {svg.FONT}>',
            svg.text(ox + grid / 2, 14, svg.clip(s.label, grid + label_w), "middle",
                     f'font-weight="bold" fill="{chart.colour(s.label, i)}"'),
        ]  # fmt: skip
        for col, x in enumerate(classes):
            for row, y in enumerate(classes):
                value = shown.get((x, y), 0.0)
                text = f"{value:.2f}" if normalized else str(int(value))
                cx, cy = ox + col * cell, oy + row * cell
                tip = f"{s.label}: {chart.x_label}={x}, {chart.y_label}={y}: {text}"
                group.append(
                    f'<rect class="cell" x="{num(cx)}" y="{num(cy)}" width="{num(cell)}" '
                    f'height="{num(cell)}" fill="{_shade(value / top)}" stroke="#fff">'
                    f"<title>{esc(tip)}</title></rect>"
                )
                if cell >= 18:
                    ink = "#fff" if value / top > 0.55 else "#222"
                    group.append(
                        svg.text(cx + cell / 2, cy + cell / 2, text, "middle",
                                 f'dy="0.32em" fill="{ink}" font-size="{min(11, cell / 3):.0f}"')
                    )  # fmt: skip
        for j, c in enumerate(classes):
            at = oy + (j + 0.5) * cell
            group.append(svg.text(ox - 4, at, svg.clip(c, label_w - 6), "end", 'dy="0.32em"'))
            across = f'transform="rotate(-45 {num(ox + (j + 0.5) * cell)} {num(oy + grid + 12)})"'
            group.append(svg.text(ox + (j + 0.5) * cell, oy + grid + 12, svg.clip(c, 60), "end",
                                  across))  # fmt: skip
        group.append("</g>")
        parts.append("".join(group))
    if not chart.series:
        notes.append("no points to draw")
    caption = f"{chart.x_label} (columns) × {chart.y_label} (rows)"
    width = max(16 + width_one * max(len(chart.series), 1), 24 + len(caption) * svg.CHAR_WIDTH)
    height = _TOP + grid + 70
    parts.append(
        f'<g class="axis" {svg.FONT} fill="#555">'
        + svg.text(8, height - 10, caption, "start", 'class="label"')
        + "</g>"
    )
    return svg.document(width, height, "".join(parts), chart.title), notes
