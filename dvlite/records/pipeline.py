"""The pipeline: stages declared in ``dvlite.yaml`` and the graph their deps and outs make.

A stage depends on another when one of its deps is, is inside, or holds one of the other's outs.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import TYPE_CHECKING

from dvlite.errors import PathError, PipelineError
from dvlite.objects import fsutil
from dvlite.records import checks as checkspec
from dvlite.records import plotspec, stageopts, templating, yamlio
from dvlite.records.plotspec import Plot
from dvlite.records.stageopts import params_file as params_file
from dvlite.safepath import rel_problem

if TYPE_CHECKING:
    from dvlite.records.repo import Repo

PIPELINE_FILE = "dvlite.yaml"
LOCK_FILE = "dvlite.lock"
DEFAULT_PARAMS = "params.yaml"
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_STAGE_KEYS = ("cmd", "deps", "params", "outs", "metrics", "plots", "checks")
_LIST_KEYS = ("deps", "params", "outs", "metrics")
_GENERATED_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*@[A-Za-z0-9_.,+=-]+$")  # foreach/matrix


def normpath(path: str, where: str, wdir: str = "") -> str:
    """A repository-relative POSIX path as written in dvlite.yaml (relative to the stage's
    ``wdir``, itself repository-relative), normalised."""
    if not isinstance(path, str) or not path.strip():
        raise PipelineError(f"{where}: a path must be a non-empty string, not {path!r}")
    norm = os.path.normpath(os.path.join(wdir, path)).replace(os.sep, "/")
    if os.path.isabs(path) or norm == ".." or norm.startswith("../"):
        base = f"the stage's wdir, {wdir}" if wdir else "its root"
        raise PipelineError(
            f"{where}: {path!r} is outside the repository; paths are relative to {base}"
        )
    if norm == ".":
        raise PipelineError(f"{where}: the repository root cannot be a dep or an out")
    why = rel_problem(norm)
    if why is not None:
        raise PipelineError(f"{where}: {path!r} {why}")
    return norm


def overlaps(a: str, b: str) -> bool:
    """Whether one path is the other or inside it."""
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def output_problem(out: str, params_files: Iterable[str] = ()) -> str | None:
    """Why ``out`` cannot be a stage output (None: it can): repro deletes an output before its
    stage runs, so it may never be, or hold, a file the pipeline itself reads."""
    why = rel_problem(out)
    if why is not None:
        return why
    if out.endswith(".dvl"):
        return "is a pointer file"
    for own in sorted({PIPELINE_FILE, LOCK_FILE, DEFAULT_PARAMS, *params_files}):
        if overlaps(out, own):
            return f"would replace {own}, a file the pipeline itself reads"
    return None


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    cmd: str
    deps: tuple[str, ...] = ()
    params: tuple[str, ...] = ()  # "key" (of params.yaml) or "file.yaml:key"
    outs: tuple[str, ...] = ()  # cached, git-ignored
    metrics: tuple[str, ...] = ()  # small, kept in git, not cached
    plots: tuple[Plot, ...] = ()  # kept in git like metrics, unless one is also an out
    uncached: tuple[str, ...] = ()  # outs with `cache: false`: recorded, kept in git
    persist: tuple[str, ...] = ()  # outputs repro does not remove before the command runs
    wdir: str = ""  # the folder the command runs in, repository-relative ("" the root)
    commands: tuple[str, ...] = ()  # cmd written as a list: run in turn (cmd joins them)
    desc: str = ""
    always_changed: bool = False  # runs every time
    meta: object = field(default=None, compare=False)  # anything; dvlite ignores it
    checks: tuple[checkspec.Check, ...] = ()  # data-quality gates, run before recording

    @property
    def kept(self) -> tuple[str, ...]:
        """What it makes that git keeps (not cached): its metrics, its outs with
        ``cache: false``, and its plots that are not outs (nor in one). dvlite.lock records
        them under ``metrics``."""
        own = self.metrics + self.uncached
        extra = (
            p.path
            for p in self.plots
            if p.path not in own and not any(overlaps(p.path, o) for o in self.outs)
        )
        return own + tuple(extra)

    @property
    def run_commands(self) -> tuple[str, ...]:
        return self.commands or (self.cmd,)

    @property
    def produces(self) -> tuple[str, ...]:
        return self.outs + self.kept

    def to_dict(self) -> dict[str, object]:
        return stageopts.to_yaml(self) | checkspec.to_stage_yaml(self.checks, self.wdir)

    @classmethod
    def from_dict(cls, name: str, d: object, where: str = PIPELINE_FILE) -> Stage:
        here = f"{where}: stage {name!r}"
        if not isinstance(name, str) or not (_NAME_RE.match(name) or _GENERATED_RE.match(name)):
            raise PipelineError(
                f"{where}: bad stage name {name!r}; use letters, digits, '_', '-' and '.'"
            )
        if not isinstance(d, dict):
            raise PipelineError(f"{here} must be a mapping with at least a 'cmd'")
        unknown = sorted(str(k) for k in set(d) - set(_STAGE_KEYS) - set(stageopts.EXTRA_KEYS))
        if unknown:
            raise PipelineError(f"{here} has an unknown key {unknown[0]!r} (known: "
                f"{', '.join(_STAGE_KEYS)}){stageopts.also(unknown[0])}")  # fmt: skip
        cmd, commands = stageopts.parse_cmd(d.get("cmd"), here)
        wdir = stageopts.parse_wdir(d.get("wdir"), f"{where}: stage {name!r}", normpath)
        raw_lists: dict[str, list[object]] = {}
        for key in _LIST_KEYS:
            raw = d.get(key) or []
            raw = [raw] if isinstance(raw, str) else raw
            if not isinstance(raw, list):
                raise PipelineError(f"{here}: '{key}' must be a list")
            raw_lists[key] = raw
        params = stageopts.parse_params(raw_lists["params"], here, wdir, normpath)
        deps = (normpath(p, f"{here} deps", wdir) for p in raw_lists["deps"])  # type: ignore[arg-type]
        made = stageopts.parse_outputs(
            raw_lists["outs"], raw_lists["metrics"], here, wdir, normpath
        )
        desc, always = stageopts.parse_extras(d, here)
        plots = plotspec.parse(d.get("plots"), here, lambda p, w: normpath(p, w, wdir))
        checks = checkspec.parse(d.get("checks"), here, lambda p, w: normpath(p, w, wdir))
        return cls(
            name, cmd, tuple(dict.fromkeys(deps)), tuple(dict.fromkeys(params)), made.outs,
            made.metrics, plots, made.uncached, made.persist, wdir, commands, desc, always,
            d.get("meta"), checks,
        )  # fmt: skip


@dataclass(frozen=True)
class Pipeline:
    stages: dict[str, Stage] = field(default_factory=dict)  # in file order
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # foreach/matrix: stages

    # -- graph --------------------------------------------------------------------------
    def producer(self, rel: str) -> Stage | None:
        """The stage whose out (or metric) is ``rel`` or holds it."""
        for out, name in self._producers.items():
            if rel == out or rel.startswith(out + "/"):
                return self.stages[name]
        return None

    @cached_property
    def _producers(self) -> dict[str, str]:
        """out -> the stage producing it (the first one, when two claim it)."""
        found: dict[str, str] = {}
        for stage in self.stages.values():
            for out in stage.produces:
                found.setdefault(out, stage.name)
        return found

    def upstream(self, stage: Stage) -> list[str]:
        """The stages producing one of ``stage``'s deps, a folder holding one, or a path in one."""
        found = (
            owner
            for dep in stage.deps
            for out, owner in self._producers.items()
            if owner != stage.name and overlaps(dep, out)
        )
        return list(dict.fromkeys(found))

    @cached_property
    def edges(self) -> dict[str, list[str]]:
        """stage -> the stages it depends on."""
        return {name: self.upstream(stage) for name, stage in self.stages.items()}

    @cached_property
    def children(self) -> dict[str, list[str]]:
        """stage -> the stages that depend on it, in dependency order."""
        found: dict[str, list[str]] = {n: [] for n in self.stages}
        for name in self.order():
            for up in self.edges[name]:
                found[up].append(name)
        return found

    def downstream_of(self, names: Iterable[str]) -> set[str]:
        """The named stages and every stage that depends on them, transitively."""
        return _reach(names, self.children)

    def upstream_of(self, names: Iterable[str]) -> set[str]:
        """The named stages and every stage they depend on, transitively."""
        return _reach(names, self.edges)

    def sorter(self, names: Iterable[str] | None = None) -> TopologicalSorter[str]:
        """A prepared sorter of the stages (all, or ``names``); a cycle is a PipelineError."""
        wanted = set(self.stages if names is None else names)
        graph = {n: [u for u in self.edges[n] if u in wanted] for n in self.stages if n in wanted}
        sorter = TopologicalSorter(graph)
        try:
            sorter.prepare()
        except CycleError as exc:  # its nodes run upstream -> downstream; say it the other way
            raise PipelineError(
                f"{PIPELINE_FILE} has a cycle: {' -> '.join(reversed(exc.args[1]))}; "
                "a stage cannot depend on its own outputs"
            ) from None
        return sorter

    def order(self, names: Iterable[str] | None = None) -> list[str]:
        """Stages in dependency order, each time the first in the file of those ready."""
        sorter, rank = self.sorter(), {n: i for i, n in enumerate(self.stages)}
        ready: list[str] = []
        order: list[str] = []
        while sorter.is_active():
            ready = sorted([*ready, *sorter.get_ready()], key=rank.__getitem__)
            order.append(ready.pop(0))
            sorter.done(order[-1])
        wanted = set(self.stages if names is None else names)
        return [n for n in order if n in wanted]

    # -- checks -------------------------------------------------------------------------
    def check(self, repo: Repo, *, deps_exist: bool = True) -> None:
        """Every structural rule; ``deps_exist`` also checks that each dep exists or is made."""
        owners: list[tuple[str, str]] = []  # (out, stage)
        params_files = {normpath(params_file(p), PIPELINE_FILE) for s in self for p in s.params}
        for stage in self:
            for out in stage.produces:
                why = output_problem(out, params_files)
                if why is not None:
                    raise PipelineError(
                        f"{PIPELINE_FILE}: stage {stage.name!r} cannot have {out} as an output: "
                        f"it {why}"
                    )
                for other_out, other in owners:
                    if overlaps(out, other_out):
                        same = "both produce" if out == other_out else f"produce {other_out} and"
                        who = (
                            f"stages {other!r} and {stage.name!r} {same} {out}"
                            if other != stage.name
                            else f"stage {stage.name!r} lists {out} twice (or one inside another)"
                        )
                        raise PipelineError(
                            f"{PIPELINE_FILE}: {who}; each output must have one producer"
                        )
                owners.append((out, stage.name))
                pointer = repo.tracking_pointer(out)
                if pointer:
                    raise PipelineError(
                        f"{PIPELINE_FILE}: {out}, an output of stage {stage.name!r}, is also "
                        f"tracked by {pointer}; run `dvlite remove {pointer}` or drop it from the "
                        "stage's outs"
                    )
            for dep in stage.deps:
                if dep in stage.produces:
                    raise PipelineError(
                        f"{PIPELINE_FILE}: stage {stage.name!r} has {dep} as both a dep and "
                        "an output"
                    )
        self.sorter()  # no cycle
        if deps_exist:
            for stage in self:
                for dep in stage.deps:
                    if (
                        not os.path.lexists(repo.root / dep)
                        and not repo.tracking_pointer(dep)  # not pulled yet
                        and not any(overlaps(dep, out) for out in self._producers)
                    ):
                        raise PipelineError(
                            f"stage {stage.name!r} depends on {dep}, which does not exist and "
                            "no stage produces; create it, `dvlite pull` it, or fix the stage's "
                            "deps"
                        )

    def resolve_targets(self, targets: Iterable[str], repo: Repo) -> list[str]:
        """Stage names for user-given targets: stage names, foreach/matrix names (every stage
        they make), or paths that a stage produces."""
        names: list[str] = []
        for target in targets:
            if target in self.groups:  # a foreach or matrix: every stage it makes
                names += self.groups[target]
                continue
            stage = self.stages.get(target)
            if stage is None:
                with contextlib.suppress(PathError):  # a path outside the repository
                    stage = self.producer(repo.rel(target))
            if stage is None:
                raise PipelineError(
                    f"{target!r} is neither a stage in {PIPELINE_FILE} nor an output of one"
                    + (f" (stages: {', '.join(self.stages)})" if self.stages else "")
                )
            names.append(stage.name)
        return list(dict.fromkeys(names))

    # -- serialisation ------------------------------------------------------------------
    def to_dict(self) -> dict[str, object]:
        return {"stages": {name: s.to_dict() for name, s in self.stages.items()}}

    @classmethod
    def from_dict(
        cls,
        d: object,
        where: str = PIPELINE_FILE,
        read: templating.Reader | None = None,
        text: str | None = None,
    ) -> Pipeline:
        """``read`` gives the files ``vars`` and ``${...}`` name (none without it)."""
        if d is None:
            return cls()
        extra = sorted(str(k) for k in set(d) - {"stages", "vars"}) if isinstance(d, dict) else []
        if not isinstance(d, dict) or (extra and "vars" not in d):
            raise PipelineError(f"malformed {where}: expected a mapping with one key, 'stages'")
        if extra:
            raise PipelineError(
                f"malformed {where}: unknown key {extra[0]!r} (known: stages, vars)"
            )
        stages = d.get("stages") or {}
        if not isinstance(stages, dict):
            raise PipelineError(f"malformed {where}: 'stages' must map stage names to stages")
        for n in stages:
            if not isinstance(n, str) or not _NAME_RE.match(n):
                raise PipelineError(
                    f"{where}: bad stage name {n!r}; use letters, digits, '_', '-' and '.'"
                )
        if not templating.uses_templates(d, text):
            return cls({n: Stage.from_dict(n, s, where) for n, s in stages.items()})
        resolver = templating.Resolver(d, read or (lambda rel: None), normpath, where)
        found = {n: Stage.from_dict(n, s, where) for n, s in resolver.stages()}
        return cls(found, resolver.groups)

    @classmethod
    def loads(
        cls, text: str, where: str = PIPELINE_FILE, read: templating.Reader | None = None
    ) -> Pipeline:
        # `cmd: false` is the shell command false: YAML's bools and numbers stay text there
        data = yamlio.load(text, where, PipelineError, text_keys=("cmd",))
        return cls.from_dict(data, where, read, text)

    def dumps(self) -> str:
        return yamlio.dump(self.to_dict())

    def __iter__(self) -> Iterator[Stage]:
        return iter(self.stages.values())


