"""What is out of date: a stage runs when its cmd, the oid of a dep, the value of a param, or
one of its outputs differs from its record in dvlite.lock; every stage downstream of it follows.
Deps are hashed through the state database, so deciding reads no unchanged file."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from dvlite.errors import PipelineError
from dvlite.records import checks as checkspec
from dvlite.records import lockfile
from dvlite.records import params as params_mod
from dvlite.records import pipeline as pipelines
from dvlite.records.lockfile import LockedPath, LockEntry, Params
from dvlite.records.pipeline import Pipeline, Stage
from dvlite.records.repo import Repo
from dvlite.records.workspace import DirNode, hashed


class Cause(Enum):
    """Why a stage runs; each value is the text people and --json see, to ``format``."""

    FORCED = "forced"
    UPSTREAM = "upstream stage {!r} runs"
    NEVER_RUN = "never run"
    ALWAYS = "always changed (always_changed: true)"
    COMMAND = "command changed"
    DEPS = "deps changed: {}"
    PARAM_ADDED = "param {} added"
    PARAM_CHANGED = "param {} changed ({!r} -> {!r})"
    PARAM_REMOVED = "param {} removed"
    DEP_NOT_PULLED = "dep {} is not in the workspace: run `dvlite pull`"
    DEP_MISSING = "dep {} is missing"
    DEP_CHANGED = "dep {} changed"
    OUTPUTS = "outputs changed: {}"
    OUT_NOT_PULLED = "output {} is not in the workspace: run `dvlite pull`"
    OUT_MISSING = "output {} is missing"
    OUT_MODIFIED = "output {} was modified"
    CHECKS_FAILED = "its checks failed: {}"
    CHECKS_NOT_RUN = "its checks did not run on these outputs"
    CHECKS_CHANGED = "its checks changed"


@dataclass(frozen=True, slots=True)
class Reason:
    cause: Cause
    args: tuple[object, ...] = ()  # what the cause's text names: a path, a key, a stage

    def __str__(self) -> str:
        return self.cause.value.format(*self.args)

    @property
    def not_pulled(self) -> bool:
        """Whether the cause is tracked data a fresh clone has not pulled yet."""
        return self.cause in (Cause.DEP_NOT_PULLED, Cause.OUT_NOT_PULLED)


@dataclass(frozen=True, slots=True)
class Planned:
    name: str
    reason: Reason | None  # why it runs; None when it is up to date
    pull: bool = False  # the only reason is tracked data not pulled yet (a fresh clone)

    @property
    def upstream(self) -> bool:
        """It runs because an upstream stage runs (its own record may match)."""
        return self.reason is not None and self.reason.cause is Cause.UPSTREAM

    def to_dict(self) -> dict[str, object]:
        reason = str(self.reason) if self.reason else None
        return {"stage": self.name, "runs": bool(reason), "reason": reason}


# -- hashing paths --------------------------------------------------------------------------
class Hasher:
    """Hash workspace paths through the state database, remembering each answer."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self._memo: dict[str, LockedPath | None] = {}
        self.params_files: dict[str, object] = {}  # parsed params files
        self._link_roots = (os.path.realpath(repo.cache_dir),)

    def get(self, rel: str, *, store: bool = False) -> LockedPath | None:
        if not store and rel in self._memo:
            return self._memo[rel]
        path = os.path.join(self.repo.root, rel)
        found = None
        if os.path.lexists(path):
            cache = self.repo.cache if store else None
            node = hashed(self.repo.state, path, rel, self._link_roots, cache, self.repo.ignore)
            files = node.files if isinstance(node, DirNode) else 1
            found = LockedPath(rel, node.type, node.oid, node.size, files)
            if store and self.repo.link_types[0] in ("hardlink", "symlink"):
                from dvlite.ops.checkout import link_into_workspace

                link_into_workspace(self.repo, node)
        self._memo[rel] = found
        return found

    def forget(self, rels: Iterable[str]) -> None:
        for rel in rels:
            self._memo.pop(rel, None)


# -- deciding ---------------------------------------------------------------------------------
def read_params(repo: Repo, stage: Stage, hasher: Hasher) -> Params:
    reader = params_mod.workspace_reader(repo.root)
    return params_mod.values(stage.params, reader, stage=stage.name, parsed=hasher.params_files)


def inputs(repo: Repo, stage: Stage, hasher: Hasher) -> tuple[tuple[LockedPath, ...], Params]:
    deps = []
    for dep in stage.deps:
        found = hasher.get(dep)
        if found is None and _tracked(repo, dep):
            raise PipelineError(
                f"stage {stage.name!r}: its dep {dep} is not in the workspace; run "
                "`dvlite pull` first (or `dvlite repro --pull`)"
            )
        if found is None:
            raise PipelineError(f"stage {stage.name!r}: its dep {dep} does not exist")
        deps.append(found)
    return tuple(deps), read_params(repo, stage, hasher)


