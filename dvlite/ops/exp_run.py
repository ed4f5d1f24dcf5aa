"""``dvlite exp run``: run the pipeline with changed params in a temporary git work tree, so the
workspace, the index and every branch stay as they are, and record the result as an
experiment (``git/exps.py``). The work tree shares the repository's cache, so the outputs of
an experiment are cached like any others and the run cache makes a repeated setting free.

An experiment starts from the workspace as it is (uncommitted and untracked files too, as
``git add -A`` would take them) with the ``-S`` settings written into its params files. A
queued one is that start, committed on ``refs/exps/queue/NAME``; ``run_queued`` runs them,
``jobs`` at a time, each in its own work tree."""

from __future__ import annotations

import contextlib
import os
import queue as queues
import secrets
import shutil
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dvlite.errors import CacheError, DvliteError, ExperimentError, PipelineError
from dvlite.git import cmd as gitcmd
from dvlite.git import exps
from dvlite.git.history import resolve
from dvlite.git.revision import Snapshot
from dvlite.objects import fsutil
from dvlite.ops.checkout import checkout
from dvlite.ops.repro import NOTE, Events, ReproResult, repro
from dvlite.records import params as params_mod
from dvlite.records import yamlio
from dvlite.records.pipeline import normpath
from dvlite.records.repo import Repo

_WORK = "exps"  # below .dvlite/tmp: the temporary work trees, <name>-<pid>-<token>
UNTRACKED_MAX = 16 << 20  # an untracked file bigger than this is data, not code


@dataclass(frozen=True, slots=True)
class Setting:
    """One ``-S FILE:KEY=VALUE``: the value is read as YAML (``0.1`` a number, ``x`` text)."""

    file: str
    key: str
    value: object
    text: str  # as given

    @classmethod
    def parse(cls, text: str) -> Setting:
        ref, sep, raw = text.partition("=")
        file, key = params_mod.split(ref.strip())
        if not sep or not key or any(not part for part in key.split(".")):
            raise ExperimentError(
                f"-S {text!r}: write KEY=VALUE or FILE:KEY=VALUE (e.g. -S train.lr=0.01)"
            )
        file = normpath(file, f"-S {text!r}")
        value = yamlio.load(raw, f"the value of -S {text!r}", ExperimentError) if raw else ""
        return cls(file, key, value, text)


@dataclass
class Outcome:
    """One experiment: what ran (``result``), or why it failed, or that it waits in the queue."""

    name: str
    state: str  # exps.DONE, QUEUED or FAILED
    baseline: str
    commit: str | None = None
    error: str = ""
    result: ReproResult | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name, "state": self.state, "baseline": self.baseline,
            "commit": self.commit, "error": self.error,
            "result": self.result.to_dict() if self.result else None,
        }  # fmt: skip


def run(
    repo: Repo,
    settings: Iterable[str] = (),
    *,
    name: str | None = None,
    queue: bool = False,
    on_event: Events | None = None,
) -> Outcome:
    """Run an experiment now (or, with ``queue``, only queue it); ``settings`` are ``-S``
    texts. A failed run is not recorded: its error is raised."""
    emit = on_event or (lambda kind, stage, text: None)
    parsed = [Setting.parse(s) for s in settings]
    with repo.lock():
        _clean_stale(repo)
        baseline = _baseline(repo)
        name = exps.check_name(name) if name else _new_name(repo)
        if exps.find(repo.root, name) is not None:
            raise ExperimentError(
                f"an experiment called {name!r} exists already; choose another -n NAME, or "
                f"`dvlite exp remove {name}`"
            )
        message = _message(name, parsed)
        with _worktree(repo, _start(repo, baseline), name) as work:
            _write_settings(work, parsed)
            if queue:
                commit = exps.commit_worktree(work.root, baseline, message)
                exps.create_ref(repo.root, exps.ref_for(baseline, name, exps.QUEUED), commit)
                return Outcome(name, exps.QUEUED, baseline, commit)
            result = _execute(work, name, emit)
            commit = exps.commit_worktree(work.root, baseline, message)
        exps.create_ref(repo.root, exps.ref_for(baseline, name), commit)
        return Outcome(name, exps.DONE, baseline, commit, result=result)


def run_queued(repo: Repo, *, jobs: int = 1, on_event: Events | None = None) -> list[Outcome]:
    """Run every queued experiment, ``jobs`` at a time, oldest first. One that fails moves to
    ``refs/exps/failed/``; the others go on."""
    if jobs < 1:
        raise PipelineError("-j/--jobs must be at least 1")
    emit = on_event or (lambda kind, stage, text: None)
    with repo.lock():
        _clean_stale(repo)
        waiting = [e for e in exps.listing(repo.root) if e.state == exps.QUEUED]
        if jobs == 1 or len(waiting) < 2:
            return [_run_one(repo, e, emit) for e in waiting]
        return _in_threads(repo, waiting, jobs, emit)


