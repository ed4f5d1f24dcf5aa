"""Generated data sets, made once under bench/.work/data and reused by every run."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from bench.harness import WORK, rmtree

DATA = WORK / "data"


def files_dir(count: int, folders: int, size: int) -> Path:
    """``count`` files of ``size`` random bytes spread over ``folders`` folders."""
    dest = DATA / f"files-{count}x{size}-in-{folders}"
    done = dest.with_name(dest.name + ".done")
    if done.exists():
        return dest
    tmp = dest.with_name(dest.name + ".partial")
    if tmp.exists():
        rmtree(tmp)
    per_folder = -(-count // folders)
    made = 0
    for d in range(folders):
        folder = tmp / f"part-{d:04d}"
        folder.mkdir(parents=True)
        for _ in range(min(per_folder, count - made)):
            with open(folder / f"file-{made:06d}.bin", "wb") as f:
                f.write(os.urandom(size))
            made += 1
    if dest.exists():
        rmtree(dest)
    tmp.rename(dest)
    done.touch()
    return dest


def big_file(size: int) -> Path:
    """One file of ``size`` random bytes."""
    dest = DATA / f"big-{size}.bin"
    if dest.exists() and dest.stat().st_size == size:
        return dest
    DATA.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    block = os.urandom(16 << 20)
    with open(tmp, "wb") as f:
        written = 0
        while written < size:
            # fresh bytes in every block so nothing can deduplicate or compress them
            chunk = os.urandom(min(len(block), size - written))
            f.write(chunk)
            written += len(chunk)
    tmp.rename(dest)
    return dest


def copy_in(src: Path, dest: Path) -> None:
    """A private copy of a data set for one run (the tools may move or re-create its files)."""
    if src.is_dir():
        subprocess.run(["cp", "-r", str(src), str(dest)], check=True)
    else:
        shutil.copyfile(src, dest)


def link_in(src: Path, dest: Path) -> None:
    """Hard links to a data set's files, for a tool that only reads them; a file the run
    changes must be replaced (unlinked, then written), never written in place."""
    subprocess.run(["cp", "-al", str(src), str(dest)], check=True)
