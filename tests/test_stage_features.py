"""Stage features of DVC's dvlite.yaml syntax, end to end through the CLI on real git
repositories: outs with ``cache: false`` and ``persist: true``, ``always_changed``, ``wdir``,
``desc``/``meta``, ``cmd`` as a list, ``repro -s`` and ``stage list``. Templates (vars,
foreach, matrix, ``${...}``) are in test_stage_templates.py."""

from __future__ import annotations

import json
import os

from helpers import git
from pipeline_helpers import PY

from dvlite.records import lockfile
from dvlite.records.repo import Repo

APPEND = f"{PY} -c \"open('log.txt','a').write('run\\\\n')\""


def _write(repo: Repo, text: str) -> None:
    (repo.root / "dvlite.yaml").write_text(text)


def _ok(result) -> str:
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_cache_false_out_is_recorded_and_kept_in_git(repo: Repo, dvlite) -> None:
    _write(
        repo,
        "stages:\n  report:\n    cmd: echo made > report.txt && echo m > model.bin\n"
        "    outs:\n      - report.txt: {cache: false}\n      - model.bin\n",
    )
    _ok(dvlite("repro"))
    entry = lockfile.load(repo.root).stages["report"]
    assert [o.path for o in entry.outs] == ["model.bin"]
    assert [m.path for m in entry.metrics] == ["report.txt"]  # the lock's kept-in-git list
    assert entry.metrics[0].oid.startswith("xxh128:")
    assert (repo.root / ".gitignore").read_text().split() == ["/model.bin"]  # not report.txt
    assert "report.txt" in git(repo.root, "diff", "--cached", "--name-only").split()
    # it stays as git keeps it: checkout does not restore it, status does not call it data
    (repo.root / "report.txt").write_text("edited by hand\n")
    _ok(dvlite("checkout"))
    assert (repo.root / "report.txt").read_text() == "edited by hand\n"
    assert "output report.txt was modified" in _ok(dvlite("repro", "--dry"))


def test_persist_keeps_the_output_for_the_next_run(repo: Repo, dvlite) -> None:
    _ok(dvlite("config", "cache.type", "hardlink"))
    _write(
        repo,
        f"stages:\n  grow:\n    cmd: {APPEND}\n    always_changed: true\n"
        "    outs:\n      - log.txt: {persist: true}\n",
    )
    for _ in range(3):
        _ok(dvlite("repro"))
    assert (repo.root / "log.txt").read_text() == "run\nrun\nrun\n"
    # each run wrote into a copy of its own, never into the cache's object
    assert os.stat(repo.root / "log.txt").st_nlink == 2  # linked again after the last run
    _ok(dvlite("fsck"))
    assert "always changed (always_changed: true)" in _ok(dvlite("repro", "--dry"))


def test_always_changed_runs_every_time_without_the_run_cache(repo: Repo, dvlite) -> None:
    _write(repo, f"stages:\n  s:\n    cmd: {APPEND} && echo x > out.txt\n    outs: [out.txt]\n")
    _ok(dvlite("repro"))
    assert dvlite("repro").stdout == "Everything is up to date.\n"
    _write(
        repo,
        f"stages:\n  s:\n    cmd: {APPEND} && echo x > out.txt\n    outs: [out.txt]\n"
        "    always_changed: true\n",
    )
    assert (
        _ok(dvlite("repro", "--dry")) == "would run  s  (always changed (always_changed: true))\n"
    )
    out = _ok(dvlite("repro"))
    assert "restored from the run cache" not in out
    assert (repo.root / "log.txt").read_text() == "run\nrun\n"


