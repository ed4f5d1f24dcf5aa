"""DVC projects made by the real DVC (``.venv-bench/bin/dvc``, the ``dvc`` fixture), for the
tests of ``migrate-dvc``: one made once per test module and copied for each test."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from helpers import TmpDir, git

DVC_YAML = """\
vars:
  - seeds: [1, 2]
stages:
  prepare:
    cmd: python prep.py
    deps: [prep.py, data]
    params: [prepare.split]
    outs: [prepared.txt]
  train:
    cmd: python train.py
    deps: [train.py, prepared.txt]
    params:
      - train.lr
      - other.yaml:
          - depth
    outs: [model.pkl]
    metrics:
      - metrics.json:
          cache: false
  evaluate:
    foreach: ${seeds}
    do:
      cmd: python eval.py ${item}
      deps: [eval.py, model.pkl]
      outs:
        - eval/${item}.txt
"""

FILES = {
    "data": {"raw": {"a.csv": "x,y\n1,2\n", "b.csv": "x,y\n3,4\n"}, "notes.txt": "dos\r\nline\r\n"},
    "tool.sh": "#!/bin/sh\necho hi\n",
    "params.yaml": "prepare:\n  split: 0.2\ntrain:\n  lr: 0.1\n",
    "other.yaml": "depth: 3\n",
    "prep.py": "open('prepared.txt', 'w').write(open('data/raw/a.csv').read())\n",
    "train.py": (
        "open('model.pkl', 'w').write('model')\nopen('metrics.json', 'w').write('{\"acc\": 0.9}')\n"
    ),
    "eval.py": (
        "import os, sys\nos.makedirs('eval', exist_ok=True)\n"
        "open(f'eval/{sys.argv[1]}.txt', 'w').write(sys.argv[1])\n"
    ),
    "dvc.yaml": DVC_YAML,
    ".dvcignore": "# DVC's template\n*.tmp\n",
}


def run_dvc(dvc: Path, cwd: Path, *args: str) -> str:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    proc = subprocess.run([str(dvc), *args], cwd=cwd, capture_output=True, text=True, env=env)
    if proc.returncode != 0 and "-q" in args:  # say why
        args = tuple(a for a in args if a != "-q")
        proc = subprocess.run([str(dvc), *args], cwd=cwd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def make_project(dvc: Path, root: Path, remote: Path) -> Path:
    """A git repository with a DVC project: data/ and tool.sh (executable) added, a pipeline
    of three stages (one a foreach) reproduced, a folder remote and an S3 one whose
    credentials are in .dvc/config.local; all committed."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    TmpDir(root).gen(FILES)
    os.chmod(root / "tool.sh", 0o755)
    run_dvc(dvc, root, "init", "-q")
    run_dvc(dvc, root, "config", "core.analytics", "false")
    run_dvc(dvc, root, "add", "-q", "data", "tool.sh")
    run_dvc(dvc, root, "repro", "-q")
    run_dvc(dvc, root, "remote", "add", "-d", "store", str(remote))
    run_dvc(dvc, root, "remote", "add", "cloud", "s3://bucket/dvc")
    run_dvc(dvc, root, "remote", "modify", "cloud", "endpointurl", "http://127.0.0.1:9")
    run_dvc(dvc, root, "remote", "modify", "--local", "cloud", "secret_access_key", "S3CRET")
    run_dvc(dvc, root, "push", "-q", "-r", "store")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "a DVC project")
    return root


def copy_project(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest, symlinks=True)
    return dest
