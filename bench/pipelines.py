"""Pipeline workloads (issue 4): a 50-stage pipeline, already run; time the no-op repro, the
status, and the dag of dvlite against DVC's equivalents on the same stages.

Register it with one line in bench/__main__.py: ``from bench import pipelines  # noqa: F401``.
"""

from __future__ import annotations

import json

from bench.harness import Results, Run, Verdict, faster_than_dvc, scenario, target

PIPELINE = "pipeline"
STAGES = 50
NOOP, STATUS, DAG = "repro (nothing to do)", "status (pipeline)", "dag"


def _stages() -> dict[str, object]:
    """A chain of 50 stages: each copies the previous stage's output and reads one param.
    dvlite.yaml and dvc.yaml share this shape, so both tools get the same file."""
    return {
        "stages": {
            f"s{i + 1}": {
                "cmd": f"cp data/s{i}.txt data/s{i + 1}.txt",
                "deps": [f"data/s{i}.txt"],
                "params": ["train.lr"],
                "outs": [f"data/s{i + 1}.txt"],
            }
            for i in range(STAGES)
        }
    }


@scenario(
    PIPELINE, f"{STAGES} stages in a chain, already run", f"{STAGES} stages", (NOOP, STATUS, DAG)
)
def pipeline(run: Run) -> None:
    repo = run.fresh_repo()
    (repo / "data").mkdir()
    (repo / "data" / "s0.txt").write_text("seed\n")
    (repo / "params.yaml").write_text("train:\n  lr: 0.1\n")
    # JSON is YAML: no YAML library needed in the harness
    name = "dvlite.yaml" if run.tool.name == "dvlite" else "dvc.yaml"
    (repo / name).write_text(json.dumps(_stages(), indent=1))
    run.sh(run.tool.argv("add", "data/s0.txt"))
    run.sh(run.tool.argv("repro"))  # the first run is set-up, not timed
    last = repo / "data" / f"s{STAGES}.txt"
    if last.read_text() != "seed\n":
        raise AssertionError(f"{run.tool.name} repro did not run the chain")
    run.timed(NOOP, run.tool.argv("repro"))
    run.timed(STATUS, run.tool.argv("status"))
    run.timed(DAG, run.tool.argv("dag"))


@target(f"no-op repro of {STAGES} stages ≥ 8× faster than DVC")
def _noop(results: Results) -> Verdict:
    return faster_than_dvc(results, PIPELINE, NOOP, 8)
