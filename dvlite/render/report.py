"""The report's pages: for one revision, the stage graph, each stage with its deps and outs
(oids as dvlite.lock records them), params, metrics and plots, and the model registry's
versions; and an index of the pages. Plain values in, escaped HTML out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from dvlite.render import page
from dvlite.render.svg import esc, fmt


@dataclass(frozen=True)
class Item:
    """A dep or an out of a stage, as the lock records it (no oid: the stage has not run)."""

    path: str
    oid: str | None = None
    size: int | None = None
    note: str = ""  # kept in git, a registered model, ...


Value = tuple[str, str, object]  # file, key, value


@dataclass(frozen=True)
class StageInfo:
    name: str
    cmd: str
    ran: bool  # dvlite.lock at this revision records a run of it
    deps: tuple[Item, ...] = ()
    outs: tuple[Item, ...] = ()
    params: tuple[Value, ...] = ()
    metrics: tuple[Value, ...] = ()
    plots: tuple[str, ...] = ()  # sections made by render.page (already escaped)


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: str
    commit: str
    path: str
    oid: str
    stages: tuple[str, ...]
    here: bool  # registered at the commit this page is about


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], cls: str = "") -> str:
    """An HTML table; every cell escaped (a cell of ``Raw`` is not)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{c if isinstance(c, Raw) else esc(c)}</td>" for c in row) + "</tr>"
        for row in rows
    )
    klass = f' class="{esc(cls)}"' if cls else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class Raw(str):
    """HTML that this module made, and escaped, itself."""


def value_text(value: object) -> str:
    if isinstance(value, float):
        return fmt(value)
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def _oid(oid: str | None) -> Raw:
    if oid is None:
        return Raw('<span class="absent">not run</span>')
    return Raw(
        f'<code class="oid" title="{esc(oid)}">{esc(oid.removeprefix("xxh128:")[:16])}</code>'
    )


def _items(title: str, items: Sequence[Item]) -> str:
    if not items:
        return ""
    rows = [
        [Raw(f"<code>{esc(i.path)}</code>"), _oid(i.oid), "" if i.size is None else f"{i.size:,}",
         i.note]
        for i in items
    ]  # fmt: skip
    return f"<h3>{esc(title)}</h3>" + table(["path", "oid", "bytes", ""], rows)


def _values(title: str, values: Sequence[Value]) -> str:
    if not values:
        return ""
    rows = [[file, key, value_text(v)] for file, key, v in values]
    return f"<h3>{esc(title)}</h3>" + table(["file", "key", "value"], rows)


def stage_section(stage: StageInfo) -> str:
    ran = "" if stage.ran else ' <span class="absent">(dvlite.lock records no run)</span>'
    return (
        f'<section class="stage" data-stage="{esc(stage.name)}"><h2>{esc(stage.name)}{ran}</h2>'
        f"<p><code>$ {esc(stage.cmd)}</code></p>"
        + _items("deps", stage.deps)
        + _items("outs", stage.outs)
        + _values("params", stage.params)
        + _values("metrics", stage.metrics)
        + "".join(stage.plots)
        + "</section>"
    )


def registry_section(versions: Sequence[ModelVersion], note: str = "") -> str:
    rows = [
        [v.name, Raw(f"<b>{esc(v.version)}</b>" if v.here else esc(v.version)), v.commit[:12],
         Raw(f"<code>{esc(v.path)}</code>"), _oid(v.oid), ", ".join(v.stages)]
        for v in versions
    ]  # fmt: skip
    body = table(["model", "version", "commit", "path", "oid", "stages"], rows, "registry")
    if not versions:
        body = f"<p>{esc(note or 'No models registered (dvlite model register NAME PATH).')}</p>"
    elif note:
        body += page.notes([note])
    return f'<section class="registry"><h2>Model registry</h2>{body}</section>'


def revision_page(
    label: str,
    commit: str | None,
    graph: str,
    stages: Sequence[StageInfo],
    registry: str,
    links: Sequence[tuple[str, str]] = (),
) -> str:
    """One revision's page: ``graph`` is the stage graph's SVG, ``registry`` its section;
    ``links`` (label, file name) are the other pages of the report."""
    meta = f"commit {commit}" if commit else "the workspace, as dvlite.lock records it"
    nav = " · ".join(f'<a href="{esc(f)}">{esc(lbl)}</a>' for lbl, f in links)
    graph_part = graph if stages else "<p>No stages in dvlite.yaml.</p>"
    body = [
        f'<nav class="meta">{nav}</nav>' if nav else "",
        f'<section class="graph"><h2>Pipeline</h2>{graph_part}</section>',
        *(stage_section(s) for s in stages),
        registry,
    ]
    return page.document(f"dvlite report: {label}", body, meta)


def index_page(pages: Sequence[tuple[str, str, str | None]]) -> str:
    """The report's front page: (label, file name, commit) of each revision's page."""
    rows = [[Raw(f'<a href="{esc(f)}">{esc(lbl)}</a>'), commit or "-"] for lbl, f, commit in pages]
    return page.document("dvlite report", [table(["revision", "commit"], rows)], "")