def _in_threads(
    repo: Repo, waiting: list[exps.Experiment], jobs: int, emit: Events
) -> list[Outcome]:
    # daemon threads: on Ctrl-C dvlite exits at once, and its stage processes die with it
    # (ops/stageproc.py); a queued experiment stays queued, its work tree is removed next time
    todo: queues.SimpleQueue[int] = queues.SimpleQueue()
    for i in range(len(waiting)):
        todo.put(i)
    outcomes: dict[int, Outcome] = {}
    lock = threading.Lock()

    def work() -> None:
        while True:
            try:
                i = todo.get_nowait()
            except queues.Empty:
                return
            done = _run_one(repo, waiting[i], emit, lock)
            with lock:
                outcomes[i] = done

    threads = [threading.Thread(target=work, daemon=True) for _ in range(min(jobs, len(waiting)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [outcomes[i] for i in range(len(waiting))]


def _run_one(
    repo: Repo, exp: exps.Experiment, emit: Events, lock: threading.Lock | None = None
) -> Outcome:
    lock = lock or threading.Lock()
    try:
        with _worktree(repo, exp.commit, exp.name) as work:
            result = _execute(work, exp.name, emit)
            message = gitcmd.run(repo.root, "log", "-1", "--format=%B", exp.commit).decode()
            commit = exps.commit_worktree(work.root, exp.baseline, message)
    except DvliteError as exc:
        with lock:  # refs are changed one at a time
            _move(repo, exp, exps.ref_for(exp.baseline, exp.name, exps.FAILED), exp.commit)
        emit(NOTE, exp.name, f"failed: {exc}")
        return Outcome(exp.name, exps.FAILED, exp.baseline, exp.commit, error=str(exc))
    with lock:
        _move(repo, exp, exps.ref_for(exp.baseline, exp.name), commit)
    return Outcome(exp.name, exps.DONE, exp.baseline, commit, result=result)


def _move(repo: Repo, exp: exps.Experiment, ref: str, commit: str) -> None:
    exps.create_ref(repo.root, ref, commit)
    exps.delete_ref(repo.root, exp.ref)


def _execute(work: Repo, name: str, emit: Events) -> ReproResult:
    """Check out what the cache holds of the work tree's data, then bring the pipeline up to
    date there; events name the stage as ``NAME:stage``."""

    def tell(kind: str, stage: str, text: str) -> None:
        emit(kind, f"{name}:{stage}" if stage else name, text)

    try:
        checkout(work)
    except CacheError as exc:  # the stages that make it run; one that needs it says so
        tell(NOTE, "", str(exc))
    return repro(work, on_event=tell)


def _baseline(repo: Repo) -> str:
    if not repo.uses_git:
        raise ExperimentError("experiments are git commits: this repository has no git")
    if gitcmd.rev_parse(repo.root, "HEAD") is None:
        raise ExperimentError("an experiment starts from a commit: make the first commit first")
    return resolve(repo, "HEAD")


def _start(repo: Repo, baseline: str) -> str:
    """A commit of the workspace as it is now (parent: the baseline). An untracked file too
    big for git (data not yet added, say) is refused rather than copied into git's objects."""
    big = []
    for rel in gitcmd.lines(repo.root, "ls-files", "--others", "--exclude-standard", "-z"):
        with contextlib.suppress(OSError):
            if os.lstat(repo.root / rel).st_size > UNTRACKED_MAX:
                big.append(rel)
    if big:
        raise ExperimentError(
            f"{', '.join(big[:5])}: untracked and over {UNTRACKED_MAX >> 20} MiB, so an experiment "
            "would copy it into git; `dvlite add` it, list it in .gitignore, or commit it first"
        )
    index = Path(fsutil.tmp_name(repo.tmp_dir / "index"))
    try:
        tree = exps.snapshot(repo.root, index)
    finally:
        with contextlib.suppress(FileNotFoundError):
            index.unlink()
    return exps.commit_tree(repo.root, tree, baseline, "dvlite exp: the workspace it starts from")


@contextlib.contextmanager
def _worktree(repo: Repo, commit: str, name: str) -> Iterator[Repo]:
    """A temporary work tree at ``commit``, below .dvlite/tmp (the cache's file system, so
    checkouts can link), using the repository's cache and local config."""
    folder = repo.tmp_dir / _WORK
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{os.getpid()}-{secrets.token_hex(3)}"
    exps.add_worktree(repo.root, path, commit)
    try:
        work = Repo(path)
        work.dvlite_dir.mkdir(exist_ok=True)
        local = repo.dvlite_dir / "config.local"
        if local.exists():
            shutil.copyfile(local, work.dvlite_dir / "config.local")
        work.config.set("cache.dir", os.fspath(repo.cache_dir.absolute()), "local")
        yield work
    finally:
        exps.remove_worktree(repo.root, path)


def _clean_stale(repo: Repo) -> None:
    """Remove the work trees of runs whose process is gone (killed, or stopped by Ctrl-C)."""
    folder = repo.tmp_dir / _WORK
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        pid = path.name.rsplit("-", 2)[-2] if path.name.count("-") >= 2 else ""
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            exps.remove_worktree(repo.root, path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_settings(work: Repo, settings: list[Setting]) -> None:
    by_file: dict[str, list[Setting]] = {}
    for s in settings:
        by_file.setdefault(s.file, []).append(s)
    snap = Snapshot(work)
    for file, changes in by_file.items():
        original = snap.read(file)
        data = None if original is None else params_mod.parse(original, file)
        for s in changes:
            data = params_mod.assign(data, s.key, s.value, file)
        fsutil.atomic_write(work.confined.target(file, "-S"), params_mod.dumps(data, original))


def _message(name: str, settings: list[Setting]) -> str:
    lines = [f"dvlite experiment {name}", ""] + [f"-S {s.text}" for s in settings]
    return "\n".join(lines).rstrip() + "\n"


def _new_name(repo: Repo) -> str:
    taken = {e.name for e in exps.listing(repo.root)}
    while True:
        name = f"exp-{secrets.token_hex(3)}"
        if name not in taken:
            return name
