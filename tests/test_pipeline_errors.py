"""Every pipeline error is clear, exits 1, and names what to fix."""

from __future__ import annotations

from helpers import git
from pipeline_helpers import PY, make_pipeline, runs

from dvlite.records import lockfile
from dvlite.records.pipeline import Pipeline, Stage, save
from dvlite.records.repo import Repo


def _write(repo: Repo, text: str) -> None:
    (repo.root / "dvlite.yaml").write_text(text)


def test_cycle_names_its_stages(repo: Repo, dvlite) -> None:
    _write(
        repo,
        "stages:\n"
        "  a: {cmd: 'true', deps: [c.txt], outs: [a.txt]}\n"
        "  b: {cmd: 'true', deps: [a.txt], outs: [b.txt]}\n"
        "  c: {cmd: 'true', deps: [b.txt], outs: [c.txt]}\n",
    )
    for args in (("repro",), ("dag",), ("status",)):
        result = dvlite(*args)
        assert result.exit_code == 1
        assert result.stderr == (
            "Error: dvlite.yaml has a cycle: a -> c -> b -> a; a stage cannot "
            "depend on its own outputs\n"
        )


def test_two_stages_with_the_same_output(repo: Repo, dvlite) -> None:
    _write(repo, "stages:\n  a: {cmd: 'true', outs: [out]}\n  b: {cmd: 'true', outs: [out/x]}\n")
    result = dvlite("repro")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: dvlite.yaml: stages 'a' and 'b' produce out and out/x; "
        "each output must have one producer\n"
    )
    _write(repo, "stages:\n  a: {cmd: 'true', outs: [out]}\n")
    result = dvlite("stage", "add", "-n", "c", "-o", "out", "true")
    assert (
        result.stderr == "Error: dvlite.yaml: stages 'a' and 'c' both produce out; "
        "each output must have one producer\n"
    )


def test_output_tracked_by_a_pointer(repo: Repo, dvlite) -> None:
    (repo.root / "data").mkdir()
    (repo.root / "data" / "f.txt").write_text("f")
    assert dvlite("add", "data").exit_code == 0
    result = dvlite("stage", "add", "-n", "s", "-o", "data/f.txt", "true")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: dvlite.yaml: data/f.txt, an output of stage 's', is also tracked by data.dvl; "
        "run `dvlite remove data.dvl` or drop it from the stage's outs\n"
    )


def test_output_tracked_by_git(repo: Repo, dvlite) -> None:
    (repo.root / "m.bin").write_text("m")
    git(repo.root, "add", "m.bin")
    result = dvlite("stage", "add", "-n", "s", "-o", "m.bin", "true")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: m.bin is tracked by git; run `git rm -r --cached m.bin` first"
    )


def test_dep_nobody_makes(repo: Repo, dvlite) -> None:
    _write(repo, "stages:\n  s: {cmd: 'true', deps: [nowhere.csv]}\n")
    result = dvlite("repro")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: stage 's' depends on nowhere.csv, which does not exist and no stage produces; "
        "create it, `dvlite pull` it, or fix the stage's deps\n"
    )


def test_malformed_pipeline_files(repo: Repo, dvlite) -> None:
    cases = {
        "stages: [\n": "Error: malformed dvlite.yaml: not valid YAML (line 2)\n",
        "stages:\n  s: {deps: [a]}\n": (
            "Error: dvlite.yaml: stage 's' needs a 'cmd' (the command to run, as one string)\n"
        ),
        "stages:\n  s: {cmd: x, outz: [a]}\n": (
            "Error: dvlite.yaml: stage 's' has an unknown key 'outz' "
            "(known: cmd, deps, params, outs, metrics, plots, checks)\n"
        ),
        "stages:\n  s: {cmd: x, outs: [../up]}\n": (
            "Error: dvlite.yaml: stage 's' outs: '../up' is outside the "
            "repository; paths are relative to its root\n"
        ),
        "stage: {}\n": "Error: malformed dvlite.yaml: expected a mapping with one key, 'stages'\n",
        "stages:\n  'bad name': {cmd: x}\n": (
            "Error: dvlite.yaml: bad stage name 'bad name'; use letters, digits, '_', '-' and '.'\n"
        ),
    }
    for text, message in cases.items():
        _write(repo, text)
        result = dvlite("repro")
        assert (result.exit_code, result.stderr) == (1, message), text


def test_malformed_lock(repo: Repo, dvlite) -> None:
    _write(repo, "stages:\n  s: {cmd: 'true'}\n")
    (repo.root / "dvlite.lock").write_text(
        "version: 1\nstages:\n  s: {cmd: 'true', outs: [{path: a, oid: nope, size: 1}]}\n"
    )
    for args in (("repro",), ("status",), ("checkout",)):
        result = dvlite(*args)
        assert result.exit_code == 1
        assert result.stderr == (
            "Error: malformed dvlite.lock (stage 's'): a: 'oid' must look like "
            "xxh128:<32 hex digits>, not 'nope'; "
            "fix it, or delete it and run `dvlite repro`\n"
        )
    (repo.root / "dvlite.lock").write_text(": : :\n")
    assert dvlite("repro").stderr == "Error: malformed dvlite.lock: not valid YAML (line 1)\n"


def test_failing_command_names_stage_and_exit_code(repo: Repo, dvlite) -> None:
    slow_ok = f"{PY} -c \"import time; time.sleep(0.5); open('ok.txt','w').write('ok')\""
    save(
        repo.root,
        Pipeline(
            {
                "bad": Stage(
                    "bad", f"{PY} -c \"import sys; print('boom'); sys.exit(3)\"", outs=("bad.txt",)
                ),
                "ok": Stage("ok", slow_ok, outs=("ok.txt",)),
                "after": Stage("after", "true", deps=("bad.txt",), outs=("after.txt",)),
            }
        ),
    )
    result = dvlite("repro", "-j", "2")
    assert result.exit_code == 1
    assert result.stderr == "Error: stage 'bad' failed: its command exited with code 3\n"
    assert "[bad] boom" in result.stdout
    lock = lockfile.load(repo.root)
    assert sorted(lock.stages) == ["ok"]  # the running stage finished; nothing for the failed one
    assert not (repo.root / "after.txt").exists()


def test_missing_declared_output(repo: Repo, dvlite) -> None:
    save(repo.root, Pipeline({"s": Stage("s", "true", outs=("never.txt",))}))
    result = dvlite("repro")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: stage 's' ran but did not produce its declared output never.txt; "
        "fix the command or the stage's outs\n"
    )
    assert not (repo.root / "dvlite.lock").exists()


def test_unknown_stage_and_missing_param(repo: Repo, dvlite) -> None:
    make_pipeline(repo)
    result = dvlite("repro", "nope")
    assert result.stderr == (
        "Error: 'nope' is neither a stage in dvlite.yaml nor an output of one "
        "(stages: prepare, train, evaluate, stats)\n"
    )
    (repo.root / "params.yaml").write_text('{"prepare": {"seed": 1}, "train": {}}\n')
    result = dvlite("repro", "train")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: stage 'train': params.yaml has no key 'train.lr'; add it or "
        "remove the param from the stage\n"
    )
    assert runs(repo.root) == []
