"""The remote interface: every operation a batch over objects, run through ``retry``; the
backends say how to move one object."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import time
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from dvlite.errors import RemoteError
from dvlite.objects.hashing import hex_of
from dvlite.objects.store import verified
from dvlite.progress import Advance
from dvlite.remote import errors, packed
from dvlite.remote.config import RemoteConfig, parse_format, parse_timeout, positive, protocol_of
from dvlite.remote.download import download
from dvlite.remote.maintenance import Maintenance
from dvlite.remote.packed import Obj
from dvlite.remote.retry import Retry
from dvlite.remote.upload import PackUpload
from dvlite.secrets import mask_url, scrub

if TYPE_CHECKING:
    from dvlite.objects.cache import Cache

DEFAULT_JOBS_FOLDER = 8
DEFAULT_JOBS_NETWORK = 64

GC_DIR = "gc"
GC_MARK = re.compile(r"[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}")  # what add_gc_mark writes

T = TypeVar("T")
Maybe: TypeAlias = "T | Awaitable[T]"  # what one object's operation returns: async remotes await it


class Remote(Maintenance):
    """One configured remote. Batch operations; errors come out as ``RemoteError``."""

    def __init__(
        self, cfg: RemoteConfig, base: str | os.PathLike[str], *, jobs: int | None = None
    ) -> None:
        self.name = cfg.name
        # the URL as messages and reports show it, its password masked: the backends reach
        # the store through ``root`` and ``options``, never through ``url``
        self.url = mask_url(cfg.url)
        self._secret_url = cfg.url
        self.options = cfg.options
        self.protocol = protocol_of(cfg.url)
        self.is_folder = not self.protocol
        self.label = f"remote {self.name!r} ({self.url})"
        if self.protocol:
            self.root = cfg.url.split("://", 1)[1].rstrip("/")
        else:
            path = cfg.url.removeprefix("file://")
            self.root = (
                os.path.join(os.fspath(base), os.path.expanduser(path)).rstrip(os.sep) or os.sep
            )
        if not jobs and "jobs" in self.options:
            jobs = int(positive(self.name, "jobs", self.options["jobs"], int, "a whole number"))
        self.jobs = jobs or (DEFAULT_JOBS_NETWORK if self.protocol else DEFAULT_JOBS_FOLDER)
        self.timeout = parse_timeout(self.name, self.options.get("timeout"))
        self.format = int(parse_format(self.name, self.options.get("format")))
        self.keep_index: str | None = None  # where index files read are kept (the cache's)
        self.warnings: list[str] = []  # what reading the remote found and mended
        self.reused = 0  # bytes of chunks transfers did not move: the other side had them
        self._receiving_into: str | None = None  # the cache a download writes into

    def __repr__(self) -> str:
        return f"Remote({self.name!r}, {self.url!r})"

    def path(self, oid: str) -> str:
        h = hex_of(oid)
        return f"{self.root}/objects/{h[:2]}/{h[2:]}"

    def url_of(self, oid: str) -> str:
        """Where an object lives, as a user would type it (for messages)."""
        loc = self.catalog.objects.get(oid) if self.format == 2 else None
        if loc is not None and loc.pack:
            return f"{self.display_key(packed.pack_key(loc.pack))} (bytes {loc.offset}-{loc.end})"
        return self.display(self.path(oid))

    def display_key(self, key: str) -> str:
        """A key (a path relative to the root) as a user would type it."""
        return self.url.rstrip("/") + "/" + key

    def display(self, path: str) -> str:
        """A path of the remote's as a user would type it (for messages)."""
        return self.url.rstrip("/") + path[len(self.root) :]

    # -- errors ---------------------------------------------------------------------------
    def translate(self, exc: BaseException, *, attempts: int = 1) -> RemoteError:
        """``errors.translate``, the URL's password masked where the library's message has it."""
        if (
            self._receiving_into is not None
            and isinstance(exc, OSError)
            and exc.errno in (errno.ENOSPC, errno.EDQUOT)
        ):  # a download fills the local disk, not the remote's
            return RemoteError(
                f"no space left on the local disk of the cache ({self._receiving_into}); "
                "free some space there, then run the command again"
            )
        error = errors.translate(self, exc, attempts=attempts)
        message = scrub(str(error), self._secret_url)
        return error if message == str(error) else RemoteError(message)

    def _map(
        self, op: Callable[[Any], Any], items: Sequence[Any], jobs: int | None = None
    ) -> list[Any]:
        """``op`` on every item, ``jobs`` (else ``self.jobs``) at a time in threads
        (``retry.Retry``); the results in order."""
        return Retry(self.translate, jobs or self.jobs).threads(op, items) if items else []

    def _one(self, op: Callable[[Any], Any], item: Any) -> Any:
        """``op`` on one item, retried; any error raised as a RemoteError."""
        result = self._map(op, [item])[0]
        if isinstance(result, BaseException):
            raise self.translate(result)
        return result

    # -- what the backends provide, one object at a time (awaitable on async remotes) -----
    @abstractmethod
    def check_reachable(self) -> None:
        """Raise a RemoteError if the remote's root (folder, bucket) does not exist."""

    @abstractmethod
    def _loose_exists(self, oids: Collection[str]) -> set[str]:
        """Which of ``oids`` the remote holds whole, under ``objects/``."""

    @abstractmethod
    def _loose_oids(self) -> set[str]:
        """Every object id under ``objects/`` (one listing of it)."""

    @abstractmethod
    def list_runs(self) -> set[str]:
        """The key of every run-cache entry on the remote (one listing)."""

    @abstractmethod
    def _find(self, path: str) -> Maybe[list[str]]:
        """The paths of the files below ``path`` (none when it does not exist)."""

    @abstractmethod
    def _put(self, cache: Cache, obj: Obj, progress: Advance | None) -> Maybe[None]: ...
    @abstractmethod
    def _get(self, cache: Cache, obj: Obj, progress: Advance | None) -> Maybe[None]: ...
    @abstractmethod
    def _hash(self, oid: str, progress: Advance | None) -> Maybe[str]: ...
    @abstractmethod
    def _cat_verified(self, oid: str) -> Maybe[bytes]: ...
    @abstractmethod
    def _rm(self, path: str) -> Maybe[None]: ...
    @abstractmethod
    def _read(self, path: str) -> Maybe[bytes]: ...
    @abstractmethod
    def _write(self, path: str, data: bytes) -> Maybe[None]: ...
    @abstractmethod
    def _write_new(self, path: str, data: bytes) -> Maybe[None]:
        """Write a file whose name is its content's hash, unless it is there already."""

    @abstractmethod
    def _range(
        self, path: str, start: int, end: int | None, then: Callable[[bytes], T]
    ) -> Maybe[T]:
        """``then`` of bytes ``start``-``end`` of ``path`` (fewer at its end; with ``start``
        negative and ``end`` None, its last ``-start`` bytes), called off the event loop on
        async remotes."""

    # -- objects ----------------------------------------------------------------------------
    @functools.cached_property
    def catalog(self) -> packed.Catalog:
        """What the remote's index files say it holds (listed and read once)."""
        catalog = packed.load_catalog(self, self.keep_index)
        self.warnings += [w for w in catalog.warnings if w not in self.warnings]
        return catalog

    def exists(self, oids: Collection[str]) -> set[str]:
        """Which of ``oids`` the remote holds: on format 2, those its index files name; on
        format 1, those stored whole (push then sends again, whole, what only a pack holds)."""
        if self.format == 2:
            return {o for o in oids if o in self.catalog.objects}
        return self._loose_exists(oids)

    def list_oids(self) -> set[str]:
        """Every object id on the remote (one listing of its index files or its objects)."""
        return set(self.catalog.objects) if self.format == 2 else self._loose_oids()

    def upload(
        self, cache: Cache, objs: Sequence[Obj], progress: Advance | None = None
    ) -> dict[str, BaseException]:
        """Copy objects from the cache to the remote, verifying each as it is read.
        Returns the objects that failed (missing or corrupt in the cache), by oid."""
        with self.uploading(cache, progress) as send:
            return send(objs)

    @contextlib.contextmanager
    def uploading(
        self, cache: Cache, progress: Advance | None = None
    ) -> Iterator[Callable[[Sequence[Obj]], dict[str, BaseException]]]:
        """A function that uploads waves of objects (each after those it needs), returning the
        ones that failed; on format 2 they count as on the remote only once the ``with`` ends
        without an error (their index file is written then)."""
        if self.format == 1:
            yield lambda objs: self.upload_whole(cache, objs, progress)
            return
        batch = PackUpload(self, cache, progress, self.catalog.objects)
        yield batch.add
        index_id = batch.finish()
        if index_id is not None and "catalog" in self.__dict__:
            del self.catalog  # it changed: read again when next asked

    def upload_whole(
        self, cache: Cache, objs: Sequence[Obj], progress: Advance | None = None
    ) -> dict[str, BaseException]:
        """Copy objects whole to ``objects/``; the ones that failed, by oid."""
        return _failures(objs, self._map(lambda obj: self._put(cache, obj, progress), objs))

    def download(
        self, cache: Cache, objs: Sequence[Obj], progress: Advance | None = None
    ) -> dict[str, BaseException]:
        """Copy objects from the remote into the cache; each is re-hashed before it is
        installed. Returns the ones that failed (missing on the remote, or corrupt)."""
        self._receiving_into = os.fspath(cache.root)
        try:
            with cache.packing():  # many small objects arrive as a pack, not thousands of files
                return self._download(cache, objs, progress)
        finally:
            self._receiving_into = None

    def _download(
        self, cache: Cache, objs: Sequence[Obj], progress: Advance | None
    ) -> dict[str, BaseException]:
        """Packed objects by range reads, whole ones one by one; an object missing where the
        remote's format puts it is looked for where the other format would."""
        first, second = self.download_whole, functools.partial(download, self)
        if self.format == 2:
            first, second = second, first
        failed = first(cache, objs, progress)
        again = [o for o in objs if isinstance(failed.get(o.oid), FileNotFoundError)]
        if again and (self.format == 2 or self.catalog.objects):
            for obj in again:
                del failed[obj.oid]
            failed |= second(cache, again, progress)
        return failed

    def download_whole(
        self, cache: Cache, objs: Sequence[Obj], progress: Advance | None
    ) -> dict[str, BaseException]:
        """Copy objects stored whole into the cache; the ones that failed, by oid."""
        return _failures(objs, self._map(lambda obj: self._get(cache, obj, progress), objs))

    def read(self, oid: str) -> bytes:
        """One object's bytes, verified (for trees the cache lacks)."""
        loc = self.catalog.objects.get(oid) if self.format == 2 else None
        if loc is None or not loc.pack:
            [data] = self._map(self._cat_verified, [oid])
        else:
            where = self.url_of(oid)
            key = f"{self.root}/{packed.pack_key(loc.pack)}"
            [data] = self._map(
                lambda _: self._range(key, loc.offset, loc.end, lambda b: verified(b, oid, where)),
                [oid],
            )
        if isinstance(data, BaseException):
            raise data  # FileNotFoundError or CorruptObjectError, for the caller to name
        return data

    def hash_objects(
        self, oids: Sequence[str], progress: Advance | None = None
    ) -> dict[str, str | None]:
        """What each remote object's bytes really hash to (None when it is missing)."""
        results = self._map(lambda oid: self._hash(oid, progress), oids)
        return {o: r if isinstance(r, str) else None for o, r in zip(oids, results, strict=True)}

    def delete(self, oids: Iterable[str]) -> None:
        """Remove objects from the remote. Callers delete trees before their contents, so
        that a tree on the remote always means its contents are there."""
        self._map(lambda oid: self._rm(self.path(oid)), list(oids))

    # -- files by key (a path relative to the root): index files, packs, locks -------------
    def find_keys(self, folder: str) -> list[str]:
        """The keys of the files below ``folder`` (one listing; none when it does not exist)."""
        listed = self._one(self._find, f"{self.root}/{folder}")
        start = len(self.root) + 1
        return [p[start:].replace(os.sep, "/") for p in listed]

    def read_keys(self, keys: Sequence[str]) -> list[bytes | BaseException]:
        """Each file's bytes, or the FileNotFoundError reading it gave."""
        return self._map(lambda key: self._read(f"{self.root}/{key}"), keys)

    def read_ranges(
        self,
        ranges: Sequence[tuple[str, int, int | None]],
        then: Callable[[int, bytes], T] | None = None,
        jobs: int | None = None,
    ) -> list[Any]:
        """Bytes ``start``-``end`` of each file ``(key, start, end)`` (fewer at its end; with
        ``start`` negative and ``end`` None, its last ``-start`` bytes), or the
        FileNotFoundError reading it gave; with ``then``, what ``then(i, bytes)`` of the i-th
        returns, called as each arrives (so only ``jobs`` ranges are held at once)."""

        def one(i: int) -> Any:
            key, start, end = ranges[i]
            got = bytes if then is None else functools.partial(then, i)
            return self._range(f"{self.root}/{key}", start, end, got)

        return self._map(one, range(len(ranges)), jobs)

    def delete_keys(self, keys: Iterable[str]) -> None:
        self._map(lambda key: self._rm(f"{self.root}/{key}"), list(keys))

    def write_keys(self, files: dict[str, bytes], jobs: int | None = None) -> None:
        """Write files named by their content's hash, create-only, ``jobs`` at a time."""
        self._map(
            lambda item: self._write_new(f"{self.root}/{item[0]}", item[1]),
            list(files.items()),
            jobs,
        )

    # -- run-cache entries: small files at runs/<2 hex>/<30 hex>, beside objects/ ----------
    def run_path(self, key: str) -> str:
        return f"{self.root}/runs/{key[:2]}/{key[2:]}"

    def run_url(self, key: str) -> str:
        return self.display(self.run_path(key))

    def read_runs(self, keys: Sequence[str]) -> dict[str, bytes | BaseException]:
        """Each entry's bytes, or the error (FileNotFoundError) that reading it gave. Entries
        are not content-addressed: the caller validates what they say."""
        results = self._map(lambda key: self._read(self.run_path(key)), keys)
        return dict(zip(keys, results, strict=True))

    def delete_runs(self, keys: Iterable[str]) -> None:
        self._map(lambda key: self._rm(self.run_path(key)), list(keys))

    def write_runs(self, entries: dict[str, bytes]) -> None:
        """Store run-cache entries, each appearing only once completely written."""
        self._map(lambda item: self._write(self.run_path(item[0]), item[1]), list(entries.items()))

    # -- gc marks: gc/<name>, written before a gc of the remote deletes anything ----------
    def gc_marks(self) -> frozenset[str]:
        """The gc marks on the remote (one listing): they change whenever a gc of the remote
        starts, so a client's record of what it verified there holds while they stay the same."""
        listed = self._one(self._find, f"{self.root}/{GC_DIR}")
        return frozenset(filter(GC_MARK.fullmatch, (p.rsplit("/", 1)[-1] for p in listed)))

    def add_gc_mark(self) -> str:
        """Write a new gc mark (a name no other writer uses); returns it."""
        name = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + os.urandom(4).hex()
        self._one(lambda path: self._write(path, b""), f"{self.root}/{GC_DIR}/{name}")
        return name

    def delete_gc_marks(self, names: Iterable[str]) -> None:
        self._map(self._rm, [f"{self.root}/{GC_DIR}/{n}" for n in names if GC_MARK.fullmatch(n)])

    # -- temporary files a killed push left (stores that write under a temporary name) ------
    def list_tmp(self) -> list[tuple[str, float]]:
        """Every temporary file on the remote, with its modification time (seconds since the
        epoch). Object stores, where an object appears only once written, have none."""
        return []

    def delete_tmp(self, paths: Iterable[str]) -> None:
        self._map(self._rm, list(paths))


def _failures(objs: Sequence[Obj], results: list[Any]) -> dict[str, BaseException]:
    return {o.oid: r for o, r in zip(objs, results, strict=True) if isinstance(r, BaseException)}
