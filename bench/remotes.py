"""Remote workloads (issues 3 and 11): push, `status --remote`, no-op push, push after one
changed file, pull into a fresh clone and pull of one folder into another, of the 20k-file
data set, against a folder remote, against S3 (moto in this process), and against the same S3
through a proxy that adds 20 ms to every request; push and pull of the big file to a folder
and to S3.

dvlite's remotes are storage format 2 (packs and index files: `dvlite remote add` writes
``format = 2``); the variants ``dvlite-16M`` / ``dvlite-64M`` run it with another pack size
(bench/packsize.py) and ``dvlite-f1`` with a format-1 remote (loose objects, as before issue 11).

Every S3 request the tools send is counted by the server, by kind, with the bytes of its body
(bench/s3server.py): on real S3 each costs tens of milliseconds, so requests per step is the
figure that carries over. The floor of the S3 steps is a plain s3fs bulk ``put``/``get`` of the
same files (bench/s3copy.py); the floor of the big-file steps is ``cat a > b``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from bench.data import big_file, copy_in, files_dir, link_in
from bench.harness import BenchError, Run, scenario, variant
from bench.s3server import S3Server, proxy, server
from dvlite.remote import packed

FOLDER, S3, S3_SLOW, BIGREMOTE, BIGS3 = "folder", "s3", "s3-20ms", "bigremote", "bigs3"
PUSH, STATUS, NOOP, CHANGED, PULL, PARTIAL = (
    "push (all)",
    "status --remote",
    "push (nothing new)",
    "push (1 changed)",
    "pull (fresh clone)",
    "pull 1 folder (clone)",
)
STEPS = (PUSH, STATUS, NOOP, CHANGED, PULL, PARTIAL)
BIG_PUSH, BIG_PULL = "push", "pull (fresh clone)"
DELAY_MS = 20  # the latency proxy's wait before every request
S3COPY = Path(__file__).with_name("s3copy.py")
PACKSIZE = Path(__file__).with_name("packsize.py")
# the pack sizes measured besides dvlite's own (32 MiB)
PACK_MIB = tuple(m for m in (16, 32, 64) if m << 20 != packed.PACK_SIZE)
PACKS = tuple(variant(f"dvlite-{m}M", "dvlite", str(PACKSIZE), str(m)) for m in PACK_MIB)
FORMAT1 = variant("dvlite-f1", "dvlite")


# -- setting up -------------------------------------------------------------------------------
def _remote(run: Run, repo: Path, url: str, endpoint: str = "") -> None:
    """Make ``url`` the default remote of the repository, committed like a user would."""
    run.sh(run.tool.argv("remote", "add", "-d", "store", url), cwd=repo)
    if endpoint:
        key = "endpoint_url" if run.is_dvlite else "endpointurl"
        run.sh(run.tool.argv("remote", "modify", "store", key, endpoint), cwd=repo)
    if run.tool.name == FORMAT1:  # loose objects, as every remote was before format 2
        run.sh(run.tool.argv("remote", "modify", "store", "format", "1"), cwd=repo)
    _commit(run, repo, "remote")


def _commit(run: Run, repo: Path, message: str) -> None:
    run.sh(["git", "add", "-A"], cwd=repo)
    run.sh(["git", "commit", "-q", "-m", message], cwd=repo)


def _status_remote(run: Run) -> list[str]:
    if run.is_dvlite:
        return run.tool.argv("status", "--remote")
    return run.tool.argv("status", "-c")


def _count_files(top: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(top))


def _timed(
    run: Run, step: str, argv: list[str], s3: S3Server | None, cwd: Path | None = None
) -> None:
    if s3 is not None:
        s3.take()
    run.timed(step, argv, cwd=cwd)
    if s3 is not None:
        run.count(step, *s3.take())


def _bucket(run: Run) -> str:
    return f"bench-{run.scenario.name}-{run.tool.name}-{run.index}".lower()


def _s3_remote(run: Run, repo: Path, s3: S3Server, endpoint: str) -> None:
    bucket = _bucket(run)
    s3.create_bucket(bucket)
    _remote(run, repo, f"s3://{bucket}/store", endpoint)


# -- the 20k files ----------------------------------------------------------------------------
def _many_files(run: Run, s3: S3Server | None, endpoint: str = "") -> None:
    s = run.sizes
    src = files_dir(s.files, s.folders, s.file_size)
    if run.is_baseline:  # the same files moved without a tool: the medium's own limit
        if s3 is None:
            _folder_floor(run, src)
        else:
            _s3_floor(run, src, s3)
        return
    repo = run.fresh_repo()
    data = repo / "data"
    if run.is_dvlite:
        # dvlite only reads the files it adds (copy links): links to the data set will do, and
        # spare writing (and at the end deleting) 80 MiB in 20k files for every run
        link_in(src, data)
    else:
        copy_in(src, data)  # DVC moves the files into its cache: it gets copies
    run.sh(run.tool.argv("add", "data"))
    _commit(run, repo, "data")
    if s3 is None:
        store = run.dir / "remote"
        store.mkdir()
        _remote(run, repo, str(store))
    else:
        _s3_remote(run, repo, s3, endpoint or s3.endpoint)

    _timed(run, PUSH, run.tool.argv("push"), s3)
    every_step = run.tool.name not in PACKS  # a pack size changes the transfers, not the rest
    victim = next(p for p in sorted((data / "part-0000").iterdir()))
    if every_step:
        _timed(run, STATUS, _status_remote(run), s3)
        _timed(run, NOOP, run.tool.argv("push"), s3)
        victim.unlink()  # a new file: never written through a link to the data set
        victim.write_bytes(os.urandom(s.file_size))
        run.sh(run.tool.argv("add", "data"))
        _commit(run, repo, "one file changed")
        _timed(run, CHANGED, run.tool.argv("push"), s3)

    clone = run.dir / "clone"
    run.sh(["git", "clone", "-q", str(repo), str(clone)])
    _timed(run, PULL, run.tool.argv("pull"), s3, cwd=clone)
    pulled = _count_files(clone / "data")
    if pulled != s.files:
        raise BenchError(f"{run.tool.name} pull restored {pulled} of {s.files} files")
    if (clone / "data" / victim.relative_to(data)).read_bytes() != victim.read_bytes():
        raise BenchError(f"{run.tool.name} pull did not restore the changed file")
    if not every_step:
        return

    # one folder of the data set into another fresh clone: only its files are read
    folder = f"data/part-{s.folders // 2:04d}"
    partial = run.dir / "partial"
    run.sh(["git", "clone", "-q", str(repo), str(partial)])
    _timed(run, PARTIAL, run.tool.argv("pull", folder), s3, cwd=partial)
    want = _count_files(src / folder.removeprefix("data/"))
    got, total = _count_files(partial / folder), _count_files(partial / "data")
    if got != want or total != want:
        raise BenchError(
            f"{run.tool.name} pull {folder} restored {got} of its {want} files "
            f"and {total - got} others"
        )


def _folder_floor(run: Run, src: Path) -> None:
    run.dir.mkdir(parents=True, exist_ok=True)
    run.timed(PUSH, ["cp", "-r", str(src), "remote"])
    run.timed(PULL, ["cp", "-r", "remote", "got"])
    got = _count_files(run.dir / "got")
    if got != run.sizes.files:
        raise BenchError(f"cp -r copied {got} of {run.sizes.files} files")


def _s3_floor(run: Run, src: Path, s3: S3Server) -> None:
    run.dir.mkdir(parents=True, exist_ok=True)
    bucket = _bucket(run)
    s3.create_bucket(bucket)
    url = f"s3://{bucket}/files"
    _timed(run, PUSH, [sys.executable, str(S3COPY), "put", str(src), url, s3.endpoint], s3)
    dest = run.dir / "got"
    dest.mkdir()
    get = [sys.executable, str(S3COPY), "get", str(dest), url, s3.endpoint, str(src)]
    _timed(run, PULL, get, s3)
    got = _count_files(dest)
    if got != run.sizes.files:
        raise BenchError(f"s3fs get fetched {got} of {run.sizes.files} files")


@scenario(
    FOLDER,
    "{files:,} files of {file_size} B to a folder remote; floor: `cp -r`",
    "{files:,} files, folder",
    STEPS,
    tools=("dvlite", "dvc", "cp"),
)
def folder_remote(run: Run) -> None:
    _many_files(run, None)


@scenario(
    S3,
    "{files:,} files of {file_size} B to S3 (moto on 127.0.0.1); floor: s3fs bulk put/get",
    "{files:,} files, S3",
    STEPS,
    tools=("dvlite", "dvc"),
    # the floor's 20k PUTs and GETs take 6 minutes here, and dvlite's packs are far under it:
    # `--with cp` runs it
    optional_tools=(*PACKS, "cp"),
    max_runs=1,  # moto serves about 150-200 requests a second: DVC's 20k objects take minutes
    capped=("dvc", "cp"),
)
def s3_remote(run: Run) -> None:
    s3 = server(run)
    try:
        _many_files(run, s3)
    finally:
        s3.reset()


@scenario(
    S3_SLOW,
    f"{{files:,}} files of {{file_size}} B to S3 through a proxy adding {DELAY_MS} ms to "
    "every request",
    f"{{files:,}} files, S3 +{DELAY_MS} ms",
    STEPS,
    tools=("dvlite", "dvc"),
    optional_tools=PACKS,
    max_runs=1,
    capped=("dvc",),
)
def s3_slow_remote(run: Run) -> None:
    s3 = server(run)
    try:
        _many_files(run, s3, proxy(s3, DELAY_MS).endpoint)
    finally:
        s3.reset()


# -- the big file -----------------------------------------------------------------------------
def _big(run: Run, s3: S3Server | None) -> None:
    size = run.sizes.big if s3 is None else run.sizes.big_s3
    src = big_file(size)
    repo = run.fresh_repo() if not run.is_baseline else _plain_dir(run)
    if run.tool.name == "dvc":  # it moves the file into its cache: it gets a copy
        copy_in(src, repo / "model.bin")
    else:  # read only: a link to the data set's file
        os.link(src, repo / "model.bin")
    clone = run.dir / "clone"
    if run.is_baseline:  # the floor: the same bytes read and written once, each way
        store = run.dir / "remote"
        store.mkdir()
        run.timed(BIG_PUSH, ["sh", "-c", f"cat model.bin > {store}/model.bin"])
        clone.mkdir()
        run.timed(BIG_PULL, ["sh", "-c", f"cat {store}/model.bin > model.bin"], clone)
        return
    if run.tool.name == "dvc":  # what dvlite's default reflink,copy is on a non-reflink fs
        run.sh(run.tool.argv("config", "cache.type", "copy"))
    run.sh(run.tool.argv("add", "model.bin"))
    _commit(run, repo, "model")
    if s3 is None:
        store = run.dir / "remote"
        store.mkdir()
        _remote(run, repo, str(store))
    else:
        _s3_remote(run, repo, s3, s3.endpoint)
    _timed(run, BIG_PUSH, run.tool.argv("push"), s3)
    run.sh(["git", "clone", "-q", str(repo), str(clone)])
    _timed(run, BIG_PULL, run.tool.argv("pull"), s3, cwd=clone)
    if (clone / "model.bin").stat().st_size != size:
        raise BenchError(f"{run.tool.name} pull did not restore the big file")


def _plain_dir(run: Run) -> Path:
    if run.dir.exists():
        shutil.rmtree(run.dir)
    run.dir.mkdir(parents=True)
    return run.dir


@scenario(
    BIGREMOTE,
    "one file of {big_size} to a folder remote; floor: `cat a > b`",
    "1 file of {big_size}, folder",
    (BIG_PUSH, BIG_PULL),
    tools=("dvlite", FORMAT1, "dvc", "cp"),
    many_files=False,
)
def big_remote(run: Run) -> None:
    _big(run, None)


@scenario(
    BIGS3,
    "one file of {big_s3_size} to S3 (moto on 127.0.0.1)",
    "1 file of {big_s3_size}, S3",
    (BIG_PUSH, BIG_PULL),
    tools=("dvlite", FORMAT1, "dvc"),
    many_files=False,
)
def big_s3(run: Run) -> None:
    s3 = server(run)
    try:
        _big(run, s3)
    finally:
        s3.reset()
