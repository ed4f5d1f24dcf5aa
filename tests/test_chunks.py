"""Chunked large files on a format 2 remote, end to end through the CLI, on a folder and on S3
(issue 12, "Nothing lost"): a big file travels as chunks plus a chunk list under its own oid
and comes back identical; a second version sends, and a clone holding the first reads, only
the chunks that changed; a missing or corrupt chunk or a damaged chunk list keeps that one
file out (named by its path) and lets the others in; gc keeps exactly the chunks some kept
file needs; a kill during a chunked push or pull is mended by running it again; the
pure-Python chunker is refused. (The list format itself: test_chunk_format.py.)"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import KILL_AFTER, RunResult, git, invoke, object_path, ok, one_line_error, snapshot
from pack_helpers import held, keys_under, write
from remote_helpers import (
    FolderStore,
    S3Store,
    Store,
    add_remote,
    corrupt_object,
    locations,
    lose_object,
    object_bytes,
    object_url,
)

from dvlite.objects import chunks
from dvlite.objects.chunks import ChunkList
from dvlite.objects.fsutil import TMP_MARK
from dvlite.objects.hashing import hex_of
from dvlite.objects.pack import CHUNK_KIND, LIST_KIND
from dvlite.records import pointer
from dvlite.records.repo import Repo
from dvlite.remote.packed import pack_key

MiB = 1 << 20
SMALL = {"notes/a.txt": b"first notes\n", "notes/b.txt": b"second\n" * 50, "c.txt": b"c\n"}


def randbytes(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def edited(data: bytes, seed: int, places: int = 4, share: float = 0.01) -> bytes:
    """``data`` with ``share`` of its bytes overwritten, in ``places`` regions spread out."""
    rng, out = random.Random(seed), bytearray(data)
    n = int(len(data) * share) // places
    for i in range(places):
        at = len(data) * i // places + rng.randrange(len(data) // places - n)
        out[at : at + n] = rng.randbytes(n)
    return bytes(out)


def track(root: Path, files: dict[str, bytes], message: str) -> None:
    """Write ``files``, ``dvlite add`` each (top-level names), commit."""
    write(root, files)
    ok(invoke("add", *sorted({rel.split("/")[0] for rel in files})))
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def oid_of(root: Path, rel: str) -> str:
    return pointer.load(root / f"{rel}.dvl").oid


def clone_to(src: Path, dest: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    git(src.parent, "clone", "-q", str(src), str(dest))
    monkeypatch.chdir(dest)
    return dest


def pack_bytes(store: Store) -> dict[str, int]:
    """Each pack on the remote -> its size (as the listing says: no pack is read)."""
    if isinstance(store, S3Store):
        pages = store.client.get_paginator("list_objects_v2").paginate(
            Bucket=store.bucket, Prefix=f"{store.prefix}/packs/"
        )
        found = {o["Key"]: o["Size"] for page in pages for o in page.get("Contents", [])}
        return {k[len(store.prefix) + 1 :]: n for k, n in found.items()}
    assert isinstance(store, FolderStore)
    return {k: os.path.getsize(store.path(k)) for k in keys_under(store, "packs")}


def list_of(store: Store, oid: str) -> ChunkList:
    """The chunk list the remote keeps under a file's oid, as its bytes there say."""
    return chunks.decode(object_bytes(store, oid))


def assembled(store: Store, listed: ChunkList) -> bytes:
    """The file a chunk list describes, put together from the chunks' bytes in their packs."""
    found, out = locations(store), []
    packs: dict[str, bytes] = {}
    for oid, length in listed.chunks:
        loc = found[oid]
        assert (loc.kind, loc.length) == (CHUNK_KIND, length) and loc.pack
        if loc.pack not in packs:
            packs[loc.pack] = store.read(pack_key(loc.pack))
        out.append(packs[loc.pack][loc.offset : loc.end])
    return b"".join(out)


