"""One self-contained HTML page: charts as inline SVG, images as ``data:`` URIs, a little CSS,
no script. Its Content-Security-Policy lets it load nothing but its own inline styles and
``data:`` images, so the page works offline and a file that slipped past escaping still
cannot run or fetch anything."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dvlite.render.charts import Chart, Drawn, draw_bars, draw_xy
from dvlite.render.confusion import draw_confusion
from dvlite.render.svg import esc

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
MIME = {"png": "image/png", "jpeg": "image/jpeg", "svg": "image/svg+xml"}
STYLE = """
body { font: 14px system-ui, sans-serif; color: #222; margin: 24px; max-width: 1400px; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin: 0 0 4px; }
section { border: 1px solid #ddd; border-radius: 6px; padding: 12px 16px; margin: 16px 0; }
.file, .notes, .meta { color: #666; font-size: 12px; } .notes { margin: 6px 0 0; }
.images { display: flex; flex-wrap: wrap; gap: 16px; }
.images figure { margin: 0; }
.images img { max-width: 600px; max-height: 480px; min-width: 96px; image-rendering: pixelated; }
figcaption { font-size: 12px; color: #555; } .absent { color: #a33; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
td, th { border-bottom: 1px solid #eee; padding: 3px 10px 3px 0; text-align: left; }
code, .oid { font-family: ui-monospace, monospace; font-size: 12px; }
svg { max-width: 100%; height: auto; }
"""


def draw(chart: Chart) -> Drawn:
    """The chart as one ``<svg>``, and notes on what drawing it left out."""
    if chart.kind.startswith("confusion"):
        text, notes = draw_confusion(chart)
        return Drawn(text, notes)
    if chart.kind in ("bar", "bar_horizontal"):
        return draw_bars(chart)
    return draw_xy(chart)


def image_uri(data: bytes, fmt: str) -> str | None:
    """A ``data:`` URI of an image, or None when its bytes are not of the format its name says
    (an SVG is only ever shown as an ``<img>``, where it cannot run a script)."""
    head = data[:1024].lstrip()
    looks = {
        "png": data.startswith(b"\x89PNG\r\n\x1a\n"),
        "jpeg": data.startswith(b"\xff\xd8\xff"),
        "svg": head.startswith((b"<svg", b"<?xml", b"<!--", b"<!DOCTYPE svg")) and b"<svg" in head,
    }
    if not looks.get(fmt):
        return None
    return f"data:{MIME[fmt]};base64,{base64.b64encode(data).decode('ascii')}"


@dataclass(frozen=True)
class Image:
    """One revision's image of a plot: its bytes, or why there are none."""

    label: str
    fmt: str
    data: bytes | None = None
    note: str = ""  # absent at REV, not in the cache, ...


def notes(lines: Iterable[str]) -> str:
    items = "".join(f"<li>{esc(line)}</li>" for line in lines)
    return f'<ul class="notes">{items}</ul>' if items else ""


def chart_section(chart: Chart) -> str:
    drawn = draw(chart)
    series_notes = [f"{s.label}: {n}" for s in chart.series for n in s.notes]
    return (
        f'<section class="plot" data-plot="{esc(chart.path)}" data-kind="{esc(chart.kind)}">'
        f'<h2>{esc(chart.title)}</h2><p class="file">{esc(chart.path)}</p>{drawn.svg}'
        f"{notes([*chart.notes, *series_notes, *drawn.notes])}</section>"
    )


def image_section(path: str, title: str, images: Sequence[Image]) -> str:
    figures = []
    for image in images:
        uri = image_uri(image.data, image.fmt) if image.data is not None else None
        note = image.note
        if image.data is not None and uri is None:
            note = f"{path} at {image.label} is not a {image.fmt.upper()} file"
        if uri is None:
            inner = f'<p class="absent">{esc(note)}</p>'
        else:
            alt = f"{path} at {image.label}"
            inner = f'<img src="{uri}" alt="{esc(alt)}">'
        figures.append(
            f'<figure class="series image" data-series="{esc(image.label)}">{inner}'
            f"<figcaption>{esc(image.label)}</figcaption></figure>"
        )
    return (
        f'<section class="plot" data-plot="{esc(path)}" data-kind="image"><h2>{esc(title)}</h2>'
        f'<p class="file">{esc(path)}</p><div class="images">{"".join(figures)}</div></section>'
    )


def document(title: str, body: Sequence[str], meta: str = "") -> str:
    """The whole page: ``body`` is sections of HTML made by this module (already escaped)."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head>\n"
        f'<body><h1>{esc(title)}</h1><p class="meta">{esc(meta)}</p>\n'
        + "\n".join(body)
        + "\n</body></html>\n"
    )
