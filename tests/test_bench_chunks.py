"""The chunks workloads run (tiny model, dvlite, its format-1 and chunk-size variants and the
floors, no DVC nor git-lfs): bytes and requests counted, the size study noted, targets judged."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_quick_chunks(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "bench", "--quick", "--no-doc"),
            *(
                "--only",
                "dvlite,cp",
                "--with",
                "dvlite-c128K",
                "-w",
                "chunks",
                "-w",
                "chunks-folder",
            ),
        ],
        cwd=ROOT,
        env={**os.environ, "DVLITE_BENCH_WORK": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
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