def stale_in_cache(root: Path) -> list[str]:
    """Temporary files anywhere in a repository's cache."""
    cache = root / ".dvlite" / "cache"
    return sorted(str(p.relative_to(cache)) for p in cache.rglob(f"*{TMP_MARK}*"))


def not_installed(root: Path, oid: str) -> None:
    """Not in the cache: whole, packed, or as a kept chunk list."""
    repo = Repo(root)
    assert not repo.cache.exists(oid)
    assert not object_path(root / ".dvlite" / "cache", oid).exists()
    assert not (root / ".dvlite" / "cache" / "chunks" / hex_of(oid)).exists()


def no_traceback(result: RunResult) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("Error: "), result.stderr
    return str(result.stderr)


@pytest.fixture
def away(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside the repository, for its clones."""
    return tmp_path_factory.mktemp("clones")


@pytest.fixture
def project(repo: Repo, store: Store) -> Path:
    """A repository whose default remote is ``store`` (format 2, no gc grace), committed."""
    add_remote(store)
    ok(invoke("remote", "modify", "store", "gc_grace", "0"))
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "remote")
    return repo.root


# -- round trip --------------------------------------------------------------------------------
def test_a_big_file_travels_as_chunks_and_a_fresh_clone_pulls_it_identical(
    project: Path, store: Store, away: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = randbytes(8 * MiB, 1)
    track(project, {"model.bin": big, **SMALL}, "v1")
    assert ok(invoke("push")).stdout.startswith("5 objects pushed (8.0 MiB)")  # 3 small, a tree

    oid = oid_of(project, "model.bin")
    found = locations(store)
    assert found[oid].kind == LIST_KIND and found[oid].pack  # the list, under the file's oid
    stored = object_bytes(store, oid)
    listed = chunks.decode(stored)
    assert listed.size == len(big)
    assert 8 * MiB // chunks.MAXIMUM <= len(listed.chunks) <= 8 * MiB // chunks.MINIMUM
    assert assembled(store, listed) == big  # every chunk packed, and they make the file
    assert not keys_under(store, "objects")  # nothing of it stored whole
    kept = project / ".dvlite" / "cache" / "chunks" / hex_of(oid)
    assert kept.read_bytes() == stored  # the push kept it, for later pulls to find chunks in

    there = clone_to(project, away / "fresh", monkeypatch)
    assert ok(invoke("pull")).stdout.startswith("5 objects fetched (8.0 MiB)")
    assert snapshot(there) == snapshot(project)
    assert (there / ".dvlite" / "cache" / "chunks" / hex_of(oid)).read_bytes() == kept.read_bytes()
    assert ok(invoke("fsck")).exit_code == 0
    checked = ok(invoke("fsck", "--remote")).stdout
    assert checked.endswith(f"checked {len(found):,} objects on remote 'store': all good\n")
    assert stale_in_cache(there) == []


# -- a second version moves only what changed ---------------------------------------------------
@pytest.mark.parametrize("edit", ["spots", "front"])
def test_a_second_version_sends_and_pulls_only_the_chunks_that_changed(
    project: Path, store: Store, away: Path, monkeypatch: pytest.MonkeyPatch, edit: str
) -> None:
    v1 = randbytes(8 * MiB, 2)
    v2 = edited(v1, 3) if edit == "spots" else randbytes(200, 4) + v1  # 1% in 4 places
    track(project, {"model.bin": v1, **SMALL}, "v1")
    ok(invoke("push"))
    holder = clone_to(project, away / "holder", monkeypatch)  # a clone holding v1
    ok(invoke("pull"))
    monkeypatch.chdir(project)

    before = pack_bytes(store)
    track(project, {"model.bin": v2}, "v2")
    pushed = ok(invoke("push")).stdout
    assert pushed.startswith("1 object pushed (8.0 MiB; ")
    assert "moved, the rest was on the remote already as chunks)" in pushed
    added = sum(pack_bytes(store).values()) - sum(before.values())
    assert 0 < added < len(v2) // 10, added  # chunks average ~72 KiB: a few of them

    # the packs v1's push wrote, which v2 shares chunks with, are deleted behind dvlite's
    # back: a clone holding v1 still rebuilds v2, from chunks it has (none of them read)
    found = locations(store)
    named = list_of(store, oid_of(project, "model.bin")).chunks
    shared = {pack_key(found[c].pack) for c, _ in named} & before.keys()
    assert shared
    for key in shared:
        store.delete(key)
    monkeypatch.chdir(holder)
    git(holder, "pull", "-q", "--ff-only")
    pulled = ok(invoke("pull")).stdout
    assert pulled.startswith("1 object fetched (8.0 MiB; ")
    assert "moved, the rest was in the cache already as chunks)" in pulled
    assert (holder / "model.bin").read_bytes() == v2
    assert snapshot(holder) == snapshot(project)
    assert stale_in_cache(holder) == []
    # a clone without v1 cannot: the shared chunks were only in the deleted pack(s)
    clone_to(project, away / "fresh", monkeypatch)
    assert "model.bin" in no_traceback(invoke("pull"))


# -- nothing lost: a chunk missing or corrupt, a damaged chunk list -----------------------------
def three_files(project: Path) -> tuple[str, dict[str, bytes]]:
    """model.bin and other.bin (both chunked) and small files, pushed in one commit; the oid
    of model.bin, and the files."""
    files = {"model.bin": randbytes(8 * MiB, 5), "other.bin": randbytes(6 * MiB, 6), **SMALL}
    track(project, files, "v1")
    ok(invoke("push"))
    return oid_of(project, "model.bin"), files


def assert_all_but_model(there: Path, files: dict[str, bytes], oid: str) -> None:
    assert not (there / "model.bin").exists()
    not_installed(there, oid)
    for rel, data in files.items():
        if rel != "model.bin":
            assert (there / rel).read_bytes() == data, rel
    assert stale_in_cache(there) == []


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_chunk_missing_or_corrupt_keeps_only_its_file_out(
    project: Path, store: Store, away: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    oid, files = three_files(project)
    listed = list_of(store, oid)
    chunk = listed.chunks[len(listed.chunks) // 2][0]
    chunk_at, list_at = object_url(store, chunk), object_url(store, oid)
    (lose_object if damage == "missing" else corrupt_object)(store, chunk)

    there = clone_to(project, away / "fresh", monkeypatch)
    stderr = no_traceback(invoke("pull"))
    assert stderr.startswith("Error: 1 object(s) could not be fetched from remote 'store' (")
    # the file by its path and its chunk list, then which chunk and where
    which = (
        f"its chunk {chunk} "  # its pack is gone, or no index file names it
        if damage == "missing"
        else f"corrupt object {chunk} at {chunk_at} (hashes to "
    )
    assert f"\n  {damage} on remote: model.bin ({list_at}; {which}" in stderr
    assert "other.bin" not in stderr
    assert_all_but_model(there, files, oid)

    checked = invoke("fsck", "--remote")
    assert checked.exit_code == 1, checked.output
    if damage == "missing":
        assert f"corrupt: model.bin ({list_at}: a chunk list naming 1 chunk(s) no index " in (
            checked.stdout
        )
    else:
        assert f"\ncorrupt: model.bin ({chunk_at})\n" in checked.stdout  # the chunk, by its file
    assert re.search(r": 1 corrupt, 0 missing(, 1 damaged file)?\n$", checked.stdout)


@pytest.mark.parametrize(
    ("at", "why"),
    [("magic", "not a dvlite chunk list (no magic)"), ("middle", "does not match its hash")],
)
def test_a_damaged_chunk_list_keeps_only_its_file_out_and_fsck_says_so(
    project: Path, store: Store, away: Path, monkeypatch: pytest.MonkeyPatch, at: str, why: str
) -> None:
    oid, files = three_files(project)
    loc, list_at = locations(store)[oid], object_url(store, oid)
    key = pack_key(loc.pack)
    data = bytearray(store.read(key))
    data[loc.offset + (0 if at == "magic" else loc.length // 2)] ^= 0xFF
    store.write(key, bytes(data))

    there = clone_to(project, away / "fresh", monkeypatch)
    stderr = no_traceback(invoke("pull"))
    assert f"\n  corrupt on remote: model.bin ({list_at})\n" in stderr
    assert "other.bin" not in stderr
    assert_all_but_model(there, files, oid)

    checked = invoke("fsck", "--remote")
    assert checked.exit_code == 1, checked.output
    assert "Traceback" not in checked.output
    assert f"corrupt: model.bin ({list_at}: " in checked.stdout and why in checked.stdout
    assert f"damaged: {store.url}/{key}: its bytes do not hash to its name" in checked.stdout
    assert re.search(r": 1 corrupt, 0 missing, 1 damaged file\n$", checked.stdout)


# -- gc keeps the chunks some kept file needs ---------------------------------------------------
def test_gc_keeps_every_chunk_a_kept_version_uses_and_drops_the_rest(
    project: Path, store: Store, away: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    v1 = randbytes(8 * MiB, 7)
    v2 = edited(v1, 8)
    track(project, {"model.bin": v1, "c.txt": b"kept\n"}, "v1")
    ok(invoke("push"))
    one = oid_of(project, "model.bin")
    first = {c for c, _ in list_of(store, one).chunks}
    track(project, {"model.bin": v2}, "v2")
    ok(invoke("push"))
    two = oid_of(project, "model.bin")
    second = {c for c, _ in list_of(store, two).chunks}
    assert len(first & second) > len(first) * 3 // 4  # most chunks shared
    only_v1 = first - second

    ok(invoke("gc", "-w", "--cloud", "-f"))  # keeps the workspace: v2
    left = held(store)
    assert two in left and one not in left
    assert second <= left and not only_v1 & left  # (v1's pack, mostly live, is kept)
    assert assembled(store, list_of(store, two)) == v2  # each chunk there, and sound
    there = clone_to(project, away / "fresh", monkeypatch)
    ok(invoke("pull"))
    assert snapshot(there) == snapshot(project)
    assert ok(invoke("fsck", "--remote")).stdout.endswith(": all good\n")

    # and once no kept revision has v2 either, its chunks go
    monkeypatch.chdir(project)
    ok(invoke("remove", "model.bin"))
    git(project, "add", "-A")
    git(project, "commit", "-qm", "no model")
    ok(invoke("gc", "-w", "--cloud", "-f"))
    assert held(store) == {oid_of(project, "c.txt")}
    assert sum(pack_bytes(store).values()) < 64 * 1024


def test_gc_rewrites_a_pack_of_chunks_mostly_dead_and_keeps_the_live_ones(
    project: Path, store: Store, away: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """v2 keeps the first 3 MiB of v1 and replaces the other 5: v1's pack, under half live
    once v1 is dropped, is rewritten with only the chunks v2 uses."""
    v1 = randbytes(8 * MiB, 20)
    v2 = v1[: 3 * MiB] + randbytes(5 * MiB, 21)
    track(project, {"model.bin": v1, "c.txt": b"kept\n"}, "v1")
    ok(invoke("push"))
    [old_pack] = pack_bytes(store)
    track(project, {"model.bin": v2}, "v2")
    ok(invoke("push"))
    two = oid_of(project, "model.bin")

    ok(invoke("gc", "-w", "--cloud", "-f"))
    assert old_pack not in pack_bytes(store)
    assert len(v2) < sum(pack_bytes(store).values()) < len(v2) + 64 * 1024
    second = {c for c, _ in list_of(store, two).chunks}
    assert held(store) == second | {two, oid_of(project, "c.txt")}
    assert assembled(store, list_of(store, two)) == v2
    there = clone_to(project, away / "fresh", monkeypatch)
    ok(invoke("pull"))
    assert snapshot(there) == snapshot(project)
    assert ok(invoke("fsck", "--remote")).stdout.endswith(": all good\n")


# -- a push that has nothing to send ------------------------------------------------------------
def test_after_a_chunked_push_there_is_nothing_to_send(project: Path, store: Store) -> None:
    v1 = randbytes(6 * MiB, 9)
    track(project, {"model.bin": v1, **SMALL}, "v1")
    ok(invoke("push"))
    for version in (edited(v1, 10), randbytes(100, 11) + v1):
        track(project, {"model.bin": version}, "next")
        status = ok(invoke("status", "--remote")).stdout
        [(figure, unit)] = re.findall(r"push would move ([\d.]+) (B|KiB|MiB)\n", status)
        assert unit == "KiB" and float(figure) < 0.1 * len(version) / 1024, status  # chunks
        ok(invoke("push"))
        keys = store.keys()  # content-addressed: the same names, the same bytes
        assert ok(invoke("status", "--remote")).stdout == (
            "Cache and remote 'store' are in sync.\n"
        )
        assert ok(invoke("push")).stdout == "Everything is up to date.\n"
        assert store.keys() == keys  # nothing written


def test_a_second_push_of_the_same_bytes_under_another_name_writes_no_chunk(
    project: Path, store: Store
) -> None:
    """The same file tracked twice is one object: the push of the copy writes nothing."""
    big = randbytes(5 * MiB, 12)
    track(project, {"model.bin": big}, "v1")
    ok(invoke("push"))
    packs = pack_bytes(store)
    track(project, {"copy.bin": big}, "copy")
    assert ok(invoke("push")).stdout == "Everything is up to date.\n"
    assert pack_bytes(store) == packs


# -- the pure-Python chunker is refused ---------------------------------------------------------
def test_a_push_without_the_compiled_chunker_is_refused_in_one_line(
    project: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    track(project, SMALL, "small")
    monkeypatch.setitem(sys.modules, "pyfastcdc.cy", None)  # only the pure-Python path left
    ok(invoke("push"))  # small files need no chunker
    pushed = held(store)
    track(project, {"model.bin": randbytes(5 * MiB, 13)}, "big")
    line = one_line_error(invoke("push"))
    assert "pyfastcdc" in line and "compiled extension" in line
    assert held(store) == pushed  # nothing of the big file counts as sent
    monkeypatch.delitem(sys.modules, "pyfastcdc.cy")
    ok(invoke("push"))
    assert oid_of(project, "model.bin") in held(store)


KILLED_PUSH = r"temporary file of a killed|\d+ packs? that no index file names"


def remote_sound(store: Store, where: str) -> None:
    """fsck --remote finds nothing wrong but what a killed push leaves: on a folder,
    temporary files (younger than the grace period: a running push's, for all it knows), and
    packs no index file names."""
    checked = invoke("fsck", "--remote")
    if isinstance(store, FolderStore) and checked.exit_code == 1:
        assert re.search(r": 0 corrupt, 0 missing, \d+ temporary files?\n$", checked.stdout), (
            f"{where}: {checked.output}"
        )
        lines = checked.stdout.splitlines()[:-1]
        assert all(re.match(KILLED_PUSH, line) for line in lines), f"{where}: {checked.output}"
    else:
        assert checked.exit_code == 0 and checked.stdout.endswith(": all good\n"), where


# -- SIGKILL during a chunked push and pull -----------------------------------------------------
# dvlite that SIGKILLs itself after writing so many bytes (tests/helpers.py), its packs sealed
# at 1 MiB so that a push of one big file writes several.
KILLS = 3


def killable(limit: int, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", KILL_AFTER, str(limit), str(1 << 20), "0", "0", *args]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)


def written(result: subprocess.CompletedProcess[str]) -> int:
    assert result.returncode == 0, result.stderr
    return int(re.findall(r"written (\d+)", result.stderr)[-1])


def test_a_killed_chunked_push_is_completed_by_the_next(
    project: Path, store: Store, away: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(14)
    base = randbytes(6 * MiB, 15)
    track(project, {"model.bin": base, **SMALL}, "v0")
    total = written(killable(1 << 40, "push", cwd=project))
    assert len(pack_bytes(store)) >= 5  # sealed at 1 MiB: a kill can fall between packs
    for run in range(1, KILLS + 1):
        # a new version sharing most chunks, and a new file sharing none
        files = {"model.bin": edited(base, 100 + run), f"new{run}.bin": randbytes(5 * MiB, run)}
        track(project, files, f"v{run}")
        limit = rng.randrange(1, total * 3 // 4)
        where = f"run {run}, killed after {limit} of ~{total} bytes"
        killed = killable(limit, "push", cwd=project)
        assert killed.returncode == -signal.SIGKILL, f"{where}: {killed.stderr}"
        assert ok(invoke("push")).stdout.startswith("2 objects pushed"), where
        assert ok(invoke("push")).stdout == "Everything is up to date.\n", where
        assert stale_in_cache(project) == [], where
        remote_sound(store, where)
    there = clone_to(project, away / "fresh", monkeypatch)
    ok(invoke("pull"))
    assert snapshot(there) == snapshot(project)


def test_a_killed_chunked_pull_is_completed_by_the_next(
    project: Path, store: Store, away: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(16)
    v1 = randbytes(6 * MiB, 17)
    track(project, {"model.bin": v1, "other.bin": randbytes(5 * MiB, 18), **SMALL}, "v1")
    ok(invoke("push"))
    first = clone_to(project, away / "measured", monkeypatch)
    total = written(killable(1 << 40, "pull", cwd=first))
    assert snapshot(first) == snapshot(project)
    for run in range(1, KILLS + 1):
        there = clone_to(project, away / f"run{run}", monkeypatch)
        if run == KILLS:  # the last run: a clone holding v1 pulls v2 (a rebuild from both)
            ok(invoke("pull"))
            monkeypatch.chdir(project)
            track(project, {"model.bin": edited(v1, 19)}, "v2")
            ok(invoke("push"))
            monkeypatch.chdir(there)
            git(there, "pull", "-q", "--ff-only")
        limit = rng.randrange(1, total * 3 // 4 if run < KILLS else 300_000)
        where = f"run {run}, killed after {limit} of ~{total} bytes"
        killed = killable(limit, "pull", cwd=there)
        assert killed.returncode == -signal.SIGKILL, f"{where}: {killed.stderr}"
        ok(invoke("pull"))
        assert snapshot(there) == snapshot(project), where
        assert stale_in_cache(there) == [], where
        assert ok(invoke("fsck")).exit_code == 0, where
    assert ok(invoke("fsck", "--remote")).stdout.endswith(": all good\n")


# dvlite killed (SIGKILL) in the middle of writing a chunk list to a file: the cache's kept copy
KILL_AT_LIST = """
import os, signal, sys
real = os.write
def write(fd, data):
    if bytes(data[:4]) == b"DVLC":
        real(fd, data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    return real(fd, data)
os.write = write
from dvlite.cli import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize("command", ["push", "pull"])
def test_a_kill_while_the_cache_keeps_a_chunk_list_leaves_no_temporary_file(
    project: Path, store: Store, away: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    track(project, {"model.bin": randbytes(5 * MiB, 22)}, "v1")
    there = project
    if command == "pull":
        ok(invoke("push"))
        there = clone_to(project, away / "fresh", monkeypatch)
    argv = [sys.executable, "-c", KILL_AT_LIST, command]
    killed = subprocess.run(argv, cwd=there, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    ok(invoke(command))
    assert stale_in_cache(there) == []
    if command == "pull":
        assert snapshot(there) == snapshot(project)
