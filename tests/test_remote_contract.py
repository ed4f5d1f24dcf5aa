"""The Remote contract: every operation of ``dvlite.remote.Remote``, run against each kind of
remote. ``RemoteContract`` holds the tests; each kind plugs in through a subclass whose
``store`` fixture (a Store of remote_helpers.py) gives the remote's URL and options plus direct
access to the bytes it keeps (to corrupt or delete them behind the remote's back), as fsspec's
``tests/abstract`` and restic's backend test suite do.

The kinds: the folder remote, ``memory://`` (the generic fsspec path, run in threads, as
sftp and other non-async filesystems are), S3 on the moto server (async, s3fs), and a local
folder through fsspec, sync and async, as a store that writes under a temporary name (sftp,
sshfs) is reached.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest
from fsspec.implementations.asyn_wrapper import AsyncFileSystemWrapper
from fsspec.implementations.local import LocalFileSystem
from remote_helpers import FolderStore, MemoryStore, S3Store, Store, key_of

from dvlite.errors import CorruptObjectError, RemoteError
from dvlite.objects import fsutil
from dvlite.objects.cache import Cache
from dvlite.objects.hashing import hex_of, oid_of_bytes
from dvlite.objects.tree import FILE, Tree, TreeEntry
from dvlite.remote import Obj, Remote, RemoteConfig, from_config
from dvlite.remote.base import GC_MARK
from dvlite.remote.fsspec_async import AsyncFsspecRemote
from dvlite.remote.fsspec_remote import EXISTS_MAX, FsspecRemote
from dvlite.remote.s3 import S3Remote

BIG = (2 << 20) + 7  # above hashing.CHUNK and SMALL_FILE: copied and hashed in chunks


class AsyncLocal(AsyncFileSystemWrapper):
    """The local filesystem as an async one."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(LocalFileSystem(), **kwargs)


# a folder through fsspec: not an object store, so written under a temporary name and renamed
fsspec.register_implementation("synclocal", LocalFileSystem, clobber=True)
fsspec.register_implementation("asynclocal", AsyncLocal, clobber=True)


def fsspec_folder(root: Path, protocol: str) -> FolderStore:
    store = FolderStore(root)
    store.url, store.missing_url = f"{protocol}://{root}", f"{protocol}://{root.parent / 'no'}"
    return store


def run_key(n: int) -> str:
    return f"{n:032x}"


def open_remote(url: str, options: dict[str, str], base: Path) -> Remote:
    """The remote as the CLI opens it (``dvlite.remote.open_remote`` on a configured repo)."""
    return from_config(RemoteConfig("store", url, dict(options)), base)


def fill(cache: Cache, n: int, salt: str = "") -> dict[str, bytes]:
    """``n`` small objects added to the cache; their bytes by oid."""
    objects = {}
    for i in range(n):
        data = f"object {salt}{i}\n".encode()
        objects[cache.add_bytes(data)] = data
    return objects


