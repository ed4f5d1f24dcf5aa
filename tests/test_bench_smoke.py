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


def test_bench_quick_remote_workloads(tmp_path: Path) -> None:
    """S3 (moto in the bench process) through the latency proxy, a pack-size variant, the big
    file against a format-1 remote: requests and bytes counted, targets judged."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--only",
            "dvlite",
            "--with",
            "dvlite-16M",
            "--no-doc",
            "-w",
            "s3-20ms",
            "-w",
            "bigs3",
        ],
        cwd=ROOT,
        env={**os.environ, "DVLITE_BENCH_WORK": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for step in ("push (all)", "status --remote", "pull (fresh clone)", "pull 1 folder (clone)"):
        assert f"s3-20ms  {step}" in out
    assert "dvlite-16M run 1" in out and "dvlite-f1  run 1" in out
    # format 2: one pack and one index file, their bytes counted on the way in
    assert "dvlite     3 requests (1 LIST, 2 PUT); 1.6 MiB sent" in out
    assert "dvlite beside its variants" in out
    assert "in ≤ 4 data requests" in out
