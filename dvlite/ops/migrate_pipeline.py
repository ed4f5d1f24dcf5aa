"""``dvc.yaml`` into ``dvlite.yaml`` and ``dvc.lock`` into ``dvlite.lock``, for ``migrate-dvc``.

dvlite.yaml takes DVC's stage syntax, so a stage is copied as written, with three
translations: params written as ``{file: [keys]}`` become ``file:key`` references, output
options dvlite has no use for are dropped and said, ``frozen`` is dropped and said. Then each
stage is checked by dvlite's own parser (with the file's ``vars``): one it refuses is left out
and reported with the parser's words. A dvc.lock entry becomes a dvlite.lock entry only when
DVC itself would call its stage up to date here (the cmd, every dep and output by DVC's md5,
every param value); it is then recorded as ``repro`` records a run (the outputs stored in the
cache). Anything else is left for ``dvlite repro``."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from dvlite.errors import DvliteError, MigrateError, PipelineError
from dvlite.objects import fsutil
from dvlite.ops.migrate_data import Md5s
from dvlite.ops.stale import Hasher, inputs, read_params
from dvlite.records import lockfile, templating, yamlio
from dvlite.records.dvcfiles import DVC_LOCK, DVC_YAML, recorded
from dvlite.records.lockfile import Lock, LockEntry
from dvlite.records.pipeline import PIPELINE_FILE, Pipeline, Stage
from dvlite.records.repo import Repo
from dvlite.records.stageopts import OUT_OPTIONS

TOP_KEYS = ("stages", "vars")


@dataclass(frozen=True)
class Step:
    """One thing the migration did (or would do), or left out: the file, and what or why."""

    path: str
    what: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "what": self.what}


@dataclass
class Report:
    done: list[Step]  # written (or, dry, to be written)
    skipped: list[Step]  # not converted, and why
    notes: list[Step]  # converted, or left to dvlite, with something to know

    def did(self, path: str, what: str) -> None:
        self.done.append(Step(path, what))

    def skip(self, path: str, why: str) -> None:
        self.skipped.append(Step(path, why))

    def note(self, path: str, what: str) -> None:
        self.notes.append(Step(path, what))


def convert_yaml(repo: Repo, text: str, report: Report) -> dict[str, object] | None:
    """dvlite.yaml's document for ``dvc.yaml`` (None when nothing of it converts)."""
    try:
        data = yamlio.load(text, DVC_YAML, PipelineError, text_keys=("cmd",))
    except PipelineError as exc:
        report.skip(DVC_YAML, str(exc))
        return None
    if not isinstance(data, dict):
        report.skip(DVC_YAML, "not a mapping of stages")
        return None
    for key in data:
        if key not in TOP_KEYS:
            report.skip(DVC_YAML, f"top-level {key!r}: dvlite.yaml has no such section")
    stages = data.get("stages") or {}
    if not isinstance(stages, dict):
        report.skip(DVC_YAML, "'stages' is not a mapping")
        return None
    head: dict[str, object] = {"vars": data["vars"]} if "vars" in data else {}
    read = templating.workspace_reader(repo.root)
    kept: dict[str, object] = {}
    for name, raw in stages.items():
        where = f"{DVC_YAML}:{name}"
        stage = _stage(raw, where, report)
        if stage is None:
            continue
        try:
            Pipeline.from_dict({**head, "stages": {name: stage}}, PIPELINE_FILE, read)
        except DvliteError as exc:
            report.skip(where, f"not converted: {exc}")
            continue
        kept[name] = stage
    if not kept:
        return None
    doc = {**head, "stages": kept}
    try:
        Pipeline.from_dict(doc, PIPELINE_FILE, read).check(repo, deps_exist=False)
    except DvliteError as exc:
        report.skip(DVC_YAML, f"not converted: {exc}")
        return None
    return doc


def _stage(raw: object, where: str, report: Report) -> dict[str, object] | None:
    if not isinstance(raw, dict):
        report.skip(where, "not converted: a stage must be a mapping")
        return None
    if "do" in raw and isinstance(raw["do"], dict):  # foreach: convert the stage it makes
        body = _stage(raw["do"], where, report)
        return None if body is None else {**raw, "do": body}
    out: dict[str, object] = {}
    for key, value in raw.items():
        if key == "frozen":
            if value:
                report.skip(where, "frozen: dvlite has no frozen stages; dropped")
            continue
        if key == "params":
            value = _params(value, where, report)
            if value == []:
                continue
        elif key in ("outs", "metrics") and isinstance(value, list):
            value = [_output(item, key, where, report) for item in value]
        out[key] = value
    return out


def _params(value: object, where: str, report: Report) -> object:
    """``- {file.yaml: [a, b]}`` -> ``file.yaml:a``, ``file.yaml:b``; plain keys as they are."""
    if not isinstance(value, list):
        return value
    found: list[object] = []
    for item in value:
        if not isinstance(item, dict):
            found.append(item)
            continue
        for file, keys in item.items():
            if not keys:
                report.skip(
                    where, f"params: all of {file} (dvlite takes named keys; list the ones it uses)"
                )
                continue
            found += [f"{file}:{k}" for k in keys] if isinstance(keys, list) else [keys]
    return found


