"""``dvlite plots show`` and ``plots diff``: the plots stages declare, read at each revision
(the workspace, a git revision; an experiment once ``history.resolve`` knows them) and drawn
by ``render`` into one HTML file. A plot kept in git is read from git; one that is an out is
read from the cache by the oid its revision's dvlite.lock records."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dvlite.errors import CacheError, CorruptObjectError, PathError, PlotError
from dvlite.git.history import WORKSPACE
from dvlite.git.revision import Snapshot
from dvlite.objects import fsutil, tree
from dvlite.objects.tree import FILE, TreeEntry
from dvlite.records.pipeline import Pipeline, overlaps
from dvlite.records.plotspec import Plot
from dvlite.records.repo import Repo
from dvlite.render import page
from dvlite.render.charts import Chart
from dvlite.render.table import IMAGE_FORMATS, STEP, Series, columns_for, file_format, read, series

DEFAULT_OUT = "dvlite_plots/index.html"
MAX_DATA = 256 << 20  # bytes of one data file read for one revision
MAX_IMAGE = 16 << 20  # bytes of one image put into the page
_SUPPORTED = "CSV, TSV, JSON, PNG, JPEG or SVG (.csv, .tsv, .json, .png, .jpg, .svg)"


@dataclass(frozen=True)
class Declared:
    """A plot as one revision's dvlite.yaml declares it, with the stage that makes it."""

    plot: Plot
    stage: str  # "" for a file named on the command line that no stage declares
    cached: bool  # one of its stage's outs (or inside one): read from the cache


def declared(pipeline: Pipeline) -> dict[str, Declared]:
    """Every plot path of ``pipeline`` -> its declaration (the first stage's, if two)."""
    found: dict[str, Declared] = {}
    for stage in pipeline:
        for p in stage.plots:
            cached = any(overlaps(p.path, out) for out in stage.outs)
            found.setdefault(p.path, Declared(p, stage.name, cached))
    return found


@dataclass
class PlotView:
    """One plot across the revisions compared: a chart, or an image per revision."""

    path: str
    kind: str  # a chart kind (records.plotspec.TEMPLATES' values), or "image"
    template: str
    title: str
    chart: Chart | None = None
    images: list[page.Image] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        """Whether some revision has the file."""
        charted = self.chart is not None and bool(self.chart.series)
        return charted or any(i.data is not None for i in self.images)

    def section(self) -> str:
        if self.chart is not None:
            return page.chart_section(self.chart)
        return page.image_section(self.path, self.title, self.images) + page.notes(self.notes)

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"path": self.path, "kind": self.kind, "title": self.title}
        if self.chart is not None:
            d |= {"template": self.template, "x": self.chart.x_label, "y": self.chart.y_label}
            d["series"] = [s.to_dict() for s in self.chart.series]
            d["notes"] = list(self.chart.notes)
        else:
            d["images"] = [
                {"rev": i.label, "format": i.fmt, "size": None if i.data is None else len(i.data)}
                | ({"note": i.note} if i.note else {})
                for i in self.images
            ]
            d["notes"] = self.notes
        return d


@dataclass
class PlotsResult:
    revisions: list[str]
    plots: list[PlotView]
    path: Path | None = None  # the HTML file written (None: nothing written)

    def to_dict(self) -> dict[str, object]:
        return {"revisions": self.revisions, "plots": [p.to_dict() for p in self.plots]}


def show(
    repo: Repo, targets: Sequence[str] = (), *, out: str | Path | None = None, write: bool = True
) -> PlotsResult:
    """The plots in the workspace (all, or ``targets``: plot files, folders, stage names)."""
    return _compare(repo, [None], targets, out, write)


