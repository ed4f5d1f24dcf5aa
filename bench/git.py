"""Git workloads (issue 5): a branch switch where 1 of 20k files differs.

dvlite updates the data from its post-checkout hook, so its time is ``git checkout`` with the
hooks `dvlite install` wrote, timed as a whole. DVC has no such hook by default: the user runs
``git checkout`` and then ``dvc checkout``; the latter is what dvlite is judged against, and the
plain ``git checkout`` before it is timed apart, as context.

Register it with one line in bench/__main__.py: ``from bench import git  # noqa: F401``.
"""

from __future__ import annotations

import os
import shutil

from bench.data import copy_in, files_dir
from bench.harness import BenchError, Results, Run, Verdict, faster_than_dvc, scenario, target

SWITCH = "switch"
DATA_STEP, GIT_STEP = "branch switch (data)", "git checkout alone"
SWITCHES = 2  # per run: to the other branch and back, each a real switch
NOTE = (
    f"{SWITCH}: dvlite = `git checkout` with dvlite's hooks (the post-checkout hook updates the "
    "data), timed as a whole; DVC = `dvc checkout` after a `git checkout` without hooks, which "
    f"is timed apart as `{GIT_STEP}`"
)


@scenario(
    SWITCH,
    "branch switch, 1 of {files:,} files of {file_size} B differs",
    "switch, 1 of {files:,} differs",
    (DATA_STEP, GIT_STEP),
)
def branch_switch(run: Run) -> None:
    if NOTE not in run.harness.results.notes:
        run.harness.results.notes.append(NOTE)
    s = run.sizes
    src = files_dir(s.files, s.folders, s.file_size)
    repo = run.fresh_repo()
    dvlite = run.tool.name == "dvlite"
    if dvlite:
        found = shutil.which("dvlite", path=run.harness.env["PATH"])
        if found is None or os.path.realpath(found) != os.path.realpath(run.tool.exe):
            raise BenchError(f"the hooks would run {found}, not {run.tool.exe}; check PATH")
        run.sh(run.tool.argv("install"))
    data = repo / "data"
    copy_in(src, data)
    run.sh(run.tool.argv("add", "data"))
    run.sh(["git", "add", "-A"])
    run.sh(["git", "commit", "-q", "-m", "20k files"])
    run.sh(["git", "branch", "-M", "main"])

    # the other branch: one file changed
    victim = next(p for p in sorted((data / "part-0000").iterdir()))
    contents = {"main": victim.read_bytes(), "other": os.urandom(s.file_size)}
    run.sh(["git", "checkout", "-q", "-b", "other"])
    os.unlink(victim)  # a new file, whatever link the tool checked out
    victim.write_bytes(contents["other"])
    run.sh(run.tool.argv("add", "data"))
    run.sh(["git", "add", "-A"])
    run.sh(["git", "commit", "-q", "-m", "1 file changed"])
    run.sh(["git", "checkout", "-q", "main"])
    if not dvlite:
        run.sh(run.tool.argv("checkout"))
    _expect(run, victim.read_bytes(), contents["main"], "main (set-up)")

    branch = "main"
    for _ in range(SWITCHES):
        branch = "other" if branch == "main" else "main"
        if dvlite:
            run.timed(DATA_STEP, ["git", "checkout", "-q", branch])
        else:
            run.timed(GIT_STEP, ["git", "checkout", "-q", branch])
            run.timed(DATA_STEP, run.tool.argv("checkout"))
        _expect(run, victim.read_bytes(), contents[branch], branch)


def _expect(run: Run, got: bytes, want: bytes, branch: str) -> None:
    if got != want:
        raise BenchError(f"{run.tool.name}: the changed file does not hold {branch}'s data")


@target("branch switch with 1 of 20k files changed ≥ 10× faster than DVC's checkout")
def _switch(results: Results) -> Verdict:
    return faster_than_dvc(results, SWITCH, DATA_STEP, 10)
