"""Data-registry and migration workloads (issue 15): ``get`` of the 20k-file folder from
another repository, against ``dvc get`` of the same data from a DVC repository, each source
with its data pushed to a folder remote and cloned through a bare repository URL; and
``migrate-dvc`` of a project DVC made with the same 20k files and a stage (dvlite alone:
DVC has no such step; the time is reported).

The sources are made once per tool and kept under bench/.work (untimed; a DVC push of 20k
files takes minutes); each run gets into an empty folder outside any repository, so both
tools fetch everything into a temporary cache.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bench.data import copy_in, files_dir
from bench.harness import (
    WORK,
    BenchError,
    Results,
    Run,
    Verdict,
    faster_than_dvc,
    rmtree,
    scenario,
    target,
)

GET, MIGRATE = "get", "migrate"
GET_STEP, MIGRATE_STEP = "get (20k files, fresh)", "migrate-dvc"


def _source(run: Run, tool_name: str) -> Path:
    """The bare repository of ``tool_name``'s source (made once, with its remote)."""
    s = run.sizes
    base = WORK / f"share-{tool_name}-{s.files}x{s.file_size}"
    bare, done = base / "source.git", base / ".done"
    if done.exists():
        return bare
    if base.exists():
        rmtree(base)
    work = base / "work"
    work.mkdir(parents=True)
    run.sh(["git", "init", "-q", "-b", "main"], cwd=work)
    tool = run.tool
    if tool.name == "dvc":
        run.sh(tool.argv("init", "-q"), cwd=work)
        run.sh(tool.argv("config", "core.analytics", "false"), cwd=work)
    else:
        run.sh(tool.argv("init"), cwd=work)
    copy_in(files_dir(s.files, s.folders, s.file_size), work / "data")
    run.sh(tool.argv("add", "data"), cwd=work)
    run.sh(tool.argv("remote", "add", "-d", "store", str(base / "remote")), cwd=work)
    run.sh(tool.argv("push"), cwd=work)
    run.sh(["git", "add", "-A"], cwd=work)
    run.sh(["git", "commit", "-q", "-m", "data"], cwd=work)
    run.sh(["git", "clone", "-q", "--bare", str(work), str(bare)], cwd=base)
    done.touch()
    return bare


@scenario(
    GET,
    "get a {files:,}-file folder from another repository (folder remote, bare URL)",
    "get {files:,} files",
    (GET_STEP,),
)
def get_folder(run: Run) -> None:
    bare = _source(run, run.tool.name)
    if run.dir.exists():
        rmtree(run.dir)
    run.dir.mkdir(parents=True)
    run.timed(GET_STEP, run.tool.argv("get", str(bare), "data", "-o", "out"))
    got = sum(1 for p in (run.dir / "out").rglob("*") if p.is_file())
    if got != run.sizes.files:
        raise BenchError(f"{run.tool.name} get wrote {got} files, not {run.sizes.files}")
    run.discard(run.dir / "out")


def _dvc_project(run: Run, dvc: str) -> Path:
    """A DVC project with the 20k files added and one stage reproduced (made once)."""
    s = run.sizes
    base = WORK / f"migrate-{s.files}x{s.file_size}"
    project, done = base / "project", base / ".done"
    if done.exists():
        return project
    if base.exists():
        rmtree(base)
    project.mkdir(parents=True)
    argv = [dvc]
    run.sh(["git", "init", "-q", "-b", "main"], cwd=project)
    run.sh([*argv, "init", "-q"], cwd=project)
    run.sh([*argv, "config", "core.analytics", "false"], cwd=project)
    copy_in(files_dir(s.files, s.folders, s.file_size), project / "data")
    run.sh([*argv, "add", "data"], cwd=project)
    (project / "params.yaml").write_text("n: 1\n")
    count = "import os; open('count.txt','w').write(str(sum(len(f) for _,_,f in os.walk('data'))))"
    run.sh(
        [*argv, "stage", "add", "-n", "count", "-d", "data", "-p", "n", "-o", "count.txt",
         f'python -c "{count}"'],
        cwd=project,
    )  # fmt: skip
    run.sh([*argv, "repro", "-q"], cwd=project)
    run.sh(["git", "add", "-A"], cwd=project)
    run.sh(["git", "commit", "-q", "-m", "a DVC project"], cwd=project)
    done.touch()
    return project


@scenario(
    MIGRATE,
    "migrate-dvc of a DVC project of {files:,} files and a stage",
    "migrate-dvc {files:,} files",
    (MIGRATE_STEP,),
    tools=("dvlite",),
    max_runs=3,
)
def migrate(run: Run) -> None:
    dvc = shutil.which("dvc", path=run.harness.env["PATH"])
    if dvc is None:
        raise BenchError("migrate-dvc needs DVC to make its project (the bench venv has it)")
    template = _dvc_project(run, dvc)
    if run.dir.exists():
        rmtree(run.dir)
    run.dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(template, run.dir, symlinks=True)
    run.timed(MIGRATE_STEP, run.tool.argv("migrate-dvc"), cwd=run.dir)
    if not (run.dir / "data.dvl").is_file() or "count" not in (run.dir / "dvlite.lock").read_text():
        raise BenchError("migrate-dvc did not write data.dvl and the stage's lock entry")
    run.discard(run.dir / "data")


@target("get of a 20k-file folder from another repository ≥ 5× faster than `dvc get`")
def _get(results: Results) -> Verdict:
    return faster_than_dvc(results, GET, GET_STEP, 5)


@target("migrate-dvc of a 20k-file DVC project works (its time is reported)")
def _migrate(results: Results) -> Verdict:
    seconds = results.median(MIGRATE, MIGRATE_STEP, "dvlite")
    if seconds is None:
        return Verdict(None, "not measured")
    return Verdict(True, f"{seconds:.1f} s")
