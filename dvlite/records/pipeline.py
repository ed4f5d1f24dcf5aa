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
from dvlite.records import plotspec, yamlio
from dvlite.records.plotspec import Plot
from dvlite.safepath import rel_problem

if TYPE_CHECKING:
    from dvlite.records.repo import Repo

PIPELINE_FILE = "dvlite.yaml"
LOCK_FILE = "dvlite.lock"
DEFAULT_PARAMS = "params.yaml"
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_STAGE_KEYS = ("cmd", "deps", "params", "outs", "metrics", "plots")
_LIST_KEYS = ("deps", "params", "outs", "metrics")


def normpath(path: str, where: str) -> str:
    """A repository-relative POSIX path as written in dvlite.yaml, normalised."""
    if not isinstance(path, str) or not path.strip():
        raise PipelineError(f"{where}: a path must be a non-empty string, not {path!r}")
    norm = os.path.normpath(path).replace(os.sep, "/")
    if os.path.isabs(path) or norm == ".." or norm.startswith("../"):
        raise PipelineError(
            f"{where}: {path!r} is outside the repository; paths are relative to its root"
        )
    if norm == ".":
        raise PipelineError(f"{where}: the repository root cannot be a dep or an out")
    why = rel_problem(norm)
    if why is not None:
        raise PipelineError(f"{where}: {path!r} {why}")
    return norm


def params_file(ref: str) -> str:
    """The file a param reference reads: ``file.yaml:key``, or params.yaml for a bare key."""
    file, sep, _ = ref.rpartition(":")
    return (file if sep else "") or DEFAULT_PARAMS


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

    @property
    def kept(self) -> tuple[str, ...]:
        """What it makes that git keeps (not cached): its metrics, and its plots that are not
        outs (nor in one). dvlite.lock records them under ``metrics``."""
        extra = (
            p.path
            for p in self.plots
            if p.path not in self.metrics and not any(overlaps(p.path, o) for o in self.outs)
        )
        return self.metrics + tuple(extra)

    @property
    def produces(self) -> tuple[str, ...]:
        return self.outs + self.kept

    def to_dict(self) -> dict[str, object]:
        lists: dict[str, list[object]] = {key: list(getattr(self, key)) for key in _LIST_KEYS}
        lists["plots"] = [p.to_yaml() for p in self.plots]
        return {"cmd": self.cmd, **{key: value for key, value in lists.items() if value}}

    @classmethod
    def from_dict(cls, name: str, d: object, where: str = PIPELINE_FILE) -> Stage:
        here = f"{where}: stage {name!r}"
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise PipelineError(
                f"{where}: bad stage name {name!r}; use letters, digits, '_', '-' and '.'"
            )
        if not isinstance(d, dict):
            raise PipelineError(f"{here} must be a mapping with at least a 'cmd'")
        unknown = sorted(set(d) - set(_STAGE_KEYS))
        if unknown:
            raise PipelineError(
                f"{here} has an unknown key {unknown[0]!r} (known: {', '.join(_STAGE_KEYS)})"
            )
        cmd = d.get("cmd")
        if not isinstance(cmd, str) or not cmd.strip():
            raise PipelineError(f"{here} needs a 'cmd' (the command to run, as one string)")
        lists: dict[str, tuple[str, ...]] = {}
        for key in _LIST_KEYS:
            raw = d.get(key) or []
            raw = [raw] if isinstance(raw, str) else raw
            if not isinstance(raw, list):
                raise PipelineError(f"{here}: '{key}' must be a list")
            if key == "params":
                for p in raw:
                    if not isinstance(p, str) or not p.strip():
                        raise PipelineError(
                            f"{here}: a param must be a key like 'train.lr', not {p!r}"
                        )
                    normpath(params_file(p), f"{here} params")
                lists[key] = tuple(dict.fromkeys(raw))
            else:
                lists[key] = tuple(dict.fromkeys(normpath(p, f"{here} {key}") for p in raw))
        return cls(name, cmd, **lists, plots=plotspec.parse(d.get("plots"), here, normpath))


@dataclass(frozen=True)
class Pipeline:
    stages: dict[str, Stage] = field(default_factory=dict)  # in file order

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
        """Stage names for user-given targets: stage names, or paths that a stage produces."""
        names = []
        for target in targets:
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
    def from_dict(cls, d: object, where: str = PIPELINE_FILE) -> Pipeline:
        if d is None:
            return cls()
        if not isinstance(d, dict) or set(d) - {"stages"}:
            raise PipelineError(f"malformed {where}: expected a mapping with one key, 'stages'")
        stages = d.get("stages") or {}
        if not isinstance(stages, dict):
            raise PipelineError(f"malformed {where}: 'stages' must map stage names to stages")
        return cls({str(n): Stage.from_dict(n, s, where) for n, s in stages.items()})

    @classmethod
    def loads(cls, text: str, where: str = PIPELINE_FILE) -> Pipeline:
        # `cmd: false` is the shell command false: YAML's bools and numbers stay text there
        data = yamlio.load(text, where, PipelineError, text_keys=("cmd",))
        return cls.from_dict(data, where)

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
    return Pipeline.loads(text)


def save(root: Path, pipeline: Pipeline) -> None:
    fsutil.atomic_write(root / PIPELINE_FILE, pipeline.dumps().encode("utf-8"))
