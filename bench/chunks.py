"""Chunked large files (issue 12): a model's second version sends and fetches only the chunks
that changed.

``chunks``: a 1 GiB model of random bytes is added, pushed to S3 (the bench's moto server,
every request counted with its bytes) and pulled into a fresh clone; then, in the same
repository and clone, four second versions of it, each made from v1, are added, pushed, and
pulled by the clone (which holds v1 and the versions before): 1% of the bytes rewritten in 16
places, 200 bytes inserted at the front, and 4 KiB rewritten every 400 KiB or every 64 KiB
(changes spread over the whole file). Side by side: DVC (whole files; one run, its bytes do
not vary), ``dvlite-f1`` (a format-1 remote stores big files whole: dvlite without chunks,
"today"), and the floor for the first push and pull, a plain s3fs ``put``/``get`` of the file
(bench/s3copy.py). ``--with dvlite-c128K,dvlite-c256K`` adds dvlite with FastCDC averages of
128 and 256 KiB (bench/chunksize.py; pushes only, one run). The first run also cuts every
version with each average straight through pyfastcdc (``chunksize.study``) and notes the
bytes, chunks, lists, index files and requests of each push.

``chunks-folder``: to a folder remote, with git-lfs beside dvlite and DVC (a bare repository
as a file:// remote, git-lfs's standalone transfer): chunk + hash speed of the 2 GiB file on
one core; the first push of that file against ``cat a > b``; then the model pushed, pulled, a
fine-tune sharing 90% of its bytes pushed (the remote's ``du -sb`` before and after each
push), and the 16-places version pushed and pulled. On a folder the bytes a step "sent" are
what the remote folder grew by.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import xxhash

from bench.chunksize import study_notes
from bench.data import DATA, big_file, copy_in
from bench.harness import (
    BenchError,
    Results,
    Run,
    Sample,
    Verdict,
    human_bytes,
    scenario,
    target,
    variant,
)
from bench.remotes import FORMAT1, _commit, _remote, _s3_remote, _timed
from bench.s3server import S3Server, server

CHUNKS, CHUNKS_FOLDER = "chunks", "chunks-folder"
MODEL = 1 << 30  # the model's size (the data set's big file's, if smaller: --quick)
RUNS = 3  # runs of each tool at most (medians of 3), whatever --runs says
CHUNKSIZE = Path(__file__).with_name("chunksize.py")
S3COPY = Path(__file__).with_name("s3copy.py")
AVERAGES = (64, 128, 256)  # KiB: dvlite's, and the larger ones measured beside it
SIZED = tuple(variant(f"dvlite-c{k}K", "dvlite", str(CHUNKSIZE), str(k)) for k in AVERAGES[1:])
GIT_LFS = "git-lfs"
HAS_LFS = shutil.which("git-lfs") is not None
ONCE = ("dvc", *SIZED)  # run once: the bytes they move do not vary, and DVC's are 1 GiB a step


@dataclass(frozen=True)
class Edit:
    name: str  # the version's file, under the data folder
    label: str  # in the steps' names
    spread: bool = False  # changes over the whole file: judged against a whole-file push

    @property
    def push(self) -> str:
        return f"push v2 ({self.label})"

    @property
    def pull(self) -> str:
        return f"pull v2 ({self.label})"


PLACES = Edit("places", "1% in 16 places")
FRONT = Edit("front", "200 B at the front")
SPREAD = Edit("spread400", "4 KiB every 400 KiB", True)
DENSE = Edit("spread64", "4 KiB every 64 KiB", True)
EDITS = (PLACES, FRONT, SPREAD, DENSE)
PUSH1, PULL1 = "push v1 (new file)", "pull v1 (fresh clone)"
BIG_PUSH, SPEED = "push 2 GiB (new file)", "chunk + hash 2 GiB (1 core)"
TUNE = "push fine-tune (90% shared)"
S3_STEPS = (PUSH1, PULL1, *(s for e in EDITS for s in (e.push, e.pull)))
FOLDER_STEPS = (SPEED, BIG_PUSH, PUSH1, PULL1, TUNE, PLACES.push, PLACES.pull)


# -- the model and its versions ---------------------------------------------------------------
def _model_size(run: Run) -> int:
    return min(MODEL, run.sizes.big)


def _places(size: int, fraction: float, count: int = 16) -> list[tuple[int, int]]:
    """``count`` runs of bytes, ``fraction`` of the file in all, evenly spread."""
    n = max(1, int(size * fraction) // count)
    return [((2 * i + 1) * size // (2 * count) - n // 2, n) for i in range(count)]


def _every(size: int, step: int, n: int = 4 << 10) -> list[tuple[int, int]]:
    return [(at, n) for at in range(step // 2, size - n, step)]


def _write(src: Path, dest: Path, edits: list[tuple[int, int]], front: bytes = b"") -> None:
    """``src`` with the byte runs ``edits`` (offset, length) rewritten with random bytes."""
    tmp = dest.with_name(dest.name + ".partial")
    todo = iter(sorted(edits))
    edit = next(todo, None)
    with open(src, "rb") as fi, open(tmp, "wb") as fo:
        fo.write(front)
        at = 0
        while block := fi.read(16 << 20):
            buf = bytearray(block)
            end = at + len(buf)
            while edit is not None and edit[0] < end:
                lo, hi = max(edit[0], at), min(edit[0] + edit[1], end)
                buf[lo - at : hi - at] = os.urandom(hi - lo)
                if edit[0] + edit[1] > end:
                    break  # goes on into the next block
                edit = next(todo, None)
            fo.write(buf)
            at = end
    tmp.rename(dest)


def model_files(size: int) -> dict[str, Path]:
    """v1 (random bytes), its versions and a fine-tune (10% rewritten in 16 places), made
    once under the data folder."""
    top = DATA / f"model-{size}"
    names = ("v1", *(e.name for e in EDITS), "tune")
    files = {n: top / f"{n}.bin" for n in names}
    done = top / ".done"
    if done.exists():
        return files
    top.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(big_file(size), files["v1"])
    v1 = files["v1"]
    _write(v1, files[PLACES.name], _places(size, 0.01))
    _write(v1, files[FRONT.name], [], front=os.urandom(200))
    _write(v1, files[SPREAD.name], _every(size, 400 << 10))
    _write(v1, files[DENSE.name], _every(size, 64 << 10))
    _write(v1, files["tune"], _places(size, 0.10))
    done.touch()
    return files


def _digest(path: Path) -> bytes:
    h = xxhash.xxh3_128()
    with open(path, "rb", buffering=0) as f:
        while block := f.read(16 << 20):
            h.update(block)
    return h.digest()


@functools.cache
def _data_digest(path: Path, mtime_ns: int) -> bytes:
    return _digest(path)


def _check(run: Run, got: Path, want: Path) -> None:
    if not got.is_file() or _digest(got) != _data_digest(want, want.stat().st_mtime_ns):
        raise BenchError(f"{run.tool.name}: {got} does not hold the bytes of {want.name}")


def _place(run: Run, src: Path, dest: Path) -> None:
    """``src`` as ``dest`` in a repository: a link for the tools that only read what they add
    (dvlite, git-lfs), a copy for DVC (it moves the file into its cache)."""
    if dest.exists():
        dest.unlink()  # a new file, never written through a link to the data set
    if run.tool.name == "dvc":
        copy_in(src, dest)
    else:
        os.link(src, dest)


# -- set-up -----------------------------------------------------------------------------------
def _repo(run: Run) -> Path:
    repo = run.fresh_repo()
    run.sh(["git", "symbolic-ref", "HEAD", "refs/heads/main"])  # what a git-lfs clone checks out
    with open(repo / ".git" / "info" / "exclude", "a") as f:
        f.write("/clone/\n/remote/\n/remote.git/\n")  # they live beside the data, untracked
    if run.tool.name == "dvc":  # what dvlite's default reflink,copy is on a non-reflink fs
        run.sh(run.tool.argv("config", "cache.type", "copy"))
    elif run.tool.name == GIT_LFS:
        run.sh(["git", "lfs", "install", "--local"])
        run.sh(["git", "lfs", "track", "*.bin"])
    return repo


def _add(run: Run, repo: Path, name: str, message: str) -> None:
    if run.tool.name != GIT_LFS:
        run.sh(run.tool.argv("add", name), cwd=repo)
    _commit(run, repo, message)


def _push(run: Run) -> list[str]:
    return (
        ["git", "push", "-q", "origin", "main"]
        if run.tool.name == GIT_LFS
        else run.tool.argv("push")
    )


def _pull(run: Run) -> list[str]:
    return ["git", "lfs", "pull"] if run.tool.name == GIT_LFS else run.tool.argv("pull")


def _clone(run: Run, repo: Path, url: str) -> Path:
    clone = run.dir / "clone"
    if run.tool.name == GIT_LFS:  # the data comes with the timed `git lfs pull`
        run.sh(
            ["env", "GIT_LFS_SKIP_SMUDGE=1", "git", "clone", "-q", "-b", "main", url, str(clone)]
        )
        run.sh(["git", "lfs", "install", "--local"], cwd=clone)
    else:
        run.sh(["git", "clone", "-q", str(repo), str(clone)])
    return clone


def _update(run: Run, clone: Path) -> None:
    """The clone's git catches up (untimed); its data is left to the timed pull."""
    run.sh(["env", "GIT_LFS_SKIP_SMUDGE=1", "git", "pull", "-q", "--ff-only"], cwd=clone)


