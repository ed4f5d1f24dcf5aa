"""The stage graph as SVG: stages in layers by their depth (a stage sits one layer below the
deepest stage it depends on), ordered within a layer by where their upstream stages sit so
that few arrows cross, boxes joined by arrows from upstream to downstream."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from dvlite.render import svg
from dvlite.render.svg import esc, num

BOX_H, LAYER_GAP, GAP, PAD = 30, 64, 28, 16


def layers(order: Sequence[str], edges: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """The nodes (``order``: upstream first) by depth, each layer ordered by the mean position
    of its upstream nodes in the layer above (the given order breaking ties)."""
    depth: dict[str, int] = {}
    for name in order:
        depth[name] = 1 + max((depth[u] for u in edges.get(name, ()) if u in depth), default=-1)
    found: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name in order:
        found[depth[name]].append(name)
    place: dict[str, float] = {n: float(i) for i, n in enumerate(found[0] if found else [])}
    for layer in found[1:]:

        def mean(name: str) -> float:
            ups = [place[u] for u in edges.get(name, ()) if u in place]
            return sum(ups) / len(ups) if ups else float(len(place))

        layer.sort(key=mean)
        place.update({n: float(i) for i, n in enumerate(layer)})
    return found


def _through(
    order: Sequence[str], edges: Mapping[str, Sequence[str]]
) -> tuple[list[str], dict[str, list[str]], list[list[str]]]:
    """The graph with a waypoint in every layer an arrow crosses (so that it is routed around
    the boxes there, not through them): the nodes upstream first, their edges, and each
    arrow's chain of nodes."""
    depth: dict[str, int] = {}
    for name in order:
        depth[name] = 1 + max((depth[u] for u in edges.get(name, ()) if u in depth), default=-1)
    linked: dict[str, list[str]] = {n: [] for n in order}
    chains: list[list[str]] = []
    for name in order:
        for up in edges.get(name, ()):
            if up in depth:
                ways = [f"\0{up}\0{name}\0{k}" for k in range(depth[up] + 1, depth[name])]
                chain = [up, *ways, name]
                depth.update({w: depth[up] + k for k, w in enumerate(ways, 1)})
                for a, b in itertools.pairwise(chain):
                    linked.setdefault(b, []).append(a)
                chains.append(chain)
    rank = {n: i for i, n in enumerate(order)}
    nodes = sorted(depth, key=lambda n: (depth[n], rank.get(n, len(rank))))
    return nodes, linked, chains


def dag_svg(
    order: Sequence[str], edges: Mapping[str, Sequence[str]], tips: Mapping[str, str] | None = None
) -> str:
    """The graph of ``order`` (stage names, upstream first) and ``edges`` (stage -> the stages
    it depends on); ``tips`` are tooltips (a stage's command)."""
    tips = tips or {}
    nodes, linked, chains = _through(order, edges)
    rows = layers(nodes, linked)
    widths = {n: 14.0 if n.startswith("\0") else max(90.0, len(n) * 7.2 + 24) for n in nodes}
    row_widths = [sum(widths[n] for n in row) + GAP * (len(row) - 1) for row in rows]
    width = max([240.0, *row_widths]) + 2 * PAD
    at: dict[str, tuple[float, float]] = {}  # a box's top-left corner
    for i, row in enumerate(rows):
        x = (width - row_widths[i]) / 2
        for name in row:
            at[name] = (x, PAD + i * (BOX_H + LAYER_GAP))
            x += widths[name] + GAP
    height = PAD * 2 + len(rows) * BOX_H + max(len(rows) - 1, 0) * LAYER_GAP
    parts = [
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#666"/>'
        "</marker></defs>"
    ]
    for chain in chains:
        parts.append(_arrow(chain, at, widths))
    for name in order:
        x, y = at[name]
        tip = f"<title>{esc(tips[name])}</title>" if name in tips else ""
        parts.append(
            f'<g class="stage" data-stage="{esc(name)}">{tip}<rect x="{num(x)}" y="{num(y)}" '
            f'width="{num(widths[name])}" height="{BOX_H}" rx="6" fill="#eef3f8" stroke="#4c78a8"/>'
            + svg.text(x + widths[name] / 2, y + BOX_H / 2, name, "middle",
                       'dy="0.32em" font-family="system-ui, sans-serif" font-size="12"')
            + "</g>"
        )  # fmt: skip
    return svg.document(width, height, "".join(parts), "the stage graph")


def _arrow(
    chain: list[str], at: Mapping[str, tuple[float, float]], widths: Mapping[str, float]
) -> str:
    """From the bottom of the chain's first box, straight down through each waypoint's layer,
    curving between layers, to the top of its last box."""

    def centre(n: str) -> float:
        return at[n][0] + widths[n] / 2

    up, down = chain[0], chain[-1]
    path = f"M{num(centre(up))},{num(at[up][1] + BOX_H)}"
    y = at[up][1] + BOX_H
    for n in chain[1:]:
        x0, top = centre(chain[chain.index(n) - 1]), at[n][1]
        x1, end = centre(n), top - (2 if n == down else 0)
        bend = (top - y) / 2
        path += f"C{num(x0)},{num(y + bend)} {num(x1)},{num(top - bend)} {num(x1)},{num(end)}"
        if n != down:
            y = top + BOX_H
            path += f"L{num(x1)},{num(y)}"
    return (
        f'<path class="edge" data-from="{esc(up)}" data-to="{esc(down)}" d="{path}" fill="none" '
        'stroke="#666" marker-end="url(#arrow)"/>'
    )
