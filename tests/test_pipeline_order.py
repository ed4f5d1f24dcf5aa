"""The order stages run in, and the words repro uses for why each one runs."""

from __future__ import annotations

import shlex
import sys

import pytest

from dvlite.errors import PipelineError
from dvlite.ops.repro import repro
from dvlite.records.pipeline import Pipeline, Stage, load, save
from dvlite.records.repo import Repo

PY = shlex.quote(sys.executable)


def test_dry_says_each_reason_in_words(repo: Repo) -> None:
    def reasons() -> list[str]:
        return [str(p.reason) for p in repro(repo, dry=True).plan if p.reason]

    (repo.root / "in.txt").write_text("1")
    (repo.root / "params.yaml").write_text("n: 1\n")
    copy = f"{PY} -c \"open('out.txt','w').write(open('in.txt').read())\""
    stage = Stage("s", copy, deps=("in.txt",), params=("n",), outs=("out.txt",))
    save(repo.root, Pipeline({"s": stage}))
    assert reasons() == ["never run"]
    repro(repo)
    assert reasons() == []
    assert [str(p.reason) for p in repro(repo, dry=True, force=True).plan] == ["forced"]
    (repo.root / "out.txt").write_text("edited")
    assert reasons() == ["output out.txt was modified"]
    (repo.root / "out.txt").unlink()
    assert reasons() == ["output out.txt is missing"]
    repro(repo)
    (repo.root / "params.yaml").write_text("n: 2\n")
    assert reasons() == ["param n changed (1 -> 2)"]
    save(repo.root, Pipeline({"s": Stage("s", copy + " ", deps=("in.txt",), outs=("out.txt",))}))
    assert reasons() == ["command changed"]
    save(repo.root, Pipeline({"s": Stage("s", copy, outs=("out.txt",), params=("n",))}))
    assert reasons() == ["deps changed: in.txt"]


def test_stages_run_in_file_order_among_those_ready(repo: Repo, dvlite) -> None:
    # "late" is listed before the stage it reads: it waits for it, "free" does not
    (repo.root / "dvlite.yaml").write_text(
        "stages:\n"
        "  late: {cmd: 'cp early.txt late.txt', deps: [early.txt], outs: [late.txt]}\n"
        "  free: {cmd: 'echo f > free.txt', outs: [free.txt]}\n"
        "  early: {cmd: 'echo e > early.txt', outs: [early.txt]}\n"
    )
    assert load(repo.root).order() == ["free", "early", "late"]
    result = dvlite("repro", "--dry")
    assert [line.split()[2] for line in result.stdout.splitlines()] == ["free", "early", "late"]
    result = dvlite("repro")  # one at a time: in that order
    assert [line.split()[0] for line in result.stdout.splitlines()[:3]] == [
        "[free]",
        "[early]",
        "[late]",
    ]
    assert dvlite("repro", "-f", "-j", "3").exit_code == 0  # late still waits for early
    assert (repo.root / "late.txt").read_text() == "e\n"


def test_a_cycle_is_named_from_the_first_stage_in_the_file(repo: Repo) -> None:
    stages = {
        "d": Stage("d", "true", outs=("d.txt",)),
        "a": Stage("a", "true", deps=("b.txt", "d.txt"), outs=("a.txt",)),
        "b": Stage("b", "true", deps=("c.txt",), outs=("b.txt",)),
        "c": Stage("c", "true", deps=("a.txt",), outs=("c.txt",)),
    }
    with pytest.raises(PipelineError) as exc:
        Pipeline(stages).order()
    assert str(exc.value) == (
        "dvlite.yaml has a cycle: a -> b -> c -> a; a stage cannot depend on its own outputs"
    )
