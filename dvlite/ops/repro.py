"""``dvlite repro``: run what is out of date (``ops.stale`` decides) in dependency order,
independent stages in parallel; and ``declare`` stages. Commands run in worker threads; only
the scheduling thread touches the lock, the cache and the state database, so a record is
written only for a stage that succeeded."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field

from dvlite.errors import CacheError, DvliteError, PipelineError
from dvlite.git import index as scm
from dvlite.objects import fsutil
from dvlite.ops import check as checking
from dvlite.ops.checkout import apply, make_folders, plan
from dvlite.ops.stageproc import StageProcesses
from dvlite.ops.stale import Hasher, Planned, inputs, schedule, why_stale
from dvlite.ops.unprotect import make_private
from dvlite.records import gitignore, lockfile, runcache
from dvlite.records import pipeline as pipelines
from dvlite.records.compare import missing_objects
from dvlite.records.lockfile import Lock, LockedPath, LockEntry, Params
from dvlite.records.pipeline import Pipeline, Stage
from dvlite.records.pointer import Pointer
from dvlite.records.repo import Repo
from dvlite.records.tracked import Tracked

# events reported while running: (kind, stage, text); kinds below
START, OUTPUT, RESTORED, DONE, SKIPPED = "start", "output", "restored", "done", "skipped"
NOTE = "note"  # not about one stage (the stage is "")
Events = Callable[[str, str, str], None]


@dataclass
class ReproResult:
    plan: list[Planned] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)  # from the run cache
    skipped: list[str] = field(default_factory=list)  # upstream changed, but its outputs did not
    checked: dict[str, int] = field(default_factory=dict)  # stage -> its checks that passed

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "plan": [p.to_dict() for p in self.plan]}


# -- running ------------------------------------------------------------------------------------
def repro(
    repo: Repo,
    targets: Iterable[str] = (),
    *,
    dry: bool = False,
    force: bool = False,
    jobs: int = 1,
    downstream: bool = False,
    single: bool = False,
    use_run_cache: bool = True,
    pull: bool = False,
    remote: str | None = None,
    on_event: Events | None = None,
) -> ReproResult:
    """Bring the named stages (or all) up to date; with ``dry``, only say what would run. With
    ``pull``, first check out from the remote what it holds, so only what it cannot supply runs.
    ``single``: only the named stages, not their upstream (``repro -s``)."""
    emit = on_event or (lambda kind, name, text: None)
    if jobs < 1:
        raise PipelineError("-j/--jobs must be at least 1")
    if pull:
        _pull(repo, remote, jobs, emit)
    with repo.lock():
        pipeline = pipelines.load(repo.root)
        hasher = Hasher(repo)
        planned = schedule(
            repo, targets, force=force, downstream=downstream, single=single, pipeline=pipeline,
            hasher=hasher,
        )  # fmt: skip
        result = ReproResult(planned)
        todo = [p for p in planned if p.reason]
        if todo and not dry:
            runner = _Runner(repo, pipeline, hasher, result, use_run_cache and not force, emit)
            runner.run(todo, jobs)
        return result


def _pull(repo: Repo, remote: str | None, jobs: int, emit: Events) -> None:
    from dvlite.ops.pull import pull
    from dvlite.transfer import TransferError

    try:
        result = pull(repo, remote=remote, jobs=max(jobs, 8))
    except TransferError as exc:
        # what could not be fetched is made again by the stages that produce it
        emit(NOTE, "", f"pull: {exc}; the stages that make what is missing will run")
        return
    emit(NOTE, "", f"pulled {result.transferred} objects from {result.remote}")


@dataclass
class _Runner:
    repo: Repo
    pipeline: Pipeline
    hasher: Hasher
    result: ReproResult
    use_run_cache: bool
    emit: Events
    procs: StageProcesses = field(default_factory=StageProcesses)
    to_stage: set[str] = field(default_factory=set)  # files to `git add` at the end
    failed_at: dict[str, str] = field(default_factory=dict)  # stage -> " 2 of 3" (commands)
    checked: dict[str, checking.StageChecks] = field(default_factory=dict)  # by the workers

    def run(self, todo: list[Planned], jobs: int) -> None:
        try:
            with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="stage") as pool:
                try:
                    failure = self._loop(pool, todo, jobs)
                except BaseException:  # Ctrl-C, or a bug: no stage outlives dvlite
                    self.procs.kill_all()
                    raise
        finally:
            self.procs.close()
            if self.to_stage and self.repo.autostage:
                paths = [*sorted(self.to_stage), pipelines.PIPELINE_FILE]
                scm.stage(self.repo.root, scm.not_ignored(self.repo.root, paths))
        if failure is not None:
            raise failure

    def _loop(self, pool: ThreadPoolExecutor, todo: list[Planned], jobs: int) -> DvliteError | None:
        """Start stages as their upstream finishes, in plan order among those ready; returns
        the first failure."""
        planned = {p.name: p for p in todo}
        rank = {p.name: i for i, p in enumerate(todo)}
        sorter = self.pipeline.sorter(planned)
        ready: list[str] = []
        failure: DvliteError | None = None
        running: dict[Future[int], tuple[str, tuple[LockedPath, ...], Params]] = {}
        while True:
            ready = sorted([*ready, *sorter.get_ready()], key=rank.__getitem__)
            if failure is None and ready and len(running) < jobs:
                name = ready.pop(0)
                try:
                    started = self._start(pool, planned[name])
                except DvliteError as exc:
                    failure = exc
                    continue
                if started is None:
                    sorter.done(name)
                else:
                    running[started[0]] = (name, *started[1:])
                continue
            if not running:
                return failure
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                name, deps, params = running.pop(fut)
                try:
                    self._finish(name, fut.result(), deps, params)
                    sorter.done(name)
                except DvliteError as exc:
                    failure = failure or exc

    def _start(
        self, pool: ThreadPoolExecutor, planned: Planned
    ) -> tuple[Future[int], tuple[LockedPath, ...], Params] | None:
        """Run a stage in the pool, or settle it at once (run cache, or nothing to do)."""
        name, stage = planned.name, self.pipeline.stages[planned.name]
        entry = lockfile.load(self.repo.root).stages.get(name)
        # its upstream ran: it runs only if what it reads really changed
        if planned.upstream and not why_stale(self.repo, stage, entry, self.hasher):
            self.result.skipped.append(name)
            self.emit(SKIPPED, name, "up to date: its upstream outputs did not change")
            return None
        deps, params = inputs(self.repo, stage, self.hasher)
        if self.use_run_cache and _run_cached(stage) and self._restore(stage, deps, params):
            self.result.restored.append(name)
            self.emit(RESTORED, name, "restored from the run cache")
            return None
        cwd = os.path.join(self.repo.root, stage.wdir)
        if not os.path.isdir(cwd):
            raise PipelineError(
                f"stage {name!r}: its wdir {stage.wdir} is not a folder; create it or fix the "
                "stage's wdir"
            )
        self._clear_outputs(stage)
        return pool.submit(self._execute, stage, cwd), deps, params

    def _execute(self, stage: Stage, cwd: str) -> int:
        """Its commands one after the other, in its wdir; the first to fail ends it."""
        env = {**os.environ, "DVLITE_STAGE": stage.name}
        for i, cmd in enumerate(stage.run_commands):
            self.emit(START, stage.name, cmd)
            proc = self.procs.start(cmd, cwd=cwd, env=env)
            try:
                assert proc.stdout is not None
                for line in proc.stdout:
                    text = line.decode("utf-8", errors="replace").rstrip("\r\n")
                    self.emit(OUTPUT, stage.name, text)
                code = proc.wait()
            finally:
                self.procs.done(proc)
            if code != 0:
                if len(stage.run_commands) > 1:
                    self.failed_at[stage.name] = f" {i + 1} of {len(stage.run_commands)}"
                return code
        if stage.checks:  # in this worker too: a long check holds up no other stage
            self.checked[stage.name] = checking.run(self.repo, stage, self.procs, self.emit)
        return 0

    def _clear_outputs(self, stage: Stage) -> None:
        """Keep what the outputs hold now in the cache, then remove them, so a command never
        sees a stale output and nothing is lost."""
        for rel in stage.produces:
            path = self.repo.confined.target(rel, f"stage {stage.name!r}")
            if rel in stage.persist:  # kept for the command, as a copy of its own
                if os.path.lexists(path):
                    make_private(self.repo, rel)
                continue
            if os.path.lexists(path):
                self.hasher.get(rel, store=True)
                fsutil.remove_tree(path)
            os.makedirs(os.path.dirname(path), exist_ok=True)
        self.hasher.forget(stage.produces)

    def _finish(self, name: str, code: int, deps: tuple[LockedPath, ...], params: Params) -> None:
        if code != 0:
            raise PipelineError(
                f"stage {name!r} failed: its command{self.failed_at.get(name, '')} exited with "
                f"code {code}" + ("" if code > 0 else f" (killed by signal {-code})")
            )
        stage = self.pipeline.stages[name]
        missing = [rel for rel in stage.produces if not os.path.lexists(self.repo.abspath(rel))]
        if missing:
            raise PipelineError(
                f"stage {name!r} ran but did not produce its declared output {', '.join(missing)}; "
                "fix the command or the stage's outs"
            )
        checked = self.checked.pop(name, None)
        if checked is not None and not checked.passed:  # nothing is cached or recorded
            raise checking.failed(self.repo, checked)
        self.hasher.forget(stage.produces)
        outs = tuple(self.hasher.get(rel, store=True) for rel in stage.outs)
        metrics = tuple(self.hasher.get(rel, store=True) for rel in stage.kept)
        entry = LockEntry(name, stage.cmd, deps, params, outs, metrics)  # type: ignore[arg-type]
        if _run_cached(stage):
            run_key = runcache.key(stage, deps, params)
            runcache.save(self.repo.cache_dir, run_key, entry.outs, entry.metrics)
        self._record(stage, entry)
        if checked is not None:
            self.result.checked[name] = len(checked.results)
        self.result.ran.append(name)
        self.emit(DONE, name, "")

    def _restore(self, stage: Stage, deps: tuple[LockedPath, ...], params: Params) -> bool:
        found = runcache.load(self.repo.cache_dir, runcache.key(stage, deps, params))
        if found is None:
            return False
        outs, metrics = found
        recorded = ({o.path for o in outs}, {m.path for m in metrics})
        if recorded != (set(stage.outs), set(stage.kept)):
            return False
        items = [_tracked(p, stage.name) for p in outs + metrics]
        if any(
            next(missing_objects(self.repo.cache, t.entry, t.rel, source=t.source), None)
            for t in items
        ):
            return False
        for rel in stage.produces:  # what is there now goes to the cache first
            if os.path.lexists(os.path.join(self.repo.root, rel)):
                self.hasher.get(rel, store=True)
        try:
            deltas = plan(self.repo, items, force=False, relink=False)
        except CacheError:
            return False
        apply(self.repo, deltas)
        make_folders(self.repo, items)
        self.hasher.forget(stage.produces)
        self._record(stage, LockEntry(stage.name, stage.cmd, deps, params, outs, metrics))
        return True

    def _record(self, stage: Stage, entry: LockEntry) -> None:
        for rel in stage.outs:
            folder, _, name = rel.rpartition("/")
            if gitignore.add(self.repo.abspath(folder), name):
                self.to_stage.add(f"{folder}/.gitignore" if folder else ".gitignore")
        current = lockfile.load(self.repo.root)
        stages = {n: e for n, e in current.stages.items() if n in self.pipeline.stages}
        stages[stage.name] = checking.recorded(self.repo, stage, entry)
        if lockfile.save(self.repo.root, Lock(stages)):
            self.to_stage.add(lockfile.LOCK_FILE)
        self.to_stage.update(stage.kept)  # metrics, and plots that are not outs
        # the lock records these values: a commit of it must hold the params files too
        self.to_stage.update(pipelines.params_file(p) for p in stage.params)


def _run_cached(stage: Stage) -> bool:
    """Whether the run cache may save and restore its runs: not for a stage that always runs,
    nor one whose command sees its previous outputs (persist), as in DVC."""
    return not stage.always_changed and not stage.persist


def _tracked(p: LockedPath, stage: str) -> Tracked:
    pointer = Pointer.like(os.path.basename(p.path), p)
    return Tracked(f"{lockfile.LOCK_FILE}:{stage}", p.path, pointer)


# -- declaring ---------------------------------------------------------------------------------
def declare(repo: Repo, stage: Stage, *, force: bool = False) -> Pipeline:
    """Add ``stage`` to dvlite.yaml (replacing one of the same name only with ``force``)."""
    with repo.lock():
        pipeline = pipelines.load(repo.root)
        if stage.name in pipeline.groups or ("@" in stage.name and stage.name in pipeline.stages):
            raise PipelineError(
                f"stage {stage.name!r} is written as a foreach or matrix in dvlite.yaml; edit it "
                "there"
            )
        if "@" in stage.name:
            raise PipelineError(
                f"bad stage name {stage.name!r}; use letters, digits, '_', '-' and '.'"
            )
        if stage.name in pipeline.stages and not force:
            raise PipelineError(
                f"stage {stage.name!r} already exists in {pipelines.PIPELINE_FILE}; "
                "use --force to replace it"
            )
        updated = Pipeline({**pipeline.stages, stage.name: stage})
        updated.check(repo, deps_exist=False)
        if repo.uses_git:
            for out in stage.outs:
                if scm.tracked_files(repo.root, out):
                    raise PipelineError(
                        f"{out} is tracked by git; run `git rm -r --cached {out}` first, so that "
                        "dvlite.lock records it instead"
                    )
        pipelines.save_stage(repo.root, stage)
        if repo.autostage:
            scm.stage(repo.root, [pipelines.PIPELINE_FILE])
        return updated


def new_stage(
    repo: Repo,
    name: str,
    command: str | Iterable[str],
    *,
    deps: Iterable[str] = (),
    outs: Iterable[str] = (),
    params: Iterable[str] = (),
    metrics: Iterable[str] = (),
    plots: Iterable[str] = (),
) -> Stage:
    """The stage ``stage add`` and ``run`` declare: paths made repository-relative, and a
    command given as words (``["python", "train.py"]``) quoted into one shell line."""
    words = [command] if isinstance(command, str) else list(command)
    cmd = words[0] if len(words) == 1 else shlex.join(words)
    raw = {"cmd": cmd, "deps": [repo.rel(p) for p in deps], "params": list(params)}
    raw |= {"outs": [repo.rel(p) for p in outs], "metrics": [repo.rel(p) for p in metrics]}
    raw["plots"] = [repo.rel(p) for p in plots]
    return Stage.from_dict(name, raw)


def run(
    repo: Repo, stage: Stage, *, force: bool = False, jobs: int = 1, on_event: Events | None = None
) -> ReproResult:
    """``dvlite run``: ``declare`` the stage, then run it with whatever it needs upstream."""
    declare(repo, stage, force=force)
    return repro(repo, [stage.name], jobs=jobs, on_event=on_event)