def test_wdir_runs_there_and_paths_are_relative_to_it(repo: Repo, dvlite) -> None:
    repo.root.joinpath("sub").mkdir()
    (repo.root / "data.txt").write_text("in")
    (repo.root / "sub" / "params.yaml").write_text("k: 5\n")
    _write(
        repo,
        "stages:\n  s:\n    wdir: sub\n    cmd: cat ../data.txt > out.txt && pwd > where.txt\n"
        "    deps: [../data.txt]\n    params: [k]\n    outs: [out.txt]\n"
        "    metrics: [where.txt]\n",
    )
    _ok(dvlite("repro"))
    assert (repo.root / "sub" / "out.txt").read_text() == "in"
    assert (repo.root / "sub" / "where.txt").read_text().strip() == str(repo.root / "sub")
    entry = lockfile.load(repo.root).stages["s"]
    assert [d.path for d in entry.deps] == ["data.txt"]
    assert [o.path for o in entry.outs] == ["sub/out.txt"]
    assert entry.params == {"sub/params.yaml": {"k": 5}}
    assert (repo.root / "sub" / ".gitignore").read_text().split() == ["/out.txt"]
    _ok(dvlite("status"))
    assert dvlite("repro").stdout == "Everything is up to date.\n"
    # stage add keeps the other stage's paths relative to its wdir
    _ok(
        dvlite(
            "stage", "add", "-n", "t", "-d", "sub/out.txt", "-o", "t.txt", "cp sub/out.txt t.txt"
        )
    )
    assert "    deps:\n    - ../data.txt\n" in (repo.root / "dvlite.yaml").read_text()
    assert dvlite("repro", "--dry").stdout == "up to date  s\nwould run  t  (never run)\n"


def test_wdir_errors(repo: Repo, dvlite) -> None:
    cases = {
        "stages:\n  s: {wdir: ../.., cmd: 'true'}\n": (
            "Error: dvlite.yaml: stage 's' wdir: '../..' is outside the repository; paths are "
            "relative to its root\n"
        ),
        "stages:\n  s: {wdir: sub, cmd: 'true', outs: [../../x]}\n": (
            "Error: dvlite.yaml: stage 's' outs: '../../x' is outside the repository; paths "
            "are relative to the stage's wdir, sub\n"
        ),
        "stages:\n  s: {wdir: nowhere, cmd: 'true', outs: [x]}\n": (
            "Error: stage 's': its wdir nowhere is not a folder; create it or fix the stage's "
            "wdir\n"
        ),
        "stages:\n  s: {wdir: .git, cmd: 'true'}\n": (
            "Error: dvlite.yaml: stage 's' wdir: '.git' names .git (a folder dvlite never writes "
            "into)\n"
        ),
    }
    for text, message in cases.items():
        _write(repo, text)
        result = dvlite("repro")
        assert (result.exit_code, result.stderr) == (1, message), text


def test_cmd_list_runs_in_turn_and_stops_at_the_first_failure(repo: Repo, dvlite) -> None:
    _write(
        repo,
        "stages:\n  s:\n    cmd:\n      - echo one > a.txt\n      - echo two >> a.txt\n"
        "    outs: [a.txt]\n",
    )
    out = _ok(dvlite("repro"))
    assert "[s] $ echo one > a.txt\n[s] $ echo two >> a.txt\n" in out
    assert (repo.root / "a.txt").read_text() == "one\ntwo\n"
    assert lockfile.load(repo.root).stages["s"].cmd == "echo one > a.txt\necho two >> a.txt"
    assert dvlite("repro").stdout == "Everything is up to date.\n"
    _write(
        repo,
        "stages:\n  s:\n    cmd:\n      - echo one > a.txt\n      - exit 3\n"
        "      - echo never > b.txt\n    outs: [a.txt]\n",
    )
    result = dvlite("repro")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: stage 's' failed: its command 2 of 3 exited with code 3\n",
    )
    assert not (repo.root / "b.txt").exists()
    _write(repo, "stages:\n  s:\n    cmd: [echo, '']\n")
    result = dvlite("repro")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: dvlite.yaml: stage 's': each command in its 'cmd' list must be a non-empty "
        "string\n",
    )


