"""``dvlite dag``: the stage graph as text (ascii), Mermaid, Graphviz dot, or JSON."""

from __future__ import annotations

import json

from dvlite.records.pipeline import Pipeline

FORMATS = ("ascii", "mermaid", "dot", "json")


def render(pipeline: Pipeline, fmt: str = "ascii") -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    order = pipeline.order()  # raises on a cycle, naming it
    edges = pipeline.edges
    if fmt == "json":
        stages = [
            {
                "name": name,
                "cmd": pipeline.stages[name].cmd,
                "deps": list(pipeline.stages[name].deps),
                "outs": list(pipeline.stages[name].produces),
                "upstream": edges[name],
            }
            for name in order
        ]
        links = [[up, name] for name in order for up in edges[name]]
        return json.dumps({"stages": stages, "edges": links}, indent=2)
    if fmt == "mermaid":
        lines = ["flowchart TD"]
        ids = {name: f"s{i}" for i, name in enumerate(order)}
        lines += [f'    {ids[n]}["{n}"]' for n in order]
        lines += [f"    {ids[up]} --> {ids[n]}" for n in order for up in edges[n]]
        return "\n".join(lines)
    if fmt == "dot":
        lines = ["digraph pipeline {", "    rankdir=TB;", "    node [shape=box];"]
        lines += [f"    {json.dumps(n)};" for n in order]
        lines += [f"    {json.dumps(up)} -> {json.dumps(n)};" for n in order for up in edges[n]]
        lines.append("}")
        return "\n".join(lines)
    return _ascii(pipeline)


def _ascii(pipeline: Pipeline) -> str:
    """Each stage drawn as a tree under the stages with no upstream; a stage reached again is
    marked ``(above)`` instead of being drawn twice."""
    lines: list[str] = []
    drawn: set[str] = set()

    def draw(name: str, prefix: str, last: bool, top: bool) -> None:
        branch = "" if top else ("└── " if last else "├── ")
        if name in drawn:
            lines.append(f"{prefix}{branch}{name} (above)")
            return
        drawn.add(name)
        lines.append(f"{prefix}{branch}{name}")
        inner = prefix if top else prefix + ("    " if last else "│   ")
        kids = pipeline.children[name]
        for i, kid in enumerate(kids):
            draw(kid, inner, i == len(kids) - 1, False)

    for name in pipeline.order():
        if not pipeline.edges[name]:
            draw(name, "", True, True)
    return "\n".join(lines)