def add_big(cache: Cache, tmp_path: Path) -> tuple[str, bytes]:
    data = os.urandom(4096) * (BIG // 4096) + b"tail..."
    assert len(data) == BIG
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    return cache.add_file(str(src), len(data)), data


def objs_of(objects: dict[str, bytes], *, sizes: bool = True) -> list[Obj]:
    return [Obj(oid, len(data) if sizes else -1) for oid, data in sorted(objects.items())]


def in_one_prefix(count: int, prefix: str) -> dict[str, bytes]:
    """``count`` distinct contents whose oids all start (after the algorithm) with ``prefix``."""
    found: dict[str, bytes] = {}
    i = 0
    while len(found) < count:
        data = f"same prefix {i}".encode()
        oid = oid_of_bytes(data)
        if hex_of(oid).startswith(prefix):
            found[oid] = data
        i += 1
    return found


def corrupt_in_cache(cache: Cache, oid: str, data: bytes) -> None:
    path = Path(cache.path(oid))
    path.chmod(0o644)
    path.write_bytes(data)


def cache_tmp_files(cache: Cache) -> list[str]:
    return os.listdir(cache.tmp_dir) if os.path.isdir(cache.tmp_dir) else []


class Recorder:
    """A progress ``advance`` callback that sums what it is told."""

    def __init__(self) -> None:
        self.files = 0
        self.size = 0

    def __call__(self, files: int, size: int) -> None:
        self.files += files
        self.size += size


class RemoteContract:
    """What every remote does. Subclasses provide the ``store`` fixture."""

    @pytest.fixture
    def remote(self, store: Store, tmp_path: Path) -> Remote:
        return open_remote(store.url, store.options, tmp_path)

    @pytest.fixture
    def cache(self, tmp_path: Path) -> Cache:
        return Cache(tmp_path / "cache")

    @pytest.fixture
    def empty_cache(self, tmp_path: Path) -> Cache:
        return Cache(tmp_path / "other-cache")

    def push(self, remote: Remote, cache: Cache, objects: dict[str, bytes]) -> None:
        assert remote.upload(cache, objs_of(objects)) == {}

    # -- reaching the store ---------------------------------------------------------------
    def test_check_reachable(self, remote: Remote) -> None:
        remote.check_reachable()

    def test_check_reachable_missing_root(self, store: Store, tmp_path: Path) -> None:
        missing = open_remote(store.missing_url, store.options, tmp_path)
        with pytest.raises(RemoteError, match="does not exist"):
            missing.check_reachable()

    # -- upload, exists, list ---------------------------------------------------------------
    def test_upload_stores_each_object_under_its_key(
        self, remote: Remote, cache: Cache, store: Store, tmp_path: Path
    ) -> None:
        objects = fill(cache, 5)
        big, data = add_big(cache, tmp_path)
        objects[big] = data
        self.push(remote, cache, objects)
        assert store.keys() == {key_of(o) for o in objects}
        for oid, data in objects.items():
            assert store.read(key_of(oid)) == data

    def test_upload_again_changes_nothing(self, remote: Remote, cache: Cache, store: Store) -> None:
        objects = fill(cache, 3)
        self.push(remote, cache, objects)
        self.push(remote, cache, objects)
        assert store.keys() == {key_of(o) for o in objects}

    def test_upload_refuses_a_corrupt_cache_copy(
        self, remote: Remote, cache: Cache, store: Store
    ) -> None:
        objects = fill(cache, 3)
        bad = sorted(objects)[1]
        corrupt_in_cache(cache, bad, b"rotten bytes")
        failed = remote.upload(cache, objs_of(objects))
        assert set(failed) == {bad}
        error = failed[bad]
        assert isinstance(error, CorruptObjectError)
        assert (error.oid, error.actual) == (bad, oid_of_bytes(b"rotten bytes"))
        assert store.keys() == {key_of(o) for o in objects if o != bad}  # no temporary left

    def test_upload_reports_an_object_missing_from_the_cache(
        self, remote: Remote, cache: Cache, store: Store
    ) -> None:
        objects = fill(cache, 2)
        absent = oid_of_bytes(b"never added")
        failed = remote.upload(cache, [*objs_of(objects), Obj(absent, 11)])
        assert set(failed) == {absent}
        assert isinstance(failed[absent], FileNotFoundError)
        assert store.keys() == {key_of(o) for o in objects}

    def test_exists_few(self, remote: Remote, cache: Cache) -> None:
        objects = fill(cache, 4)
        self.push(remote, cache, objects)
        absent = set(fill(Cache(cache.root.parent / "elsewhere"), 3, salt="absent "))
        assert remote.exists([*objects, *absent, *objects]) == set(objects)
        assert remote.exists(absent) == set()
        assert remote.exists([]) == set()

    def test_exists_many_spread_over_prefixes(self, remote: Remote, cache: Cache) -> None:
        objects = fill(cache, EXISTS_MAX + 20)
        self.push(remote, cache, objects)
        asked = sorted(objects)[: EXISTS_MAX + 10]  # the store holds more than is asked
        absent = set(fill(Cache(cache.root.parent / "elsewhere"), 10, salt="absent "))
        assert remote.exists([*asked, *absent]) == set(asked)

    def test_exists_many_in_one_prefix(self, remote: Remote, cache: Cache) -> None:
        same = in_one_prefix(EXISTS_MAX + 10, "a7")
        present = dict(sorted(same.items())[:40])
        for data in present.values():
            cache.add_bytes(data)
        others = fill(cache, 30)  # under other prefixes: not asked about
        self.push(remote, cache, {**present, **others})
        assert remote.exists(same) == set(present)

    def test_list_oids(self, remote: Remote, cache: Cache, store: Store) -> None:
        assert remote.list_oids() == set()
        objects = fill(cache, 7)
        self.push(remote, cache, objects)
        remote.write_runs({run_key(1): b"{}"})
        remote.add_gc_mark()
        assert remote.list_oids() == set(objects)

    # -- download -------------------------------------------------------------------------
    @pytest.mark.parametrize("sizes", [True, False], ids=["sizes-known", "sizes-unknown"])
    def test_download_into_an_empty_cache(
        self,
        remote: Remote,
        cache: Cache,
        empty_cache: Cache,
        tmp_path: Path,
        sizes: bool,
    ) -> None:
        objects = fill(cache, 6)
        big, data = add_big(cache, tmp_path)
        objects[big] = data
        self.push(remote, cache, objects)
        assert remote.download(empty_cache, objs_of(objects, sizes=sizes)) == {}
        assert set(empty_cache.iter_oids()) == set(objects)
        for oid, data in objects.items():
            assert Path(empty_cache.path(oid)).read_bytes() == data
            assert empty_cache.verify(oid) == oid
        assert cache_tmp_files(empty_cache) == []

    def test_download_reports_a_missing_object(
        self, remote: Remote, cache: Cache, empty_cache: Cache, store: Store
    ) -> None:
        objects = fill(cache, 4)
        self.push(remote, cache, objects)
        gone = sorted(objects)[2]
        store.delete(key_of(gone))
        failed = remote.download(empty_cache, objs_of(objects))
        assert set(failed) == {gone}
        assert isinstance(failed[gone], FileNotFoundError)
        assert set(empty_cache.iter_oids()) == set(objects) - {gone}
        assert cache_tmp_files(empty_cache) == []

    @pytest.mark.parametrize("same_size", [True, False], ids=["same-size", "other-size"])
    @pytest.mark.parametrize("sizes", [True, False], ids=["sizes-known", "sizes-unknown"])
    def test_download_refuses_a_corrupt_object(
        self,
        remote: Remote,
        cache: Cache,
        empty_cache: Cache,
        store: Store,
        same_size: bool,
        sizes: bool,
    ) -> None:
        objects = fill(cache, 4)
        self.push(remote, cache, objects)
        bad = sorted(objects)[0]
        rotten = bytes(len(objects[bad])) if same_size else b"something else entirely"
        store.write(key_of(bad), rotten)
        failed = remote.download(empty_cache, objs_of(objects, sizes=sizes))
        assert set(failed) == {bad}
        error = failed[bad]
        assert isinstance(error, CorruptObjectError)
        assert (error.oid, error.actual) == (bad, oid_of_bytes(rotten))
        assert error.where == remote.url_of(bad)
        assert set(empty_cache.iter_oids()) == set(objects) - {bad}
        assert cache_tmp_files(empty_cache) == []

    # -- progress ---------------------------------------------------------------------------
    def test_progress_counts_every_object_and_byte(
        self, remote: Remote, cache: Cache, empty_cache: Cache, tmp_path: Path
    ) -> None:
        objects = fill(cache, 5)
        big, data = add_big(cache, tmp_path)
        objects[big] = data
        total = sum(map(len, objects.values()))
        sent, received = Recorder(), Recorder()
        assert remote.upload(cache, objs_of(objects), sent) == {}
        assert (sent.files, sent.size) == (len(objects), total)
        assert remote.download(empty_cache, objs_of(objects), received) == {}
        assert (received.files, received.size) == (len(objects), total)

    # -- read -----------------------------------------------------------------------------
    def tree(self, cache: Cache) -> Tree:
        objects = fill(cache, 2)
        entries = [TreeEntry(f"f{i}", FILE, o, len(d)) for i, (o, d) in enumerate(objects.items())]
        tree = Tree.of(entries)
        cache.add_bytes(tree.to_bytes(), tree.oid)
        return tree

    def test_read_a_tree(self, remote: Remote, cache: Cache) -> None:
        tree = self.tree(cache)
        assert remote.upload(cache, [Obj(tree.oid)]) == {}
        data = remote.read(tree.oid)
        assert data == tree.to_bytes()
        assert Tree.from_bytes(data, tree.oid) == tree

    def test_read_a_corrupt_object(self, remote: Remote, cache: Cache, store: Store) -> None:
        tree = self.tree(cache)
        assert remote.upload(cache, [Obj(tree.oid)]) == {}
        store.write(key_of(tree.oid), b"[]")
        with pytest.raises(CorruptObjectError) as caught:
            remote.read(tree.oid)
        assert (caught.value.oid, caught.value.actual) == (tree.oid, oid_of_bytes(b"[]"))

    def test_read_a_missing_object(self, remote: Remote) -> None:
        with pytest.raises(FileNotFoundError):
            remote.read(oid_of_bytes(b"nothing"))

    # -- verifying and deleting -----------------------------------------------------------
    def test_hash_objects(self, remote: Remote, cache: Cache, store: Store) -> None:
        objects = fill(cache, 3)
        self.push(remote, cache, objects)
        good, bad, gone = sorted(objects)
        store.write(key_of(bad), b"damaged")
        store.delete(key_of(gone))
        assert remote.hash_objects([good, bad, gone], Recorder()) == {
            good: good,
            bad: oid_of_bytes(b"damaged"),
            gone: None,
        }

    def test_delete(self, remote: Remote, cache: Cache, store: Store) -> None:
        objects = fill(cache, 4)
        self.push(remote, cache, objects)
        kept, *dropped = sorted(objects)
        never = oid_of_bytes(b"never uploaded")
        remote.delete([*dropped, never])
        assert remote.exists(objects) == {kept}
        assert remote.list_oids() == {kept}
        assert store.keys() == {key_of(kept)}

    # -- run-cache entries --------------------------------------------------------------------
    def test_run_cache_round_trip(self, remote: Remote, store: Store) -> None:
        a, b, missing = run_key(0xA1), run_key(0xB2), run_key(0xC3)
        assert remote.list_runs() == set()
        remote.write_runs({a: b'{"a": 1}', b: b'{"b": 2}'})
        assert remote.list_runs() == {a, b}
        assert store.keys() == {f"runs/{a[:2]}/{a[2:]}", f"runs/{b[:2]}/{b[2:]}"}
        remote.write_runs({a: b'{"a": 3}'})  # rewritten in place
        read = remote.read_runs([a, b, missing])
        assert list(read) == [a, b, missing]
        assert (read[a], read[b]) == (b'{"a": 3}', b'{"b": 2}')
        assert isinstance(read[missing], FileNotFoundError)
        remote.delete_runs([a, missing])
        assert remote.list_runs() == {b}
        assert remote.list_oids() == set()

    # -- gc marks -------------------------------------------------------------------------
    def test_gc_marks(self, remote: Remote, store: Store) -> None:
        assert remote.gc_marks() == frozenset()
        first, second = remote.add_gc_mark(), remote.add_gc_mark()
        assert first != second
        assert GC_MARK.fullmatch(first) and GC_MARK.fullmatch(second)
        store.write("gc/notes.txt", b"not a mark")
        assert remote.gc_marks() == {first, second}
        remote.delete_gc_marks([first, "notes.txt"])
        assert remote.gc_marks() == {second}
        assert store.keys() == {f"gc/{second}", "gc/notes.txt"}  # only marks are deleted

    # -- temporary files ----------------------------------------------------------------------
    def test_list_tmp(self, remote: Remote, cache: Cache, store: Store) -> None:
        objects = fill(cache, 2)
        self.push(remote, cache, objects)
        # what a push killed mid-copy leaves: a name as long as an object's (30 characters)
        tmp = ".dvlite-tmp-1234567-0a1b2c3d12"
        assert len(tmp) == 30 and fsutil.is_tmp_name(tmp)
        key = f"{key_of(sorted(objects)[0]).rsplit('/', 1)[0]}/{tmp}"
        store.write(key, b"half an obj")
        assert remote.list_oids() == set(objects)
        assert remote.exists(objects) == set(objects)
        if not store.writes_tmp:
            assert remote.list_tmp() == []  # an object store writes in place
            return
        path = store.path(key)
        assert remote.list_tmp() == [(path, os.lstat(path).st_mtime)]
        remote.delete_tmp([path])
        assert remote.list_tmp() == []
        assert store.keys() == {key_of(o) for o in objects}


class TestFolder(RemoteContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Store:
        return FolderStore(tmp_path / "store")


class TestMemory(RemoteContract):
    @pytest.fixture
    def store(self) -> Iterator[Store]:
        store = MemoryStore()
        try:
            yield store
        finally:
            store.clear()

    def test_runs_in_threads(self, remote: Remote) -> None:
        # the generic sync path: what sftp and other non-async filesystems take
        assert type(remote) is FsspecRemote


class TestS3(RemoteContract):
    @pytest.fixture
    def store(self, s3: str) -> Store:
        return S3Store(s3)

    def test_runs_async(self, remote: Remote) -> None:
        assert isinstance(remote, S3Remote)
        assert isinstance(remote, AsyncFsspecRemote)


class TestSyncFsspecFolder(RemoteContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Store:
        return fsspec_folder(tmp_path / "store", "synclocal")

    def test_runs_in_threads(self, remote: Remote) -> None:
        assert type(remote) is FsspecRemote


class TestAsyncFsspecFolder(RemoteContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Store:
        return fsspec_folder(tmp_path / "store", "asynclocal")

    def test_runs_async(self, remote: Remote) -> None:
        assert type(remote) is AsyncFsspecRemote
