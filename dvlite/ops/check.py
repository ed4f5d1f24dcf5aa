"""Data-quality checks: a stage's ``checks:`` run on its outputs as the workspace holds them.
``repro`` runs them after the stage's command, before anything is recorded (``run``; a failure
is ``failed``), and ``dvlite check`` runs them alone (``check``). Commands run through the
shell in the stage's wdir with its environment, as the stage's command does; expectations are
``records.expectations``.

Where results are kept: a pass goes into the stage's dvlite.lock entry (``checks: {passed: N,
digest: ...}``, see ``records.checks.CheckRecord``); a failure into ``.dvlite/tmp/checks.json``
(not committed) until the checks pass, and the stage counts as out of date meanwhile.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from dvlite.errors import PipelineError
from dvlite.git import index as scm
from dvlite.ops.stageproc import StageProcesses
from dvlite.ops.stale import Hasher, why_stale
from dvlite.records import checks as checkspec
from dvlite.records import expectations, lockfile
from dvlite.records import pipeline as pipelines
from dvlite.records.checks import CheckRecord, Command, Expectation
from dvlite.records.lockfile import Lock, LockEntry
from dvlite.records.pipeline import Stage
from dvlite.records.repo import Repo

# events, as repro's: (kind, stage, text); a command's output comes as repro's "output"
CHECK, PASSED, FAILED, OUTPUT = "check", "passed", "failed", "output"
Events = Callable[[str, str, str], None]
TAIL = 20  # lines of a command's output a result keeps
NOT_FOUND, NOT_EXECUTABLE = 127, 126  # the shell's exit codes


@dataclass(frozen=True)
class CheckResult:
    check: str  # the command, or "expect PATH"
    passed: bool
    findings: tuple[str, ...] = ()  # what is wrong, one message each
    code: int | None = None  # a command's exit code
    output: tuple[str, ...] = ()  # a command's last lines of output

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"check": self.check, "passed": self.passed}
        d["findings"] = list(self.findings)
        if self.code is not None:
            d |= {"code": self.code, "output": list(self.output)}
        return d


@dataclass(frozen=True)
class StageChecks:
    stage: str
    results: tuple[CheckResult, ...] = ()
    recorded: bool = False  # `dvlite check` wrote the pass into dvlite.lock

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def findings(self) -> list[str]:
        return [f for r in self.results for f in r.findings]

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"stage": self.stage, "passed": self.passed}
        return d | {"recorded": self.recorded, "results": [r.to_dict() for r in self.results]}


# -- running ----------------------------------------------------------------------------------
def run(repo: Repo, stage: Stage, procs: StageProcesses, emit: Events) -> StageChecks:
    """Every check of ``stage``, in order (all of them, whatever fails). A check command that
    cannot be found or run is a PipelineError."""
    results = []
    total = len(stage.checks)
    for n, check in enumerate(stage.checks, 1):
        emit(CHECK, stage.name, f"check {n}/{total}: {check.label}")
        if isinstance(check, Command):
            result = _command(repo, stage, check, n, procs, emit)
        else:
            result = _expect(repo, check)
        if result.passed:
            emit(PASSED, stage.name, f"check {n}/{total} passed")
        else:
            emit(FAILED, stage.name, f"check {n}/{total} failed: {result.findings[0]}")
        results.append(result)
    return StageChecks(stage.name, tuple(results))


def _command(
    repo: Repo, stage: Stage, check: Command, n: int, procs: StageProcesses, emit: Events
) -> CheckResult:
    cwd = os.path.join(repo.root, stage.wdir)
    env = {**os.environ, "DVLITE_STAGE": stage.name}
    tail: collections.deque[str] = collections.deque(maxlen=TAIL)
    proc = procs.start(check.cmd, cwd=cwd, env=env)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            text = line.decode("utf-8", errors="replace").rstrip("\r\n")
            tail.append(text)
            emit(OUTPUT, stage.name, text)
        code = proc.wait()
    finally:
        procs.done(proc)
    if code in (NOT_FOUND, NOT_EXECUTABLE):
        what = "was not found" if code == NOT_FOUND else "cannot be run"
        raise PipelineError(
            f"stage {stage.name!r}: the command of check {n} ({check.cmd}) {what} (exit code "
            f"{code}); install it, or fix the check in {pipelines.PIPELINE_FILE}"
        )
    if code == 0:
        return CheckResult(check.cmd, True, code=0, output=tuple(tail))
    how = f"code {code}" if code > 0 else f"signal {-code}"
    finding = f"check `{check.cmd}` failed (exit {how})"
    return CheckResult(check.cmd, False, (finding,), code, tuple(tail))


def _expect(repo: Repo, check: Expectation) -> CheckResult:
    findings = expectations.evaluate(repo.abspath(check.path), check, str(repo.tmp_dir))
    return CheckResult(check.label, not findings, tuple(findings))


def failed(repo: Repo, checked: StageChecks) -> PipelineError:
    """The error of a stage whose checks failed in repro, remembered for status."""
    checkspec.set_failure(repo.tmp_dir, checked.stage, checked.findings)
    findings = checked.findings
    head = f"stage {checked.stage!r} failed {'a check' if len(findings) == 1 else 'its checks'}"
    keep = (
        "its outputs stay in the workspace, unrecorded and uncached; fix them or the stage, "
        "then run `dvlite repro` again"
    )
    if len(findings) == 1:
        return PipelineError(f"{head}: {findings[0]}; {keep}")
    return PipelineError(f"{head} ({keep}):\n" + "\n".join(f"  {f}" for f in findings))


def recorded(repo: Repo, stage: Stage, entry: LockEntry) -> LockEntry:
    """``entry`` as repro records it: with its checks' pass, the last failure forgotten."""
    checkspec.set_failure(repo.tmp_dir, stage.name, None)
    return replace(entry, checks=CheckRecord.of(stage.checks))