def diff(
    repo: Repo,
    revs: Sequence[str] = (),
    targets: Sequence[str] = (),
    *,
    out: str | Path | None = None,
    write: bool = True,
) -> PlotsResult:
    """The plots at ``revs`` overlaid (none: HEAD and the workspace; one: it and the
    workspace). ``workspace`` names the workspace among several."""
    chosen: list[str | None] = [None if r == WORKSPACE else r for r in revs]
    if len(chosen) < 2:
        chosen = [chosen[0] if chosen else "HEAD", None]
    return _compare(repo, list(dict.fromkeys(chosen)), targets, out, write)


def _compare(
    repo: Repo, revs: list[str | None], targets: Sequence[str], out: str | Path | None, write: bool
) -> PlotsResult:
    snaps = [Snapshot(repo, rev) for rev in revs]
    views = collect(repo, snaps, targets)
    result = PlotsResult([s.label for s in snaps], views)
    if write and views:
        meta = " vs ".join(result.revisions)
        html = page.document("dvlite plots", [v.section() for v in views], meta)
        result.path = write_page(repo, html, out)
    return result


def write_page(repo: Repo, html: str, out: str | Path | None, default: str = DEFAULT_OUT) -> Path:
    """Write ``html`` to ``out`` (default: ``default`` at the repository root); its path."""
    path = Path(out) if out is not None else repo.root / default
    if path.is_dir():
        path = path / "index.html"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fsutil.atomic_write(path, html.encode("utf-8"), fsync=False)
    except OSError as exc:
        raise PathError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path.resolve()


def collect(repo: Repo, snaps: Sequence[Snapshot], targets: Sequence[str] = ()) -> list[PlotView]:
    """A view of every plot (or of ``targets``) across ``snaps``, in dvlite.yaml's order."""
    per_snap = [declared(s.pipeline) for s in snaps]
    known: dict[str, Declared] = {}
    for decls in reversed(per_snap):  # the newest declaration says how to draw it
        for path, decl in decls.items():
            known.setdefault(path, decl)
    chosen = _select(repo, targets, known)
    views = []
    for path in chosen:
        spec = known.get(path) or Declared(Plot(path), "", cached=False)
        at = [decls.get(path, Declared(spec.plot, "", cached=False)) for decls in per_snap]
        view = _view(repo, snaps, spec, at)
        if not spec.stage and not view.has_data:
            raise PlotError(f"{path} does not exist at {', '.join(s.label for s in snaps)}")
        views.append(view)
    return views


def _select(repo: Repo, targets: Sequence[str], known: dict[str, Declared]) -> list[str]:
    if not targets:
        return list(known)
    chosen: list[str] = []
    stages = {d.stage for d in known.values() if d.stage}
    for target in targets:
        rel = repo.rel(target)
        inside = [p for p in known if rel == "" or p == rel or p.startswith(rel + "/")]
        stage = target if target in stages else rel if rel in stages else None
        if inside:
            chosen += inside
        elif stage is not None:
            chosen += [p for p, d in known.items() if d.stage == stage]
        elif file_format(rel) is not None:
            chosen.append(rel)  # a file no stage declares: drawn with the defaults
        else:
            names = ", ".join(known) or "none declared"
            raise PlotError(
                f"{target} is not a plot: give a plot file, a folder of them or a stage name "
                f"(plots: {names}); a file no stage declares must be {_SUPPORTED}"
            )
    return list(dict.fromkeys(chosen))


