"""``dvlite report``: one HTML page per revision (the workspace by default) with the stage
graph, each stage's deps and outs with the oids that revision's dvlite.lock records, its
params, metrics and plots, and the model registry's versions (an out that is a registered
version says so); plus an index page. Drawn by ``render``, read through ``Snapshot``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dvlite.errors import DvliteError, PlotError
from dvlite.git.history import WORKSPACE
from dvlite.git.revision import Snapshot
from dvlite.ops import plots
from dvlite.ops.metrics import read_metrics, read_params
from dvlite.records import params as params_mod
from dvlite.records.lockfile import LockedPath, LockEntry
from dvlite.records.pipeline import Stage
from dvlite.records.repo import Repo
from dvlite.render import report as pages
from dvlite.render.graph import dag_svg
from dvlite.render.page import notes
from dvlite.render.svg import esc

if TYPE_CHECKING:
    from dvlite.ops.registry import Model, Version

DEFAULT_DIR = "dvlite_report"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ReportPage:
    rev: str  # the revision's label
    commit: str | None
    path: Path


@dataclass
class ReportResult:
    folder: Path
    index: Path
    pages: list[ReportPage] = field(default_factory=list)
    registry_note: str = ""  # why the registry section is empty, when it is

    def to_dict(self) -> dict[str, object]:
        found = [{"rev": p.rev, "commit": p.commit, "path": str(p.path)} for p in self.pages]
        return {"folder": str(self.folder), "index": str(self.index), "pages": found}


def report(repo: Repo, revs: Sequence[str] = (), *, out: str | Path | None = None) -> ReportResult:
    """Write the report of ``revs`` (default: the workspace; ``workspace`` names it among
    others) into the folder ``out`` (default: dvlite_report/ at the repository root)."""
    chosen = list(dict.fromkeys(None if r == WORKSPACE else r for r in revs)) or [None]
    snaps = [Snapshot(repo, rev) for rev in chosen]
    folder = Path(out) if out is not None else repo.root / DEFAULT_DIR
    versions, note = _registry(repo)
    names = _file_names([s.label for s in snaps])
    links = list(zip([s.label for s in snaps], names, strict=True))
    result = ReportResult(folder.resolve(), folder.resolve() / "index.html", registry_note=note)
    for snap, name in zip(snaps, names, strict=True):
        html = _page(repo, snap, versions, note, links)
        path = plots.write_page(repo, html, folder / name)
        result.pages.append(ReportPage(snap.label, snap.commit, path))
    index = pages.index_page(
        [(p.rev, n, p.commit) for p, n in zip(result.pages, names, strict=True)]
    )
    plots.write_page(repo, index, result.index)
    return result


def _file_names(labels: list[str]) -> list[str]:
    """A file name per revision label, each different: ``v1.html``, ``feature_x.html``."""
    found: list[str] = []
    for label in labels:
        base = _UNSAFE.sub("_", label).strip("._") or "rev"
        name, n = f"{base}.html", 1
        while name in found or name == "index.html":
            n += 1
            name = f"{base}-{n}.html"
        found.append(name)
    return found


def _registry(repo: Repo) -> tuple[list[tuple[Model, Version]], str]:
    """Every registered version (``ops.registry.models``), or none and why."""
    if not repo.uses_git:
        return [], "No model registry: it keeps its records in git tags, and there is no git."
    from dvlite.ops.registry import models

    try:
        return [(m, v) for m in models(repo) for v in m.versions], ""
    except DvliteError as exc:
        return [], f"The model registry could not be read: {exc}"


def _page(
    repo: Repo,
    snap: Snapshot,
    versions: list[tuple[Model, Version]],
    note: str,
    links: list[tuple[str, str]],
) -> str:
    pipeline, lock = snap.pipeline, snap.lock
    order = pipeline.order()
    by_oid: dict[str, list[str]] = {}
    rows = []
    for model, v in versions:
        by_oid.setdefault(v.oid, []).append(f"model {model.name} {v.version}")
        here = v.commit == snap.commit
        rows.append(pages.ModelVersion(model.name, v.version, v.commit, v.path, v.oid,
                                       tuple(v.stages), here))  # fmt: skip
    metrics, params = read_metrics(snap), read_params(snap)
    stages = [
        _stage(repo, snap, pipeline.stages[name], lock.stages.get(name), metrics, params, by_oid)
        for name in order
    ]
    graph = dag_svg(order, pipeline.edges, {n: pipeline.stages[n].cmd for n in order})
    registry = pages.registry_section(rows, note)
    return pages.revision_page(snap.label, snap.commit, graph, stages, registry, links)


def _stage(
    repo: Repo,
    snap: Snapshot,
    stage: Stage,
    entry: LockEntry | None,
    metrics: dict[str, dict[str, object]],
    all_params: dict[str, dict[str, object]],
    by_oid: dict[str, list[str]],
) -> pages.StageInfo:
    def item(p: LockedPath, note: str = "") -> pages.Item:
        named = ", ".join(by_oid.get(p.oid, []))
        return pages.Item(p.path, p.oid, p.size, "; ".join(x for x in (note, named) if x))

    if entry is not None:
        deps = tuple(item(d) for d in entry.deps)
        outs = tuple(item(o) for o in entry.outs)
        outs += tuple(item(m, "kept in git") for m in entry.metrics)
        params = tuple((f, k, v) for f, keys in entry.params.items() for k, v in keys.items())
    else:
        deps = tuple(pages.Item(d) for d in stage.deps)
        outs = tuple(pages.Item(o) for o in stage.produces)
        params = tuple(
            (file, key, all_params[file][key])
            for file, key in map(params_mod.split, stage.params)
            if key in all_params.get(file, {})
        )
    values = tuple((f, k, v) for f in stage.metrics for k, v in metrics.get(f, {}).items())
    return pages.StageInfo(
        stage.name, stage.cmd, entry is not None, deps, outs, params, values,
        tuple(_plot_sections(repo, snap, [p.path for p in stage.plots])),
    )  # fmt: skip


def _plot_sections(repo: Repo, snap: Snapshot, paths: list[str]) -> list[str]:
    """Each plot drawn at ``snap``; one that cannot be (a missing column) says why instead."""
    found = []
    for rel in paths:
        try:  # an absolute target: collect takes the user's, relative to the current folder
            found += [
                view.section() for view in plots.collect(repo, [snap], [str(repo.root / rel)])
            ]
        except PlotError as exc:
            found.append(
                f'<section class="plot" data-plot="{esc(rel)}">{notes([str(exc)])}</section>'
            )
    return found