def _output(item: object, key: str, where: str, report: Report) -> object:
    """An out or metric with the options dvlite keeps (metrics are never cached in dvlite)."""
    if not isinstance(item, dict) or len(item) != 1:
        return item
    ((path, options),) = item.items()
    if not isinstance(options, dict):
        return item
    kept = {k: v for k, v in options.items() if k in OUT_OPTIONS}
    if key == "metrics" and kept.get("cache") is False:
        del kept["cache"]  # what a metric always is in dvlite
    for option in sorted(set(options) - set(OUT_OPTIONS)):
        report.skip(where, f"{key} {path}: option {option!r} dropped (dvlite has no use for it)")
    return {path: kept} if kept else path


def write_yaml(repo: Repo, doc: dict[str, object], report: Report, dry: bool) -> bool:
    """Write dvlite.yaml (never over a different one); whether it holds ``doc`` now."""
    text = yamlio.dump(doc)
    path = repo.abspath(PIPELINE_FILE)
    if path.exists():
        if path.read_text(encoding="utf-8") == text:
            report.note(PIPELINE_FILE, "already converted")
            return True
        report.skip(PIPELINE_FILE, "exists and differs; not replaced (move it away first)")
        return False
    n = len(doc["stages"])  # type: ignore[arg-type]
    report.did(PIPELINE_FILE, f"from {DVC_YAML} ({n} stage{'' if n == 1 else 's'})")
    if not dry:
        fsutil.atomic_write(path, text.encode("utf-8"))
    return True


def convert_lock(
    repo: Repo, text: str, doc: dict[str, object] | None, md5s: Md5s, report: Report, dry: bool
) -> None:
    """The dvc.lock entries whose stage (in ``doc``, dvlite.yaml's document) is up to date
    here, recorded into dvlite.lock."""
    try:
        data = yamlio.load(text, DVC_LOCK, PipelineError, text_keys=("cmd",))
    except PipelineError as exc:
        report.skip(DVC_LOCK, str(exc))
        return
    if not isinstance(data, dict):
        report.skip(DVC_LOCK, "not a mapping")
        return
    if "schema" in data and str(data["schema"]) != "2.0":
        report.skip(DVC_LOCK, f"schema {data['schema']!r}: dvlite reads DVC's schema 2.0")
        return
    records = data.get("stages") if "schema" in data else data
    if not isinstance(records, dict):
        report.skip(DVC_LOCK, "'stages' is not a mapping")
        return
    read = templating.workspace_reader(repo.root)
    pipeline = Pipeline.from_dict(doc, PIPELINE_FILE, read) if doc else None
    hasher = Hasher(repo)
    entries: dict[str, LockEntry] = {}
    for name, rec in records.items():
        where = f"{DVC_LOCK}:{name}"
        stage = pipeline.stages.get(str(name)) if pipeline else None
        if stage is None:
            report.skip(where, "its stage is not in dvlite.yaml")
            continue
        try:
            why = _stale(repo, stage, rec, md5s, hasher)
        except MigrateError as exc:
            why = str(exc)
        if why:
            report.note(where, f"left for `dvlite repro`: {why}")
            continue
        if dry:
            report.did(lockfile.LOCK_FILE, f"stage {name} (its outputs re-hashed)")
            continue
        deps, params = inputs(repo, stage, hasher)
        outs = tuple(hasher.get(rel, store=True) for rel in stage.outs)
        kept = tuple(hasher.get(rel, store=True) for rel in stage.kept)
        entries[stage.name] = LockEntry(stage.name, stage.cmd, deps, params, outs, kept)  # type: ignore[arg-type]
        report.did(lockfile.LOCK_FILE, f"stage {name} (its outputs stored in the cache)")
    if entries:
        current = lockfile.load(repo.root)
        lockfile.save(repo.root, Lock({**current.stages, **entries}))


def _stale(repo: Repo, stage: Stage, rec: object, md5s: Md5s, hasher: Hasher) -> str | None:
    """Why DVC would run ``stage`` here (None: up to date by its own record ``rec``)."""
    if not isinstance(rec, dict):
        return "its record is not a mapping"
    cmd = rec.get("cmd")
    cmd = "\n".join(cmd) if isinstance(cmd, list) else cmd
    if cmd != stage.cmd:
        return "its command changed since DVC ran it"
    where = f"{DVC_LOCK} stage {stage.name}"
    deps = [recorded(d, stage.wdir, where) for d in rec.get("deps") or []]
    outs = [recorded(d, stage.wdir, where) for d in rec.get("outs") or []]
    if {d.path for d in deps} != set(stage.deps):
        return "its deps in dvc.yaml are not the ones dvc.lock recorded"
    if {o.path for o in outs} != set(stage.produces):
        return "its outputs in dvc.yaml are not the ones dvc.lock recorded"
    for d in deps:
        if not md5s.matches(d):
            return f"dep {d.path} is not what DVC recorded"
    for o in outs:
        if not md5s.matches(o):
            return f"output {o.path} is missing or not what DVC recorded"
    current = read_params(repo, stage, hasher)
    for file, values in (rec.get("params") or {}).items():
        rel = posixpath.normpath(posixpath.join(stage.wdir, str(file)))
        now = current.get(rel, {})
        for key, value in (values or {}).items():
            if now.get(key) != value:
                return f"param {key} is {now.get(key)!r} here, {value!r} when DVC ran it"
    return None