def test_single_item_runs_only_the_named_stage(pipeline: Repo, dvlite) -> None:
    from pipeline_helpers import runs

    _ok(dvlite("repro"))
    runs(pipeline.root)
    (pipeline.root / "data" / "raw.txt").write_text("raw-2")  # prepare and train are stale
    assert _ok(dvlite("repro", "--dry", "-s", "train")) == "up to date  train\n"
    _ok(dvlite("repro", "-s", "prepare"))
    assert runs(pipeline.root) == ["prepare"]  # not train, evaluate, nor stats
    assert "would run  train  (dep data/prepared changed)" in _ok(dvlite("repro", "--dry"))
    result = dvlite("repro", "-s")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: -s/--single-item needs the stages to run, and no --downstream\n",
    )


def test_stage_list_and_desc(repo: Repo, dvlite) -> None:
    _write(
        repo,
        "stages:\n  prep:\n    cmd: echo p > p.txt\n    outs: [p.txt]\n"
        "    desc: Prepare the data\n    meta: {owner: data-team, tags: [a]}\n"
        "  train:\n    cmd: cat p.txt > m.bin\n    deps: [p.txt]\n    outs: [m.bin]\n"
        "    metrics: [score.json]\n",
    )
    rows = json.loads(_ok(dvlite("stage", "list", "--json")))
    assert rows == [
        {"name": "prep", "cmd": "echo p > p.txt", "deps": [], "outs": ["p.txt"],
         "desc": "Prepare the data", "wdir": ".", "group": None},
        {"name": "train", "cmd": "cat p.txt > m.bin", "deps": ["p.txt"],
         "outs": ["m.bin", "score.json"], "desc": "", "wdir": ".", "group": None},
    ]  # fmt: skip
    table = _ok(dvlite("stage", "list"))
    for cell in ("stage", "desc", "prep", "Prepare the data", "train", "m.bin, score.json"):
        assert cell in table
    _write(repo, "")
    assert _ok(dvlite("stage", "list")) == (
        "No stages in dvlite.yaml: declare one with `dvlite stage add`.\n"
    )


def test_out_option_errors(repo: Repo, dvlite) -> None:
    cases = {
        "stages:\n  s:\n    cmd: 'true'\n    outs:\n      - a: {cache: 1}\n": (
            "Error: dvlite.yaml: stage 's' outs: 'a' cache must be true or false, not 1\n"
        ),
        "stages:\n  s:\n    cmd: 'true'\n    outs:\n      - a: {remote: x}\n": (
            "Error: dvlite.yaml: stage 's' outs: 'a' has an unknown option 'remote' "
            "(known: cache, persist)\n"
        ),
        "stages:\n  s:\n    cmd: 'true'\n    metrics:\n      - m.json: {cache: true}\n": (
            "Error: dvlite.yaml: stage 's' metrics: 'm.json' has cache: true; metrics stay in "
            "git in dvlite (make it an out to cache it)\n"
        ),
        "stages:\n  s:\n    cmd: 'true'\n    always_changed: yes please\n": (
            "Error: dvlite.yaml: stage 's': 'always_changed' must be true or false, not "
            "'yes please'\n"
        ),
        "stages:\n  s:\n    cmd: 'true'\n    wdri: x\n": (
            "Error: dvlite.yaml: stage 's' has an unknown key 'wdri' (known: cmd, deps, "
            "params, outs, metrics, plots, checks); did you mean 'wdir'?\n"
        ),
    }
    for text, message in cases.items():
        _write(repo, text)
        result = dvlite("repro")
        assert (result.exit_code, result.stderr) == (1, message), text


def test_metrics_written_with_cache_false_as_in_dvc(repo: Repo, dvlite) -> None:
    _write(
        repo,
        "stages:\n  s:\n    cmd: echo '{\"acc\":1}' > m.json\n    metrics:\n"
        "      - m.json: {cache: false}\n",
    )
    _ok(dvlite("repro"))
    assert json.loads(_ok(dvlite("metrics", "show", "--json"))) == {
        "workspace": {"m.json": {"acc": 1}}
    }
