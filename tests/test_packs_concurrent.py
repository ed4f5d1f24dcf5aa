"""Storage format 2 loses nothing (issue 11, "Nothing lost"): two clones pushing to one remote at
the same moment, pushes killed at random points, and create-only writes, with big files
chunked (chunks and chunk lists in packs) and objects stored whole. Real `dvlite` processes,
real git clones, a folder remote and S3 on the moto server (``store``)."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import BARRIER, KILL_AFTER, git, invoke, ok, snapshot
from remote_helpers import FolderStore, S3Store, Store, add_remote, key_of

from dvlite.objects import chunks, pack, packindex
from dvlite.objects.fsutil import TMP_MARK
from dvlite.objects.hashing import oid_of_bytes
from dvlite.remote.packed import index_key, pack_key

OWN_FILES = 2000  # each clone's own small files (1 KiB each)
SHARED_FILES = 300  # small files both clones hold, byte for byte
BIG = chunks.CHUNKED_MIN  # a file this big is chunked (or, when a test says so, stored whole)


def python(*args: str) -> list[str]:
    return [sys.executable, "-c", *args]


def project(root: Path, store: Store, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A committed git repository with dvlite initialised and ``store`` as its default remote."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    monkeypatch.chdir(root)
    ok(invoke("init"))
    add_remote(store)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "dvlite")
    return root


def clone_of(src: Path, dest: Path) -> Path:
    git(src.parent, "clone", "-q", str(src), str(dest))
    return dest


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def run_all(*commands: tuple[list[str], Path]) -> list[subprocess.CompletedProcess[str]]:
    """Start every command (argv, cwd) at once, then wait for all of them."""
    procs = [
        subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for argv, cwd in commands
    ]
    done = []
    for (argv, _), proc in zip(commands, procs, strict=True):
        out, err = proc.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(argv, proc.returncode, out, err))
    return done


def pulled(src: Path, dest: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """What a fresh git clone of ``src`` at ``dest`` holds after ``dvlite pull``."""
    clone_of(src, dest)
    monkeypatch.chdir(dest)
    ok(invoke("pull"))
    return snapshot(dest / "data")


def sound_indexes(store: Store) -> dict[str, packindex.IndexFile]:
    """Every index file on the remote, after asserting that it is whole (its bytes hash to its
    name and decode) and that every pack it names is there, complete (its footer parses) and
    holds each object where the index says; objects it names whole are there, whole; each
    chunk list decodes, and names only chunks that this same index names."""
    keys = store.keys()
    found = {}
    for key in sorted(k for k in keys if re.fullmatch(r"index/[0-9a-f]{32}\.idx", k)):
        data = store.read(key)
        index_id = oid_of_bytes(data)
        assert index_key(index_id) == key, f"{key}: its bytes do not hash to its name"
        index = found[key] = packindex.decode(data)
        packs: dict[str, bytes] = {}
        for oid, loc in index.objects.items():
            if not loc.pack:
                whole = key_of(oid)
                assert whole in keys, f"{key} names {whole}, not on the remote"
                assert oid_of_bytes(store.read(whole)) == oid, f"{whole} is not whole"
                continue
            if loc.pack not in packs:
                assert pack_key(loc.pack) in keys, f"{key} names {pack_key(loc.pack)}: missing"
                packs[loc.pack] = store.read(pack_key(loc.pack))
                pack.parse_footer(packs[loc.pack], len(packs[loc.pack]))
                assert oid_of_bytes(packs[loc.pack]) == loc.pack, f"{pack_key(loc.pack)} is partial"
            data = packs[loc.pack][loc.offset : loc.end]
            if loc.kind != pack.LIST_KIND:
                assert oid_of_bytes(data) == oid
                continue
            for chunk, length in chunks.decode(data).chunks:
                at = index.objects.get(chunk)
                assert at is not None, f"{key}: the chunk list of {oid} names {chunk}, it not"
                assert (at.kind, at.length) == (pack.CHUNK_KIND, length), f"{key}: {chunk}"
    return found


def packed_bytes(store: Store, key: str, oid: str) -> bytes:
    """An object's bytes where the index file ``key`` places it in a pack."""
    loc = packindex.decode(store.read(key)).objects[oid]
    return store.read(pack_key(loc.pack))[loc.offset : loc.end]


def fsck_remote_clean(objects: int) -> None:
    result = invoke("fsck", "--remote")
    assert result.exit_code == 0, result.output
    assert f"checked {objects:,} objects on remote 'store': all good" in result.stdout


