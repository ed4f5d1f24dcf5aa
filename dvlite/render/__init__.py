"""Render: data in, self-contained HTML and SVG text out; no file, git or cache access.

``table`` reads the bytes of a plot file (CSV, TSV, JSON) into columns and picks a plot's x and
y series from them; ``svg`` holds the drawing primitives (scales, ticks, axes, legend, one
escape of every string); ``charts`` draws line, scatter, bar and confusion charts, each series
an element carrying ``data-series``; ``graph`` draws the stage graph; ``page`` puts charts and
images (``data:`` URIs, magic bytes checked) into one HTML page that fetches nothing;
``report`` lays out the report's pages.

Why our own renderer rather than Vega-Lite, vl-convert or matplotlib: docs/plots.md.
Imports only from ``records`` and below.
"""