# -- S3 ---------------------------------------------------------------------------------------
def _edits(tool: str) -> tuple[Edit, ...]:
    if tool == FORMAT1:  # any version is sent whole: the spread ones are what it is judged by
        return tuple(e for e in EDITS if e.spread)
    return EDITS


@scenario(
    CHUNKS,
    "1 GiB model (--quick: 8 MiB), v1 then 4 edited versions, to S3 (moto on 127.0.0.1); "
    "floor: s3fs put/get",
    "1 GiB model, S3",
    S3_STEPS,
    tools=("dvlite", FORMAT1, "dvc", "cp"),
    optional_tools=SIZED,
    max_runs=1,
    many_files=False,
    capped=ONCE,
)
def chunks_s3(run: Run) -> None:
    if run.index >= RUNS:
        return
    size = _model_size(run)
    files = model_files(size)
    notes = run.harness.results.notes
    if run.index == 0 and run.tool.name == "dvlite":
        notes.append(f"{CHUNKS}: at most {RUNS} runs of each tool (medians of {RUNS})")
        versions = {e.label: files[e.name] for e in EDITS}
        notes.extend(study_notes(CHUNKS, files["v1"], versions, [k << 10 for k in AVERAGES]))
    s3 = server(run)
    try:
        _s3_versions(run, files, s3)
    finally:
        s3.reset()


