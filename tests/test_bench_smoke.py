"""The benchmark harness itself runs (tiny data; dvlite and the floors, no DVC nor git-lfs)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quick_bench(tmp_path: Path, *args: str) -> str:
    """`python -m bench --quick --no-doc ARGS` (tiny data); its report, once it succeeded."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--no-doc", *args],
        cwd=ROOT,
        env={**os.environ, "DVLITE_BENCH_WORK": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_bench_quick_runs_dvlite_alone(tmp_path: Path) -> None:
    out = quick_bench(tmp_path, "--only", "dvlite,cp", "-w", "files", "-w", "big", "-w", "growth")
    for step in ("add", "status (clean)", "status (1 changed)", "checkout (empty)"):
        assert f"files    {step}" in out
        assert f"growth   {step}" in out
    assert "growth   add (1 changed)" in out
    assert "peak memory of every step ≤ 250 MiB" in out
    assert "add of the big file within 1.3× of a plain copy" in out
    assert "raw results:" in out


def test_bench_quick_remote_workloads(tmp_path: Path) -> None:
    """S3 (moto in the bench process) through the latency proxy, a pack-size variant, the big
    file against a format-1 remote: requests and bytes counted, targets judged."""
    out = quick_bench(
        tmp_path, "--only", "dvlite", "--with", "dvlite-16M", "-w", "s3-20ms", "-w", "bigs3"
    )
    for step in ("push (all)", "status --remote", "pull (fresh clone)", "pull 1 folder (clone)"):
        assert f"s3-20ms  {step}" in out
    assert "dvlite-16M run 1" in out and "dvlite-f1  run 1" in out
    # format 2: one pack and one index file, their bytes counted on the way in
    assert "dvlite     3 requests (1 LIST, 2 PUT); 1.6 MiB sent" in out
    assert "dvlite beside its variants" in out
    assert "in ≤ 4 data requests" in out


def test_bench_quick_chunks(tmp_path: Path) -> None:
    """The chunks workloads (tiny model; dvlite, its format-1 and chunk-size variants and the
    floors): bytes and requests counted, the size study noted, targets judged."""
    out = quick_bench(
        tmp_path,
        "--only",
        "dvlite,cp",
        "--with",
        "dvlite-c128K",
        "-w",
        "chunks",
        "-w",
        "chunks-folder",
    )
    for step in ("push v1 (new file)", "pull v2 (1% in 16 places)", "pull v2 (4 KiB every 64 KiB)"):
        assert f"chunks   {step}" in out
    assert "dvlite-f1  run 1" in out and "dvlite-c128K run 1" in out
    # an edited version: one LIST of index/, one pack of new chunks and the list, the index
    assert "dvlite     3 requests (1 LIST, 2 PUT)" in out
    for step in ("chunk + hash 2 GiB (1 core)", "push fine-tune (90% shared)"):
        assert f"chunks-folder {step}" in out
    assert "chunks: FastCDC 256/32/512 KiB" in out
    # each target's row starts with its label, and says met or MISSED on that line
    for label in ("1 GiB model, 200 B inserted", "model + fine-tune sharing", "chunk + hash ≥"):
        line = next(x for x in out.splitlines() if label in x)
        assert re.search(r"\b(met|MISSED)\b", line), line
