"""A small real pipeline for the pipeline tests: every stage runs ``tool.py``, a stdlib script
that logs its run in runs.log and writes an output from its inputs and params."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from helpers import git

from dvlite.records.repo import Repo

PY = shlex.quote(sys.executable)

TOOL = r"""
import json, os, sys, time
name, out, *rest = sys.argv[1:]
with open("runs.log", "a") as log:
    log.write(name + "\n")
params = json.load(open("params.yaml"))
parts = [name]
for arg in rest:
    if arg.startswith("p="):
        node = params
        for key in arg[2:].split("."):
            node = node[key]
        parts.append(f"{arg[2:]}={node}")
    elif os.path.isdir(arg):
        for f in sorted(os.listdir(arg)):
            parts.append(open(os.path.join(arg, f)).read())
    else:
        parts.append(open(arg).read())
if out.endswith("/"):
    os.makedirs(out, exist_ok=True)
    open(os.path.join(out, "part.txt"), "w").write("|".join(parts))
else:
    open(out, "w").write("|".join(parts))
"""

EVALUATE = (
    "import json; score = len(open('model.bin').read()); "
    "open('metrics.json','w').write(json.dumps({'score': score})); "
    "open('runs.log','a').write('evaluate\\n')"
)

PARAMS = '{"prepare": {"seed": 1}, "train": {"lr": 0.1, "layers": 2}}\n'


def tool(*args: str) -> str:
    return f"{PY} tool.py " + " ".join(args)


def make_pipeline(repo: Repo) -> None:
    """prepare -> train -> evaluate, and `stats` beside them; raw data added with dvlite."""
    root = repo.root
    (root / "tool.py").write_text(TOOL)
    (root / "params.yaml").write_text(PARAMS)
    (root / ".gitignore").write_text("runs.log\n")
    (root / "data").mkdir()
    (root / "data" / "raw.txt").write_text("raw-1")
    from dvlite.ops.add import add

    add(repo, ["data/raw.txt"])
    stages = {
        "prepare": {
            "cmd": tool("prepare", "data/prepared/", "data/raw.txt", "p=prepare.seed"),
            "deps": ["tool.py", "data/raw.txt"],
            "params": ["prepare.seed"],
            "outs": ["data/prepared"],
        },
        "train": {
            "cmd": tool("train", "model.bin", "data/prepared", "p=train.lr"),
            "deps": ["tool.py", "data/prepared"],
            "params": ["train.lr"],
            "outs": ["model.bin"],
        },
        "evaluate": {
            "cmd": f'{PY} -c "{EVALUATE}"',
            "deps": ["model.bin"],
            "metrics": ["metrics.json"],
        },
        "stats": {
            "cmd": tool("stats", "stats.txt", "data/raw.txt"),
            "deps": ["tool.py", "data/raw.txt"],
            "outs": ["stats.txt"],
        },
    }
    from dvlite.records.pipeline import Pipeline, Stage, save

    save(root, Pipeline({n: Stage.from_dict(n, s) for n, s in stages.items()}))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "pipeline")


def runs(root: Path) -> list[str]:
    """The stages that ran since the last call (and forget them)."""
    log = root / "runs.log"
    if not log.exists():
        return []
    names = log.read_text().split()
    log.unlink()
    return names