def _s3_versions(run: Run, files: dict[str, Path], s3: S3Server) -> None:
    if run.is_baseline:
        _s3_floor(run, files["v1"], s3)
        return
    repo = _repo(run)
    _place(run, files["v1"], repo / "model.bin")
    _add(run, repo, "model.bin", "v1")
    _s3_remote(run, repo, s3, s3.endpoint)
    _timed(run, PUSH1, run.tool.argv("push"), s3)
    sized = run.tool.name in SIZED  # the chunk size changes what a push sends: pushes only
    clone = None if sized else _clone(run, repo, "")
    if clone is not None:
        _timed(run, PULL1, run.tool.argv("pull"), s3, cwd=clone)
        _check(run, clone / "model.bin", files["v1"])
    for edit in _edits(run.tool.name):
        _place(run, files[edit.name], repo / "model.bin")
        _add(run, repo, "model.bin", edit.label)
        _timed(run, edit.push, run.tool.argv("push"), s3)
        if clone is not None:
            _update(run, clone)
            _timed(run, edit.pull, run.tool.argv("pull"), s3, cwd=clone)
            _check(run, clone / "model.bin", files[edit.name])


def _s3_floor(run: Run, v1: Path, s3: S3Server) -> None:
    top = run.dir / "put"
    top.mkdir(parents=True)
    os.link(v1, top / "model.bin")
    bucket = f"bench-{CHUNKS}-cp-{run.index}"
    s3.create_bucket(bucket)
    url = f"s3://{bucket}/files"
    _timed(run, PUSH1, [sys.executable, str(S3COPY), "put", str(top), url, s3.endpoint], s3)
    got = run.dir / "got"
    got.mkdir()
    get = [sys.executable, str(S3COPY), "get", str(got), url, s3.endpoint, str(top)]
    _timed(run, PULL1, get, s3)
    _check(run, got / "model.bin", v1)


# -- folder remote, git-lfs -------------------------------------------------------------------
def _du(path: Path) -> int:
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def _counted(run: Run, step: str, argv: list[str], remote: Path) -> None:
    """Time a push to a folder; what it sent is what the remote folder grew by."""
    before = _du(remote)
    run.timed(step, argv)
    run.count(step, {}, sent=_du(remote) - before)