def _view(repo: Repo, snaps: Sequence[Snapshot], spec: Declared, at: list[Declared]) -> PlotView:
    plot, path = spec.plot, spec.plot.path
    fmt = file_format(path)
    if fmt is None:
        raise PlotError(f"cannot draw plot {path}: a plot file must be {_SUPPORTED}")
    title = plot.title or path
    template = plot.template or "linear"
    if fmt in IMAGE_FORMATS.values():
        view = PlotView(path, "image", template, title)
        for snap, decl in zip(snaps, at, strict=True):
            data, note = read_at(repo, snap, decl, MAX_IMAGE)
            view.images.append(page.Image(snap.label, fmt, data, note))
        return view
    kind = plot.kind
    found: list[Series] = []
    notes: list[str] = []
    errors: list[PlotError] = []
    names: tuple[str | None, str] = (plot.x, plot.y or "")
    for snap, decl in zip(snaps, at, strict=True):
        data, note = read_at(repo, snap, decl, MAX_DATA)
        if data is None:
            notes.append(note)
            continue
        where = snap.where(path)
        picked: list[tuple[str | None, str]] = []

        def pick(columns: tuple[str, ...], where: str = where, into: list = picked) -> list[str]:
            into.append(columns_for(plot.x, plot.y, kind, columns, where))
            return [c for c in into[0] if c is not None]

        try:
            table = read(data, fmt, where, pick)
        except PlotError as exc:
            errors.append(exc)
            continue
        if not picked:
            notes.append(f"{where} is empty")
            continue
        names = picked[0]
        found.append(series(table, snap.label, names[0], names[1], kind))
    if errors and not found:
        raise errors[0]
    notes += [str(e) for e in errors]
    x_label = plot.x_label or names[0] or STEP
    y_label = plot.y_label or names[1]
    revs = tuple(s.label for s in snaps)
    chart = Chart(path, kind, title, x_label, y_label, tuple(found), revs, tuple(notes))
    return PlotView(path, kind, template, title, chart)


def read_at(repo: Repo, snap: Snapshot, decl: Declared, limit: int) -> tuple[bytes | None, str]:
    """A plot file's bytes at ``snap``, or None and why (absent, not in the cache, too large)."""
    rel = decl.plot.path
    if snap.commit is None:
        return _workspace(repo, rel, limit)
    if decl.cached:
        return _from_cache(repo, snap, decl, limit)
    data = snap.read(rel)
    if data is None:
        return None, f"{rel} is absent at {snap.label}"
    if len(data) > limit:
        return None, _too_large(rel, snap.label, len(data), limit)
    return data, ""


def _workspace(repo: Repo, rel: str, limit: int) -> tuple[bytes | None, str]:
    path = repo.abspath(rel)
    if not path.is_file():
        return None, f"{rel} is absent in the workspace"
    if not fsutil.is_within(os.path.realpath(path), os.path.realpath(repo.root)):
        return None, f"{rel} in the workspace is a link to outside the repository: not shown"
    try:
        size = path.stat().st_size
        if size > limit:
            return None, _too_large(rel, WORKSPACE, size, limit)
        return path.read_bytes(), ""
    except OSError as exc:
        return None, f"cannot read {rel}: {exc.strerror or exc}"


def _from_cache(repo: Repo, snap: Snapshot, decl: Declared, limit: int) -> tuple[bytes | None, str]:
    rel, label = decl.plot.path, snap.label
    entry = snap.lock.stages.get(decl.stage)
    outs = entry.outs if entry else ()
    out = next((o for o in outs if rel == o.path or rel.startswith(o.path + "/")), None)
    if out is None:
        return None, f"{rel} is absent at {label}: dvlite.lock there records no run of its stage"
    node: TreeEntry | None = TreeEntry(posixpath.basename(out.path), out.kind, out.oid, out.size)
    try:
        if node is not None and rel != out.path:
            node, _ = tree.lookup(repo.cache.load_tree, node, out.path, rel, source=snap.where(rel))
        if node is None or node.type != FILE:
            return None, f"{rel} is absent at {label}"
        if node.size > limit:
            return None, _too_large(rel, label, node.size, limit)
        return repo.cache.read_bytes(node.oid, snap.where(rel)), ""
    except CorruptObjectError:
        return None, f"{rel} at {label} is corrupt in the cache; `dvlite fsck` reports it"
    except (CacheError, FileNotFoundError):
        return None, f"{rel} at {label} is not in the cache; `dvlite pull --rev {label}` brings it"


def _too_large(rel: str, label: str, size: int, limit: int) -> str:
    return f"{rel} at {label} is too large to draw ({size:,} bytes; at most {limit:,})"
