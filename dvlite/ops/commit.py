"""``dvlite commit``: record outputs made or fixed by hand, without running anything. A
pointer's data is added again (``ops.add``); a stage's outputs are hashed into the cache and
its ``dvlite.lock`` entry rewritten with its deps and params as they are now.

The rule for stages (DVC's, without its prompt): if the stage ran before and its command, a
dep or a param changed since, the outputs may not be what the command makes from what it
reads now, so commit refuses unless ``force``. A stage that never ran is recorded as it is (a
stage declared with ``stage add`` and run by hand). The run cache is not written: it vouches
that the command made those outputs, which a commit cannot know."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from dvlite.errors import PathError, PipelineError
from dvlite.git import index as scm
from dvlite.ops.add import add
from dvlite.ops.stale import Hasher, inputs
from dvlite.progress import Progress
from dvlite.records import gitignore, lockfile
from dvlite.records import pipeline as pipelines
from dvlite.records import pointer as pointers
from dvlite.records.lockfile import Lock, LockedPath, LockEntry, Params
from dvlite.records.params import same_value
from dvlite.records.pipeline import Pipeline, Stage
from dvlite.records.repo import Repo


@dataclass(frozen=True, slots=True)
class Committed:
    target: str  # the pointer file, or dvlite.lock:<stage>
    changed: bool  # false when the record already said so

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def commit(
    repo: Repo,
    targets: Iterable[str | Path] = (),
    *,
    force: bool = False,
    stage: bool | None = None,
    progress: Progress | None = None,
) -> list[Committed]:
    """Record what the workspace holds for ``targets`` (pointer files, their data or paths
    in it, stage names, stage outputs), or for every pointer whose data is here and every
    stage whose outputs are all here. ``stage``: ``git add`` the records (core.autostage)."""
    pipeline = pipelines.load(repo.root)
    named = list(targets)
    data, stages = _chosen(repo, pipeline, named) if named else _everything(repo, pipeline)
    done: list[Committed] = []
    if data:
        for r in add(repo, data, stage=stage, progress=progress):
            done.append(Committed(r.pointer, r.changed))
    if stages:
        done += _commit_stages(repo, pipeline, stages, force=force, stage=stage)
    return done


def _chosen(
    repo: Repo, pipeline: Pipeline, targets: list[str | Path]
) -> tuple[list[str], list[str]]:
    """The data paths (of pointers) and the stages that ``targets`` name."""
    data: dict[str, None] = {}
    stages: dict[str, None] = {}
    for target in targets:
        text = os.fspath(target)
        if text in pipeline.stages:
            stages[text] = None
            continue
        rel = repo.rel(text)
        if rel in pipeline.stages and not os.path.lexists(repo.abspath(rel)):
            stages[rel] = None  # a stage's name, given from another folder (or the API's repo=)
            continue
        producer = pipeline.producer(rel) if rel else None
        if producer is not None:
            stages[producer.name] = None
            continue
        if pointers.is_pointer(rel):
            rel = rel[: -len(pointers.SUFFIX)]
        owner = repo.tracking_pointer(rel) if rel else None
        if owner is None:
            raise PathError(
                f"{text} is not tracked: neither a pointer's data, nor a stage in "
                f"{pipelines.PIPELINE_FILE}, nor a stage's output; `dvlite add` it to track it"
            )
        data[_data_of(repo, owner)] = None
    return list(data), list(stages)


def _data_of(repo: Repo, pointer_rel: str) -> str:
    """The data path of a pointer that commit may re-add (not an import's: `update` moves it)."""
    record = pointers.load(repo.abspath(pointer_rel), pointer_rel)
    rel = pointer_rel[: -len(pointers.SUFFIX)]
    if getattr(record, "source", None) is not None:
        raise PathError(
            f"{rel} is imported ({pointer_rel} records its source); `dvlite update` moves it "
            f"to the source's newest version, or `dvlite remove {pointer_rel}` then "
            f"`dvlite add {rel}` to track it as your own"
        )
    if not os.path.lexists(repo.abspath(rel)):
        raise PathError(f"{rel} is not in the workspace; `dvlite checkout` or `dvlite pull` it")
    return rel


def _everything(repo: Repo, pipeline: Pipeline) -> tuple[list[str], list[str]]:
    """Every pointer's data that is here (imports aside) and every stage whose outputs are."""
    data = []
    for rel in sorted(repo.iter_pointers()):
        record = pointers.load(repo.abspath(rel), rel)
        path = rel[: -len(pointers.SUFFIX)]
        if getattr(record, "source", None) is None and os.path.lexists(repo.abspath(path)):
            data.append(path)
    stages = [
        name
        for name, s in pipeline.stages.items()
        if s.produces and all(os.path.lexists(repo.abspath(out)) for out in s.produces)
    ]
    return data, stages


def _commit_stages(
    repo: Repo, pipeline: Pipeline, names: list[str], *, force: bool, stage: bool | None
) -> list[Committed]:
    done = []
    to_stage: set[str] = set()
    with repo.lock():
        hasher = Hasher(repo)
        pipeline.check(repo)
        for name in pipeline.order(set(names)):
            s = pipeline.stages[name]
            missing = [out for out in s.produces if not os.path.lexists(repo.abspath(out))]
            if missing:
                raise PipelineError(
                    f"stage {name!r}: its output {missing[0]} is not in the workspace; make it "
                    f"first, or run `dvlite repro {name}`"
                )
            deps, params = inputs(repo, s, hasher)
            old = lockfile.load(repo.root).stages.get(name)
            why = _inputs_changed(old, s, deps, params) if old is not None else None
            if why and not force:
                raise PipelineError(
                    f"stage {name!r}: {why} since it last ran, so its outputs may not be what "
                    f"its command makes now; run `dvlite repro {name}`, or `dvlite commit "
                    f"--force {name}` to record them as they are"
                )
            outs = tuple(_stored(hasher, rel) for rel in s.outs)
            kept = tuple(_stored(hasher, rel) for rel in s.kept)
            entry = LockEntry(name, s.cmd, deps, params, outs, kept)
            changed = old is None or entry.to_dict() != old.to_dict()  # (the lock sorts)
            if changed:
                to_stage |= _record(repo, pipeline, s, entry)
            done.append(Committed(f"{lockfile.LOCK_FILE}:{name}", changed))
    if to_stage and (repo.autostage if stage is None else stage):
        scm.stage(repo.root, scm.not_ignored(repo.root, sorted(to_stage)))
    return done


def _stored(hasher: Hasher, rel: str) -> LockedPath:
    found = hasher.get(rel, store=True)
    assert found is not None  # every output was found in the workspace just before
    return found


def _inputs_changed(
    old: LockEntry, stage: Stage, deps: tuple[LockedPath, ...], params: Params
) -> str | None:
    """What the stage reads that differs from its last run's record (None: nothing)."""
    if old.cmd != stage.cmd:
        return "its command changed"
    before = {d.path: d.oid for d in old.deps}
    now = {d.path: d.oid for d in deps}
    changed = sorted(p for p in before.keys() | now.keys() if before.get(p) != now.get(p))
    if changed:
        return f"its deps changed ({', '.join(changed)})"
    flat_old = {(f, k): v for f, keys in old.params.items() for k, v in keys.items()}
    flat_now = {(f, k): v for f, keys in params.items() for k, v in keys.items()}
    keys = sorted(
        k
        for k in flat_old.keys() | flat_now.keys()
        if k not in flat_old or k not in flat_now or not same_value(flat_old[k], flat_now[k])
    )
    if keys:
        return f"its params changed ({', '.join(k for _, k in keys)})"
    return None


def _record(repo: Repo, pipeline: Pipeline, stage: Stage, entry: LockEntry) -> set[str]:
    """Write ``entry`` into dvlite.lock (and keep the outs out of git); the files to stage."""
    to_stage = set()
    for rel in stage.outs:
        folder, _, name = rel.rpartition("/")
        if gitignore.add(repo.abspath(folder), name):
            to_stage.add(f"{folder}/.gitignore" if folder else ".gitignore")
    current = lockfile.load(repo.root)
    stages = {n: e for n, e in current.stages.items() if n in pipeline.stages}
    stages[stage.name] = entry
    if lockfile.save(repo.root, Lock(stages)):
        to_stage.add(lockfile.LOCK_FILE)
    to_stage.update(stage.kept)
    to_stage.update(pipelines.params_file(p) for p in stage.params)
    to_stage.add(pipelines.PIPELINE_FILE)
    return to_stage