def why_stale(
    repo: Repo, stage: Stage, entry: LockEntry | None, hasher: Hasher, *, checks: bool = True
) -> Reason | None:
    """Why ``stage`` must run (None when its record matches the workspace); without
    ``checks``, whether the record matches apart from the stage's checks."""
    current = read_params(repo, stage, hasher)  # a missing param is an error even here
    failed = checkspec.failures(repo.tmp_dir).get(stage.name) if checks and stage.checks else None
    if failed:
        return Reason(Cause.CHECKS_FAILED, (failed[0] + (" ..." if len(failed) > 1 else ""),))
    if entry is None:
        return Reason(Cause.NEVER_RUN)
    if stage.always_changed:
        return Reason(Cause.ALWAYS)
    if entry.cmd != stage.cmd:
        return Reason(Cause.COMMAND)
    recorded = {d.path for d in entry.deps}
    if recorded != set(stage.deps):
        return Reason(Cause.DEPS, (", ".join(sorted(recorded ^ set(stage.deps))),))
    for file, keys in current.items():
        old = entry.params.get(file, {})
        for key, value in keys.items():
            if key not in old:
                return Reason(Cause.PARAM_ADDED, (key,))
            if not params_mod.same_value(old[key], value):
                return Reason(Cause.PARAM_CHANGED, (key, old[key], value))
    for file, keys in entry.params.items():
        for key in keys:
            if key not in current.get(file, {}):
                return Reason(Cause.PARAM_REMOVED, (key,))
    for dep in entry.deps:
        now = hasher.get(dep.path)
        if now is None:
            pulls = _tracked(repo, dep.path)
            return Reason(Cause.DEP_NOT_PULLED if pulls else Cause.DEP_MISSING, (dep.path,))
        if now.oid != dep.oid:
            return Reason(Cause.DEP_CHANGED, (dep.path,))
    declared = set(stage.outs) | set(stage.kept)
    recorded = {o.path for o in entry.outs + entry.metrics}
    if declared != recorded or set(stage.outs) != {o.path for o in entry.outs}:
        return Reason(Cause.OUTPUTS, (", ".join(sorted(declared ^ recorded) or stage.outs),))
    for out in entry.outs + entry.metrics:
        now = hasher.get(out.path)
        if now is None:
            pulls = not repo.cache.exists(out.oid)
            return Reason(Cause.OUT_NOT_PULLED if pulls else Cause.OUT_MISSING, (out.path,))
        if now.oid != out.oid:
            return Reason(Cause.OUT_MODIFIED, (out.path,))
    if checks and stage.checks:  # the outputs are the recorded ones: were they checked so?
        if entry.checks is None:
            return Reason(Cause.CHECKS_NOT_RUN)
        if entry.checks.digest != checkspec.digest(stage.checks):
            return Reason(Cause.CHECKS_CHANGED)
    return None


def _tracked(repo: Repo, rel: str) -> bool:
    """Whether a pointer or dvlite.lock records ``rel`` or a folder above it (pull brings it)."""
    if repo.tracking_pointer(rel):
        return True
    outs = (o.path for e in lockfile.load(repo.root).stages.values() for o in e.outs)
    return any(rel == out or rel.startswith(out + "/") for out in outs)


def schedule(
    repo: Repo,
    targets: Iterable[str] = (),
    *,
    force: bool = False,
    downstream: bool = False,
    single: bool = False,
    pipeline: Pipeline | None = None,
    hasher: Hasher | None = None,
) -> list[Planned]:
    """Every stage repro considers, in dependency order, each with why it runs (or None);
    ``single``: the named stages alone, not what they need upstream."""
    pipeline = pipeline if pipeline is not None else pipelines.load(repo.root)
    lock = lockfile.load(repo.root)
    hasher = hasher or Hasher(repo)
    pipeline.check(repo)
    names = pipeline.resolve_targets(targets, repo)
    wanted = set(pipeline.stages)
    if single and (downstream or not names):
        raise PipelineError("-s/--single-item needs the stages to run, and no --downstream")
    if single:
        wanted = set(names)
    elif names:
        wanted = pipeline.downstream_of(names) if downstream else pipeline.upstream_of(names)
    result: list[Planned] = []
    runs: dict[str, bool] = {}  # stage that runs -> only because data is not pulled
    for name in pipeline.order(wanted):
        stage = pipeline.stages[name]
        if force:
            read_params(repo, stage, hasher)
            result.append(Planned(name, Reason(Cause.FORCED)))
            continue
        own = why_stale(repo, stage, lock.stages.get(name), hasher)
        ups = [up for up in pipeline.edges[name] if up in runs]
        reason = Reason(Cause.UPSTREAM, (ups[0],)) if ups else own
        pull = (own is None or own.not_pulled) and all(runs[up] for up in ups)
        if reason:
            runs[name] = pull
        result.append(Planned(name, reason, pull and bool(reason)))
    return result