def _speed(run: Run, big: Path) -> None:
    """chunks.cut and the whole-file hash over a file in the page cache, timed in the
    subprocess itself (no interpreter start-up)."""
    run.sh(["sh", "-c", f"cat '{big}' > /dev/null"], cwd=big.parent)
    load = os.getloadavg()[0]
    argv = [sys.executable, str(CHUNKSIZE), "speed", str(big)]
    proc = subprocess.run(argv, env=run.harness.env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    seconds = float(proc.stdout.split()[-1])
    run.harness.record(Sample(CHUNKS_FOLDER, SPEED, run.tool.name, run.index, seconds, 0, load))


def _big_push(run: Run, big: Path) -> None:
    repo = _repo(run)
    os.link(big, repo / "big.bin")
    _add(run, repo, "big.bin", "big file")
    (repo / "remote").mkdir()
    _remote(run, repo, str(repo / "remote"))
    run.timed(BIG_PUSH, run.tool.argv("push"))


def _folder_floor(run: Run, big: Path, v1: Path) -> None:
    (run.dir / "remote").mkdir(parents=True)
    run.timed(BIG_PUSH, ["sh", "-c", f"cat '{big}' > remote/big.bin"])
    run.timed(PUSH1, ["sh", "-c", f"cat '{v1}' > remote/model.bin"])
    clone = run.dir / "clone"
    clone.mkdir()
    run.timed(PULL1, ["sh", "-c", "cat ../remote/model.bin > model.bin"], cwd=clone)


def _pull_one(run: Run, name: str) -> list[str]:
    if run.tool.name == GIT_LFS:
        return ["git", "lfs", "pull", "--include", name]
    return run.tool.argv("pull", f"{name}.dvc" if run.tool.name == "dvc" else name)


@scenario(
    CHUNKS_FOLDER,
    "1 GiB model (--quick: 8 MiB), a fine-tune and a new version to a folder remote, "
    "git-lfs beside; floor: `cat a > b`",
    "1 GiB model, folder",
    FOLDER_STEPS,
    tools=("dvlite", "dvc", *((GIT_LFS,) if HAS_LFS else ()), "cp"),
    max_runs=RUNS,
    many_files=False,
)
def chunks_folder(run: Run) -> None:
    files = model_files(_model_size(run))
    big = big_file(run.sizes.big)
    if run.index == 0 and run.tool.name == "dvlite" and not HAS_LFS:
        run.harness.results.notes.append(f"{CHUNKS_FOLDER}: git-lfs is not installed, left out")
    if run.is_baseline:
        _folder_floor(run, big, files["v1"])
        return
    if run.tool.name == "dvlite":
        _speed(run, big)
        _big_push(run, big)
    lfs = run.tool.name == GIT_LFS
    repo = _repo(run)
    remote = repo / ("remote.git" if lfs else "remote")
    _place(run, files["v1"], repo / "model.bin")
    _add(run, repo, "model.bin", "v1")
    if lfs:
        run.sh(["git", "init", "-q", "--bare", "-b", "main", str(remote)])
        run.sh(["git", "remote", "add", "origin", f"file://{remote}"])
    else:
        remote.mkdir()
        _remote(run, repo, str(remote))
    _counted(run, PUSH1, _push(run), remote)
    clone = _clone(run, repo, f"file://{remote}")
    run.timed(PULL1, _pull(run), cwd=clone)
    _check(run, clone / "model.bin", files["v1"])
    _place(run, files["tune"], repo / "tune.bin")
    _add(run, repo, "tune.bin", "fine-tune")
    _counted(run, TUNE, _push(run), remote)
    _place(run, files[PLACES.name], repo / "model.bin")
    _add(run, repo, "model.bin", PLACES.label)
    _counted(run, PLACES.push, _push(run), remote)
    _update(run, clone)
    run.timed(PLACES.pull, _pull_one(run, "model.bin"), cwd=clone)
    _check(run, clone / "model.bin", files[PLACES.name])


# -- targets ----------------------------------------------------------------------------------
def _of(results: Results) -> int:
    return min(MODEL, results.sizes.big)


def _moved(results: Results, edit: Edit, tool: str) -> tuple[int, int, int] | None:
    """(bytes sent by the push, requests of the push, bytes received by the pull) of ``edit``."""
    push, pull = (results.transferred(CHUNKS, s, tool) for s in (edit.push, edit.pull))
    n = results.requests_total(CHUNKS, edit.push, tool)
    return None if push is None or pull is None or n is None else (push[0], n, pull[1])


def _small(results: Results, edit: Edit) -> Verdict:
    size, mine = _of(results), _moved(results, edit, "dvlite")
    if mine is None:
        return Verdict(None, "not measured")
    sent, n, got = mine
    ok = sent <= 0.03 * size and got <= 0.03 * size and n <= 10
    detail = (
        f"push {human_bytes(sent)} ({sent / size:.2%}) in {n} requests, pull "
        f"{human_bytes(got)} ({got / size:.2%}) (targets ≤ 3%, ≤ 10 requests"
    )
    if (dvc := _moved(results, edit, "dvc")) is not None:
        detail += f"; DVC {human_bytes(dvc[0])} in {dvc[1]} requests, {human_bytes(dvc[2])}"
    return Verdict(ok, detail + ")")


@target("1 GiB model, 1% changed in 16 places: push ≤ 3% of its bytes in ≤ 10 requests, pull ≤ 3%")
def _places_target(results: Results) -> Verdict:
    return _small(results, PLACES)


@target("1 GiB model, 200 B inserted at the front: push ≤ 3% in ≤ 10 requests, pull ≤ 3%")
def _front_target(results: Results) -> Verdict:
    return _small(results, FRONT)


NOISE = 1.1


@target("changes spread over the whole model: push and pull within 1.1× of a whole-file one")
def _spread_target(results: Results) -> Verdict:
    parts, ok = [], True
    for edit in (SPREAD, DENSE):
        for step in (edit.push, edit.pull):
            r = results.ratio(CHUNKS, step, slow="dvlite", fast=FORMAT1)
            if r is None:
                return Verdict(None, "not measured")
            dvc = results.ratio(CHUNKS, step, slow="dvlite", fast="dvc")
            parts.append(f"{step} {r:.2f}×" + ("" if dvc is None else f" (DVC's: {dvc:.2f}×)"))
            ok = ok and r <= NOISE
    return Verdict(ok, f"{', '.join(parts)} the time of format 1's (target ≤ {NOISE:g}×)")


@target("chunk + hash ≥ 1 GB/s on one core")
def _speed_target(results: Results) -> Verdict:
    t = results.median(CHUNKS_FOLDER, SPEED, "dvlite")
    if t is None:
        return Verdict(None, "not measured")
    rate = results.sizes.big / t / 1e9
    return Verdict(rate >= 1, f"{rate:.2f} GB/s over {human_bytes(results.sizes.big)} (target ≥ 1)")


def _first(results: Results, sc: str, step: str, within: float, floor: str) -> Verdict:
    r = results.ratio(sc, step, slow="dvlite", fast="cp")
    if r is None:
        return Verdict(None, "not measured")
    return Verdict(r <= within, f"{r:.2f}× the time of {floor} (target ≤ {within:g}×)")


@target("first push of a new 2 GiB file to a folder remote within 1.5× of `cat a > b`")
def _first_folder(results: Results) -> Verdict:
    return _first(results, CHUNKS_FOLDER, BIG_PUSH, 1.5, "`cat a > b`")


@target("first push of a new big file (the 1 GiB model) to S3 within 1.25× of a plain s3fs put")
def _first_s3(results: Results) -> Verdict:
    return _first(results, CHUNKS, PUSH1, 1.25, "an s3fs put of the file")


@target("model + fine-tune sharing 90% of their bytes: ≤ 1.2× the space of one on the remote")
def _space(results: Results) -> Verdict:
    parts, mine = [], None
    for tool in ("dvlite", "dvc", GIT_LFS):
        one, tune = (results.transferred(CHUNKS_FOLDER, s, tool) for s in (PUSH1, TUNE))
        if one is None or tune is None or not one[0]:
            continue
        r = (one[0] + tune[0]) / one[0]
        mine = r if tool == "dvlite" else mine
        parts.append(f"{tool} {human_bytes(one[0] + tune[0])}, {r:.2f}×")
    if mine is None:
        return Verdict(None, "not measured")
    return Verdict(mine <= 1.2, f"`du -sb` of the remote: {'; '.join(parts)} (target ≤ 1.2×)")