def _reach(names: Iterable[str], edges: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(names)
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(edges[n])
    return seen


def load(root: Path) -> Pipeline:
    """The pipeline in ``root/dvlite.yaml`` (empty when there is none)."""
    try:
        text = (root / PIPELINE_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return Pipeline()
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineError(f"cannot read {PIPELINE_FILE}: {exc}") from None
    return Pipeline.loads(text, read=templating.workspace_reader(root))


def save(root: Path, pipeline: Pipeline) -> None:
    fsutil.atomic_write(root / PIPELINE_FILE, pipeline.dumps().encode("utf-8"))


def save_stage(root: Path, stage: Stage) -> None:
    """Write ``stage`` into dvlite.yaml, replacing one of its name. A file with templates
    (``vars``, ``foreach``, ``matrix``, ``${...}``) keeps them: its other stages stay as written."""
    try:
        text = (root / PIPELINE_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    doc = yamlio.load(text, PIPELINE_FILE, PipelineError, text_keys=("cmd",))
    if not isinstance(doc, dict) or not templating.uses_templates(doc, text):
        save(root, Pipeline({**load(root).stages, stage.name: stage}))
        return
    doc["stages"] = {**(doc.get("stages") or {}), stage.name: stage.to_dict()}
    fsutil.atomic_write(root / PIPELINE_FILE, yamlio.dump(doc).encode("utf-8"))