# -- 1. two clones push to one remote at the same moment ------------------------------------
def test_two_clones_push_at_once_and_both_pull_back(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin = project(tmp_path / "origin", store, monkeypatch)
    shared = {f"shared/{i:03}.txt": b"shared %d\n" % i * 40 for i in range(SHARED_FILES)}
    shared["shared/big.bin"] = big = random.Random(11).randbytes(BIG + 1)
    clones = [clone_of(origin, tmp_path / name) for name in ("one", "two")]
    for n, root in enumerate(clones):
        own = {f"{n}/{i:04}.bin": os.urandom(1024) for i in range(OWN_FILES)}
        write_files(root / "data", {**shared, **own})
    for done in run_all(*(([sys.executable, "-m", "dvlite", "add", "data"], r) for r in clones)):
        assert done.returncode == 0, done.stderr
    for root in clones:
        git(root, "add", "-A")
        git(root, "commit", "-qm", f"data of {root.name}")

    # both plan against the same (empty) remote, then upload at the same time
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    pushes = run_all(*((python(BARRIER, str(barrier), "2", "0", "push"), r) for r in clones))
    for done in pushes:
        assert done.returncode == 0, done.stderr
        assert f"{OWN_FILES + SHARED_FILES + 1 + 3:,} objects pushed" in done.stdout  # + 3 trees

    # each push sent the shared files too, the big one's chunks and chunk list: neither saw
    # the other's index before writing its own
    indexes = sound_indexes(store)
    assert len(indexes) == 2
    shared_oids = {oid_of_bytes(data) for data in shared.values()}
    for index in indexes.values():
        assert shared_oids <= set(index.objects)
        assert index.objects[oid_of_bytes(big)].kind == pack.LIST_KIND
    lists = {len(chunks.decode(packed_bytes(store, i, oid_of_bytes(big))).chunks) for i in indexes}
    [n_chunks] = lists  # both cut it alike

    for root in clones:
        assert pulled(root, tmp_path / f"fresh-{root.name}", monkeypatch) == snapshot(root / "data")
        # trees: 2 data, 2 own, shared; and the big file's chunks
        fsck_remote_clean(2 * OWN_FILES + SHARED_FILES + 1 + 5 + n_chunks)


# -- 2. a push killed at random points ------------------------------------------------------
SMALL, SMALL_SIZE, BIG_SIZE = 200, 4096, 640 << 10  # per run: small files, one chunked
# so that each run writes several packs, its tree of SMALL + 1 entries (some 19 KB) whole,
# and some 9 chunks
PACK_SIZE, WHOLE_MIN, CHUNKED_MIN = 128 << 10, 8 << 10, 256 << 10
KILLS = 5


def test_killed_pushes_leave_every_index_sound(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path / "repo", store, monkeypatch)
    rng = random.Random()
    seed = rng.randrange(1 << 32)
    rng.seed(seed)

    def next_data(run: int) -> None:
        files = {f"run{run}/{i:03}.bin": os.urandom(SMALL_SIZE) for i in range(SMALL)}
        write_files(root / "data", {**files, f"run{run}/big.bin": os.urandom(BIG_SIZE)})
        ok(invoke("add", "data"))
        git(root, "add", "-A")
        git(root, "commit", "-qm", f"run {run}")

    def push(limit: int) -> subprocess.CompletedProcess[str]:
        sizes = (PACK_SIZE, WHOLE_MIN, CHUNKED_MIN)
        argv = python(KILL_AFTER, str(limit), *map(str, sizes), "push")
        return subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=120)

    # a first push, not killed, says how many bytes a push of one run's data writes
    next_data(0)
    first = push(1 << 40)
    assert first.returncode == 0, first.stderr
    total = int(re.findall(r"written (\d+)", first.stderr)[-1])
    [(key, index)] = sound_indexes(store).items()
    index_size = len(store.read(key))
    packs = {loc.pack for loc in index.objects.values()}
    assert "" in packs and len(packs) > 3  # several packs, and objects stored whole
    kinds = [loc.kind for loc in index.objects.values()]
    assert kinds.count(pack.LIST_KIND) == 1 and kinds.count(pack.CHUNK_KIND) > 3
    fresh = tmp_path / "fresh"
    assert pulled(root, fresh, monkeypatch) == snapshot(root / "data")
    monkeypatch.chdir(root)

    for run in range(1, KILLS + 1):
        next_data(run)
        # anywhere in the push (the last bytes: the index file it wrote, kept in the cache);
        # the last run, while the index file is being written to the remote
        limit = rng.randrange(1, total)
        if run == KILLS:
            limit = total - index_size - rng.randrange(index_size // 3, index_size * 2 // 3)
        where = f"run {run}, killed after {limit} of {total} bytes (seed {seed})"
        indexes = len(sound_indexes(store))
        killed = push(limit)
        assert killed.returncode == -signal.SIGKILL, f"{where}: {killed.stderr}"
        if run == KILLS:  # an index file cut short never shows under its name
            assert len(sound_indexes(store)) == indexes, where
            if isinstance(store, FolderStore):  # it was cut short: its temporary file is there
                left = [k for k in sorted(store.keys()) if k.startswith("index/")]
                assert any(TMP_MARK in k for k in left), where
        sound_indexes(store)
        again = invoke("push")
        assert again.exit_code == 0, f"{where}: {again.output}"
        sound_indexes(store)
        # a clone that has pulled every run before, from the remote only, pulls this one too
        git(fresh, "pull", "-q", "--ff-only")
        monkeypatch.chdir(fresh)
        assert ok(invoke("pull")).stdout.startswith(f"{SMALL + 3} objects fetched"), where
        assert snapshot(fresh / "data") == snapshot(root / "data"), where
        monkeypatch.chdir(root)


# -- 3. create-only: a file already there under its name is left as it is -------------------
def versions(store: Store) -> dict[str, object]:
    """Each key's identity: (inode, mtime) on a folder, the version ids on a versioned bucket."""
    if isinstance(store, FolderStore):
        stats = {k: os.stat(store.path(k)) for k in sorted(store.keys())}
        return {k: (st.st_ino, st.st_mtime_ns) for k, st in stats.items()}
    assert isinstance(store, S3Store)
    pages = store.client.get_paginator("list_object_versions").paginate(
        Bucket=store.bucket, Prefix=f"{store.prefix}/"
    )
    found: dict[str, list[str]] = {}
    for page in pages:
        for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
            found.setdefault(v["Key"][len(store.prefix) + 1 :], []).append(v["VersionId"])
    return {k: sorted(ids) for k, ids in found.items()}


def hide_index(store: Store, aside: Path) -> dict[str, bytes]:
    """Take the index files off the remote (kept in ``aside`` on a folder); their bytes."""
    held = {k: store.read(k) for k in sorted(store.keys()) if k.startswith("index/")}
    if isinstance(store, FolderStore):
        os.rename(store.root / "index", aside)
    else:
        for key in held:
            store.delete(key)
    return held


def restore_index(store: Store, aside: Path, held: dict[str, bytes]) -> None:
    if isinstance(store, FolderStore):
        os.rename(aside, store.root / "index")
    else:
        for key, data in held.items():
            store.write(key, data)


@pytest.mark.parametrize("whole", [False, True], ids=["chunked", "whole"])
def test_a_second_push_rewrites_no_file_already_there(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, whole: bool
) -> None:
    # whole: the big file stored whole under objects/ (as `remote repack` leaves format 1's,
    # and as big trees are), by pushes that chunk nothing, here and in the second push
    chunked_min = 1 << 40 if whole else 0
    if whole:
        monkeypatch.setattr(chunks, "CHUNKED_MIN", chunked_min)
    if isinstance(store, S3Store):  # every write shows as a new version
        store.client.put_bucket_versioning(
            Bucket=store.bucket, VersioningConfiguration={"Status": "Enabled"}
        )
    first = project(tmp_path / "first", store, monkeypatch)
    files = {f"{i:03}.txt": b"line %d\n" % i * 30 for i in range(200)}
    files["big.bin"] = random.Random(3).randbytes(BIG + 1)
    write_files(first / "data", files)
    ok(invoke("add", "data"))
    git(first, "add", "-A")
    git(first, "commit", "-qm", "data")
    ok(invoke("push"))
    before = store.keys()
    assert {k.split("/")[0] for k in before} == {"index", "packs", *(["objects"] * whole)}

    # another clone adds the same bytes (its cache has never seen the remote's index files)
    second = clone_of(first, tmp_path / "second")
    shutil.copytree(first / "data", second / "data")
    monkeypatch.chdir(second)
    ok(invoke("add", "data"))
    assert git(second, "status", "--porcelain") == ""
    assert not (second / ".dvlite" / "cache" / "index").exists()

    # it plans while the remote seems to lack everything, then writes with everything there
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    held = hide_index(store, tmp_path / "index-aside")
    proc = subprocess.Popen(
        python(BARRIER, str(barrier), "2", str(chunked_min), "push"),
        cwd=second,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not os.listdir(barrier):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the push never read the remote's index files"
        time.sleep(0.005)
    restore_index(store, tmp_path / "index-aside", held)
    seen = versions(store)
    (barrier / "go").touch()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert f"{len(files) + 1:,} objects pushed" in out  # it did send everything (+ 1 tree)

    assert store.keys() == before  # the same pack and index names: nothing new
    after = versions(store)
    rewritten = sorted(k for k in seen if after[k] != seen[k])
    assert [k for k in rewritten if not k.startswith("objects/")] == []  # packs, index files
    assert rewritten == []  # and objects stored whole
    sound_indexes(store)