# -- dvlite check -------------------------------------------------------------------------------
@dataclass
class CheckReport:
    stages: list[StageChecks] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.stages)

    def to_dict(self) -> dict[str, object]:
        return {"passed": self.passed, "stages": [s.to_dict() for s in self.stages]}


def check(
    repo: Repo, targets: Iterable[str] = (), *, on_event: Events | None = None
) -> CheckReport:
    """Run the checks of the named stages (or of every stage that has some) on the workspace.
    A pass is written into dvlite.lock when the stage's record matches its outputs (so a
    changed check needs no new run); a failure is remembered for status until they pass."""
    emit = on_event or (lambda kind, name, text: None)
    report = CheckReport()
    with repo.lock():
        pipeline = pipelines.load(repo.root)
        pipeline.check(repo, deps_exist=False)
        names = pipeline.resolve_targets(targets, repo)
        for name in names:
            if not pipeline.stages[name].checks:
                raise PipelineError(
                    f"stage {name!r} has no checks; add a 'checks:' list to it in "
                    f'{pipelines.PIPELINE_FILE} (docs/pipelines.md, "Data-quality checks")'
                )
        names = names or [n for n in pipeline.order() if pipeline.stages[n].checks]
        procs = StageProcesses()
        hasher = Hasher(repo)
        try:
            for name in pipeline.order(names):
                stage = pipeline.stages[name]
                result = run(repo, stage, procs, emit)
                report.stages.append(_remember(repo, stage, result, hasher))
        except BaseException:
            procs.kill_all()
            raise
        finally:
            procs.close()
    return report


def _remember(repo: Repo, stage: Stage, result: StageChecks, hasher: Hasher) -> StageChecks:
    if not result.passed:
        checkspec.set_failure(repo.tmp_dir, stage.name, result.findings)
        return result
    checkspec.set_failure(repo.tmp_dir, stage.name, None)
    lock = lockfile.load(repo.root)
    entry = lock.stages.get(stage.name)
    new = CheckRecord.of(stage.checks)
    if entry is None or entry.checks == new or why_stale(repo, stage, entry, hasher, checks=False):
        return result  # nothing recorded, or not these outputs
    changed = lockfile.save(
        repo.root, Lock({**lock.stages, stage.name: replace(entry, checks=new)})
    )
    if changed and repo.autostage:
        scm.stage(repo.root, scm.not_ignored(repo.root, [lockfile.LOCK_FILE]))
    return replace(result, recorded=True)
