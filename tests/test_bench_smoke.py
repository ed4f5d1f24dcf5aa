"""The benchmark harness itself runs (tiny data, dvlite and the plain-copy floor, no DVC)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_quick_runs_dvlite_alone(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--only",
            "dvlite,cp",
            "--no-doc",
            "-w",
            "files",
            "-w",
            "big",
        ],
        cwd=ROOT,
        env={**os.environ, "DVLITE_BENCH_WORK": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for step in ("add", "status (clean)", "status (1 changed)", "checkout (empty)"):
        assert f"files    {step}" in proc.stdout
    assert "add of the big file within 1.3× of a plain copy" in proc.stdout
    assert "raw results:" in proc.stdout
