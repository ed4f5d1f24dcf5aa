"""Core workloads (issue 2): add, status and checkout of many small files, add of one big
file against a plain copy, and how add and status grow from 20k to 200k files."""

from __future__ import annotations

import os
from pathlib import Path

from bench.data import big_file, copy_in, files_dir
from bench.harness import Results, Run, Verdict, faster_than_dvc, scenario, target

FILES, BIG, GROWTH = "files", "big", "growth"
ADD, CLEAN, CHANGED, CHECKOUT = "add", "status (clean)", "status (1 changed)", "checkout (empty)"
ADD_CHANGED = "add (1 changed)"


@scenario(
    FILES,
    "{files:,} files of {file_size} B in {folders} folders",
    "{files:,} files",
    (ADD, CLEAN, CHANGED, CHECKOUT),
)
def many_files(run: Run) -> None:
    s = run.sizes
    src = files_dir(s.files, s.folders, s.file_size)
    repo = run.fresh_repo()
    data = repo / "data"
    copy_in(src, data)
    run.timed(ADD, run.tool.argv("add", "data"))
    run.timed(CLEAN, run.tool.argv("status"))
    victim = next(p for p in sorted((data / "part-0000").iterdir()))
    os.chmod(victim, 0o644)  # a copy checked out read-only by a tool is still the user's file
    victim.write_bytes(os.urandom(s.file_size))
    run.timed(CHANGED, run.tool.argv("status"))
    run.discard(data)  # moved out of the repository; deleted when the benchmark ends
    run.timed(CHECKOUT, run.tool.argv("checkout"))
    restored = sum(len(files) for _, _, files in os.walk(data))
    if restored != s.files:
        raise AssertionError(f"{run.tool.name} checkout restored {restored} of {s.files} files")


@scenario(
    BIG,
    "one file of {big_size} (copy links)",
    "1 file of {big_size}",
    (ADD,),
    tools=("dvlite", "dvc", "cp"),
    many_files=False,
)
def one_big_file(run: Run) -> None:
    src = big_file(run.sizes.big)
    repo = run.fresh_repo()
    copy_in(src, repo / "model.bin")
    if run.is_baseline:  # the floor: the same bytes read and written once
        run.timed(ADD, ["sh", "-c", "cat model.bin > model-copy.bin"])
        return
    if run.tool.name == "dvc":  # what dvlite's default reflink,copy is on a non-reflink fs
        run.sh(run.tool.argv("config", "cache.type", "copy"))
    run.timed(ADD, run.tool.argv("add", "model.bin"))


@scenario(
    GROWTH,
    "{growth_files:,} files of {file_size} B in {growth_folders} folders",
    "{growth_files:,} files",
    (ADD, CLEAN, CHANGED, ADD_CHANGED, CHECKOUT),
    tools=("dvlite", "cp"),
    optional_tools=("dvc",),
    max_runs=3,
)
def growth(run: Run) -> None:
    s = run.sizes
    src = files_dir(s.growth_files, s.growth_folders, s.file_size)
    repo = run.fresh_repo()
    data = repo / "data"
    if run.is_baseline:
        _growth_floor(run, src, data)
        return
    if run.tool.name != "dvlite":
        copy_in(src, data)  # DVC moves files into its cache; give it a copy
    else:
        # dvlite only reads the files it adds (copy links), so the data set is moved in and
        # back out instead of copying 200k files for every run
        os.rename(src, data)
    try:
        run.timed(ADD, run.tool.argv("add", "data"))
        run.timed(CLEAN, run.tool.argv("status"))
        victim = min((data / "part-0000").iterdir())
        original = victim.read_bytes()
        os.chmod(victim, 0o644)
        victim.write_bytes(os.urandom(s.file_size))
        run.timed(CHANGED, run.tool.argv("status"))
        run.timed(ADD_CHANGED, run.tool.argv("add", "data"))
        victim.write_bytes(original)  # the data set is kept for the next run
        if run.tool.name == "dvlite":
            os.rename(data, src)
            data = src
        else:
            run.discard(data)
        run.timed(CHECKOUT, run.tool.argv("checkout"))
        restored = sum(len(files) for _, _, files in os.walk(repo / "data"))
        if restored != s.growth_files:
            raise AssertionError(f"{run.tool.name} checkout restored {restored} files")
    finally:
        if run.tool.name == "dvlite" and data != src:
            os.rename(data, src)


def _growth_floor(run: Run, src: Path, data: Path) -> None:
    """What the steps cost the file system alone: every file read into one archive (as add
    writes packs), a stat of every file (a clean status), every file created again from
    the archive (a checkout from packs)."""
    os.rename(src, data)
    try:
        run.timed(ADD, ["tar", "-cf", "floor.tar", "data"])
        run.timed(CLEAN, ["du", "-s", "data"])
        run.timed(CHANGED, ["du", "-s", "data"])
    finally:
        os.rename(data, src)
    run.timed(CHECKOUT, ["tar", "-xf", "floor.tar"])
    run.discard(data)
    (run.dir / "floor.tar").unlink()


# -- targets ----------------------------------------------------------------------------------
def _faster(results: Results, step: str, want: float) -> Verdict:
    return faster_than_dvc(results, FILES, step, want)


@target("add 20k files ≥ 10× faster than DVC")
def _add(results: Results) -> Verdict:
    return _faster(results, ADD, 10)


@target("status, nothing changed, ≥ 8× faster than DVC")
def _status(results: Results) -> Verdict:
    return _faster(results, CLEAN, 8)


@target("checkout 20k files into an empty workspace ≥ 5× faster than DVC")
def _checkout(results: Results) -> Verdict:
    return _faster(results, CHECKOUT, 5)


@target("add of the big file within 1.3× of a plain copy")
def _big(results: Results) -> Verdict:
    r = results.ratio(BIG, ADD, slow="dvlite", fast="cp")
    if r is None:
        return Verdict(None, "not measured")
    return Verdict(r <= 1.3, f"{r:.2f}× the time of `cat a > b` (target ≤ 1.3×)")


@target("10× the files: time grows no worse than linearly")
def _linear(results: Results) -> Verdict:
    factor = results.sizes.growth_files / results.sizes.files
    parts, ok = [], True
    for step in (ADD, CLEAN, CHANGED, CHECKOUT):
        small, large = results.median(FILES, step, "dvlite"), results.median(GROWTH, step, "dvlite")
        if small is None or large is None:
            return Verdict(None, "not measured")
        parts.append(f"{step} {large / small:.1f}×")
        ok = ok and large / small <= factor
    return Verdict(ok, f"{', '.join(parts)} for {factor:g}× the files (target ≤ {factor:g}×)")


@target("growth data set: peak memory of every step ≤ 250 MiB")
def _memory(results: Results) -> Verdict:
    steps = (ADD, CLEAN, CHANGED, ADD_CHANGED, CHECKOUT)
    peaks = {step: results.peak_mib(GROWTH, step, "dvlite") for step in steps}
    if None in peaks.values():
        return Verdict(None, "not measured")
    shown = ", ".join(f"{step} {peak:.0f}" for step, peak in peaks.items())
    return Verdict(all(p is not None and p <= 250 for p in peaks.values()), f"MiB: {shown}")


@target("growth data set: clean status ≥ 10× faster than DVC (with --with dvc)")
def _growth_status(results: Results) -> Verdict:
    return faster_than_dvc(results, GROWTH, CLEAN, 10, "not measured (needs --with dvc)")
