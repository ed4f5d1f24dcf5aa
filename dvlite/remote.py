"""Remotes: object stores that hold the same ``objects/<2 hex>/<30 hex>`` layout as the cache.

A plain folder path is the embedded default (no extra package); ``s3://bucket/prefix`` goes
through s3fs; any other URL through the fsspec package for its protocol. Storage libraries
speak ``OSError``s and botocore errors; they are translated ONCE, here, into ``RemoteError``
with the remote's name and URL and what to check.

Every operation is a batch: the folder remote runs it in a thread pool, fsspec remotes run
it as concurrent coroutines on fsspec's event loop (s3fs sends many requests at once).
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dvlite import fsutil
from dvlite.errors import ConfigError, CorruptObjectError, RemoteError
from dvlite.hashing import CHUNK, PREFIX, hash_file, hasher, hex_of, oid_from_hasher, oid_of_bytes

if TYPE_CHECKING:
    from dvlite.cache import Cache
    from dvlite.repo import Repo

# Options a remote section may hold; S3 ones are mapped onto s3fs's arguments, the rest of an
# fsspec remote's options are passed to its filesystem as they are.
S3_OPTIONS = (
    "endpoint_url",
    "region",
    "profile",
    "access_key_id",
    "secret_access_key",
    "session_token",
)
COMMON_OPTIONS = ("url", "jobs")
SECRET_OPTIONS = ("secret_access_key", "session_token", "password", "account_key", "token")
# pip extra that provides each protocol's fsspec package
EXTRAS = {
    "gs": ("gcs", "gcsfs"),
    "gcs": ("gcs", "gcsfs"),
    "az": ("azure", "adlfs"),
    "abfs": ("azure", "adlfs"),
    "abfss": ("azure", "adlfs"),
    "adl": ("azure", "adlfs"),
    "sftp": ("sftp", "paramiko"),
    "ssh": ("sftp", "paramiko"),
    "http": ("http", "aiohttp"),
    "https": ("http", "aiohttp"),
}
# stores where an object appears only when completely written (no temporary name needed)
OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "memory"})

DEFAULT_JOBS_FOLDER = 8
DEFAULT_JOBS_NETWORK = 64
IN_MEMORY_MAX = 16 << 20  # objects up to this size are sent and received as bytes
RETRIES = 5
BACKOFF = 0.1  # seconds before the first retry; doubled each time, with jitter
# Asking object by object costs one request each; listing costs one request per 1,000 keys.
EXISTS_MAX = 64  # up to this many objects, always ask object by object


@dataclass(frozen=True)
class RemoteConfig:
    name: str
    url: str
    options: dict[str, str] = field(default_factory=dict)

    def to_dict(self, *, secrets: bool = False) -> dict[str, object]:
        shown = {
            k: (v if secrets or k not in SECRET_OPTIONS else "***")
            for k, v in sorted(self.options.items())
        }
        return {"name": self.name, "url": self.url, **shown}

    @classmethod
    def from_dict(cls, d: dict[str, str]) -> RemoteConfig:
        rest = {k: v for k, v in d.items() if k not in ("name", "url")}
        return cls(d["name"], d["url"], rest)


@dataclass(frozen=True, slots=True)
class Obj:
    """An object to move: its id, its size when known (-1 for trees), and a path to name it by."""

    oid: str
    size: int = -1
    rel: str = ""


# -- configuration ---------------------------------------------------------------------------
def _section(name: str) -> str:
    return f'remote "{name}"'


def configured(repo: Repo) -> dict[str, RemoteConfig]:
    """Every remote in the merged config, by name."""
    found = {}
    for section, options in repo.config.sections('remote "').items():
        name = section[len('remote "') : -1]
        opts = dict(options)
        url = opts.pop("url", None)
        if not url:
            raise ConfigError(
                f"remote {name!r} has no url; set it with `dvlite remote modify {name} url URL`"
            )
        found[name] = RemoteConfig(name, url, opts)
    return found


def default_name(repo: Repo) -> str | None:
    return repo.config.get("core.remote") or None


def get_config(repo: Repo, name: str | None = None) -> RemoteConfig:
    remotes = configured(repo)
    if name is None:
        name = default_name(repo)
        if name is None:
            if len(remotes) == 1:
                return next(iter(remotes.values()))
            raise RemoteError(
                "no default remote; add one with `dvlite remote add -d NAME URL`, or pass -r NAME"
                if not remotes
                else f"no default remote; pass -r NAME (one of {', '.join(sorted(remotes))}) "
                "or set one with `dvlite remote default NAME`"
            )
    if name not in remotes:
        known = f" (configured: {', '.join(sorted(remotes))})" if remotes else ""
        raise RemoteError(
            f"no remote named {name!r}{known}; add it with `dvlite remote add {name} URL`"
        )
    return remotes[name]


def open_remote(repo: Repo, name: str | None = None, *, jobs: int | None = None) -> Remote:
    cfg = get_config(repo, name)
    return Remote.from_config(cfg, repo.root, jobs=jobs)


def protocol_of(url: str) -> str:
    if "://" not in url:
        return ""
    proto = url.split("://", 1)[0].lower()
    return "" if proto in ("file", "local") else proto


# -- the remote --------------------------------------------------------------------------------
class Remote:
    """One configured remote. Batch operations; errors come out as ``RemoteError``."""

    def __init__(
        self, cfg: RemoteConfig, base: str | os.PathLike[str], *, jobs: int | None = None
    ) -> None:
        self.name = cfg.name
        self.url = cfg.url
        self.options = cfg.options
        self.protocol = protocol_of(cfg.url)
        if self.protocol:
            self.root = cfg.url.split("://", 1)[1].rstrip("/")
        else:
            path = cfg.url[len("file://") :] if cfg.url.startswith("file://") else cfg.url
            self.root = (
                os.path.join(os.fspath(base), os.path.expanduser(path)).rstrip(os.sep) or os.sep
            )
        self.jobs = (
            jobs
            or self._configured_jobs()
            or (DEFAULT_JOBS_NETWORK if self.protocol else DEFAULT_JOBS_FOLDER)
        )
        self._fs: Any = None
        self._stop = threading.Event()
        self._no_reflink = False  # folder remote: reflink failed once, copy from then on
        self._made: set[str] = set()  # folder remote: object folders known to exist

    @classmethod
    def from_config(
        cls, cfg: RemoteConfig, base: str | os.PathLike[str], *, jobs: int | None = None
    ) -> Remote:
        return cls(cfg, base, jobs=jobs)

    def _configured_jobs(self) -> int | None:
        raw = self.options.get("jobs")
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            raise ConfigError(
                f"remote.{self.name}.jobs must be a whole number above 0, not {raw!r}"
            )
        return value

    def __repr__(self) -> str:
        return f"Remote({self.name!r}, {self.url!r})"

    @property
    def is_folder(self) -> bool:
        return not self.protocol

    @property
    def label(self) -> str:
        return f"remote {self.name!r} ({self.url})"

    def path(self, oid: str) -> str:
        h = hex_of(oid)
        return f"{self.root}/objects/{h[:2]}/{h[2:]}"

    def url_of(self, oid: str) -> str:
        """Where an object lives, as a user would type it (for messages)."""
        h = hex_of(oid)
        return f"{self.url.rstrip('/')}/objects/{h[:2]}/{h[2:]}"

    # -- the filesystem -------------------------------------------------------------------
    @property
    def fs(self) -> Any:
        if self._fs is None:
            self._fs = self._open_fs()
        return self._fs

    def _open_fs(self) -> Any:
        try:
            import fsspec
        except ImportError:  # pragma: no cover - fsspec is a dependency
            raise RemoteError("fsspec is not installed: pip install fsspec") from None
        options = {k: v for k, v in self.options.items() if k not in COMMON_OPTIONS}
        if self.protocol in ("s3", "s3a"):
            return self._open_s3(options)
        extra = EXTRAS.get(self.protocol)
        try:
            cls = fsspec.get_filesystem_class(self.protocol)
            return cls(**options)
        except ImportError:
            if extra:
                raise RemoteError(
                    f"{self.label} needs the {extra[1]} package: pip install 'dvlite[{extra[0]}]'"
                ) from None
            raise RemoteError(
                f"{self.label}: the fsspec package for {self.protocol}:// is not installed"
            ) from None
        except ValueError:
            raise RemoteError(f"{self.label}: unknown storage type {self.protocol}://") from None
        except TypeError as exc:
            raise RemoteError(f"{self.label}: bad option for {self.protocol}://: {exc}") from None

    def _open_s3(self, options: dict[str, str]) -> Any:
        try:
            import s3fs
        except ImportError:  # pragma: no cover - s3fs is a dependency
            raise RemoteError(f"{self.label} needs the s3fs package: pip install s3fs") from None
        unknown = sorted(set(options) - set(S3_OPTIONS))
        if unknown:
            raise ConfigError(
                f"remote.{self.name}.{unknown[0]} is not an S3 option; "
                f"use one of {', '.join(S3_OPTIONS)}"
            )
        client_kwargs: dict[str, Any] = {}
        if options.get("region"):
            client_kwargs["region_name"] = options["region"]
        kwargs: dict[str, Any] = {
            "skip_instance_cache": True,
            "use_listings_cache": False,
            "client_kwargs": client_kwargs,
            # dvlite retries transient errors itself (see _retrying); a refused connection
            # is reported at once instead of after botocore's long backoff
            "config_kwargs": {
                "retries": {"mode": "standard", "total_max_attempts": 1},
                "max_pool_connections": max(self.jobs, 10),
                "connect_timeout": 10,
                "read_timeout": 60,
            },
        }
        if options.get("endpoint_url"):
            kwargs["endpoint_url"] = options["endpoint_url"]
        if options.get("profile"):
            kwargs["profile"] = options["profile"]
        if options.get("access_key_id"):
            kwargs["key"] = options["access_key_id"]
        if options.get("secret_access_key"):
            kwargs["secret"] = options["secret_access_key"]
        if options.get("session_token"):
            kwargs["token"] = options["session_token"]
        try:
            return s3fs.S3FileSystem(**kwargs)
        except Exception as exc:
            raise self.translate(exc) from None

    @property
    def _async(self) -> bool:
        return bool(getattr(self.fs, "async_impl", False))

    # -- running batches ------------------------------------------------------------------
    def _map(self, op: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """Run ``op`` on every item concurrently; returns results in order. A per-item
        FileNotFoundError or CorruptObjectError is returned as the result; transient errors
        are retried; anything else stops the batch with a RemoteError."""
        if not items:
            return []
        self._stop.clear()
        if self.is_folder or not self._async:
            return self._map_threads(op, items)
        import fsspec.asyn

        return list(fsspec.asyn.sync(self.fs.loop, self._map_async, op, items))

    def _map_threads(self, op: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        def run(item: Any) -> Any:
            if self._stop.is_set():
                return None
            for attempt in range(RETRIES + 1):
                try:
                    return op(item)
                except (FileNotFoundError, CorruptObjectError) as exc:
                    return exc
                except Exception as exc:
                    if attempt == RETRIES or not self.is_transient(exc):
                        self._stop.set()
                        raise self.translate(exc) from None
                time.sleep(_backoff(attempt))
            raise AssertionError("unreachable")

        if len(items) == 1 or self.jobs == 1:
            return [run(item) for item in items]
        with ThreadPoolExecutor(min(self.jobs, len(items))) as pool:
            return list(pool.map(run, items))

    async def _map_async(self, op: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        import asyncio  # only network remotes need it (~50 ms to import)

        gate = asyncio.Semaphore(self.jobs)
        failure: list[BaseException] = []

        async def run(item: Any) -> Any:
            async with gate:
                for attempt in range(RETRIES + 1):
                    if failure:
                        return None
                    try:
                        return await op(item)
                    except (FileNotFoundError, CorruptObjectError) as exc:
                        return exc
                    except Exception as exc:
                        if attempt == RETRIES or not self.is_transient(exc):
                            failure.append(exc)
                            return None
                    await asyncio.sleep(_backoff(attempt))
            return None

        results = await asyncio.gather(*(run(item) for item in items))
        if failure:
            raise self.translate(failure[0])
        return results

    # -- errors ---------------------------------------------------------------------------
    def is_transient(self, exc: BaseException) -> bool:
        if isinstance(exc, RemoteError):
            return False
        if isinstance(
            exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, TimeoutError)
        ):
            return True
        if isinstance(exc, OSError) and exc.errno in (errno.EBUSY, errno.EAGAIN, errno.EREMOTEIO):
            return True  # s3fs: SlowDown / ServiceUnavailable / InternalError
        name = type(exc).__name__
        if name in (
            "ConnectionClosedError",
            "ReadTimeoutError",
            "HTTPClientError",
            "ResponseParserError",
        ):
            return True
        if name in ("ServerDisconnectedError", "ClientPayloadError", "ClientOSError"):
            return True
        response = getattr(exc, "response", None)
        if isinstance(response, dict):
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            code = response.get("Error", {}).get("Code", "")
            return status >= 500 or code in (
                "SlowDown",
                "Throttling",
                "ThrottlingException",
                "RequestTimeout",
            )
        return False

    def translate(self, exc: BaseException) -> RemoteError:
        """One line that names the remote, says what went wrong and what to check."""
        if isinstance(exc, RemoteError):
            return exc
        if isinstance(exc, _RemoteSideError):
            exc = exc.exc
        name = type(exc).__name__
        endpoint = self.options.get("endpoint_url")
        detail = _first_line(exc)
        if name in ("EndpointConnectionError", "ConnectTimeoutError") or isinstance(
            exc, (ConnectionRefusedError,)
        ):
            where = endpoint or "its endpoint"
            return RemoteError(
                f"cannot connect to {self.label} at {where}: check endpoint_url "
                "and that the server is running and reachable"
            )
        if name in ("NoCredentialsError", "PartialCredentialsError"):
            return RemoteError(
                f"no credentials for {self.label}: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, "
                f"an AWS profile (`dvlite remote modify {self.name} profile NAME`), or "
                f"`dvlite remote modify --local {self.name} access_key_id ...`"
            )
        if name == "ProfileNotFound":
            return RemoteError(
                f"{self.label}: {detail}; check remote.{self.name}.profile and ~/.aws/config"
            )
        if isinstance(exc, PermissionError):
            return RemoteError(
                f"access denied by {self.label}: {detail}; check the credentials "
                f"(AWS_* variables, profile, or remote.{self.name}.access_key_id) "
                "and the permissions"
            )
        if isinstance(exc, FileNotFoundError) and "bucket" in detail.lower():
            bucket = self.root.split("/", 1)[0]
            return RemoteError(
                f"{self.label}: bucket {bucket!r} does not exist; create it or fix the url"
            )
        if isinstance(exc, FileNotFoundError):
            return RemoteError(f"{self.label} does not exist ({detail}); create it or fix the url")
        if isinstance(exc, OSError) and exc.strerror:
            where = f": {exc.filename}" if exc.filename else ""
            return RemoteError(f"{self.label}: {exc.strerror}{where}")
        return RemoteError(f"{self.label}: {name}: {detail}")

    def check_reachable(self) -> None:
        """Raise a RemoteError if the remote's root (folder, bucket) does not exist."""
        if self.is_folder:
            if not os.path.isdir(self.root):
                raise RemoteError(
                    f"{self.label}: folder {self.root} does not exist; create it or fix the url"
                )
            return
        root = (
            self.root.split("/", 1)[0] if self.protocol in ("s3", "s3a", "gs", "gcs") else self.root
        )
        try:
            ok = self.fs.exists(root)
        except Exception as exc:
            raise self.translate(exc) from None
        if not ok:
            what = "bucket" if self.protocol in ("s3", "s3a", "gs", "gcs") else "location"
            raise RemoteError(
                f"{self.label}: {what} {root!r} does not exist; create it or fix the url"
            )

    # -- asking what is there -------------------------------------------------------------
    def exists(self, oids: Collection[str]) -> set[str]:
        """Which of ``oids`` the remote holds: object by object when they are few, by listing
        the store (estimated from one prefix) when that costs fewer requests."""
        oids = list(dict.fromkeys(oids))
        if not oids:
            return set()
        if self.is_folder or len(oids) <= EXISTS_MAX:
            return self._exists_each(oids)
        prefixes = sorted({hex_of(o)[:2] for o in oids})
        first = self._list_prefixes(prefixes[:1])
        estimate = max(len(first), 1) * 256  # objects in the whole store
        if estimate // 1000 + 1 < len(oids) and estimate // 1000 + 1 < len(prefixes):
            listed = self.list_oids()
        elif len(prefixes) < len(oids):
            listed = first | self._list_prefixes(prefixes[1:])
        else:
            return self._exists_each(oids)
        return {o for o in oids if o in listed}

    def _exists_each(self, oids: list[str]) -> set[str]:
        if self.is_folder:
            return {o for o in oids if os.path.exists(self.path(o))}
        op = self._head_s3 if self.protocol in ("s3", "s3a") else self._info
        found = self._map(op, oids)
        return {o for o, r in zip(oids, found, strict=True) if r is True}

    async def _head_s3(self, oid: str) -> bool | BaseException:
        # one HEAD request (s3fs's _info would also list the "directory" on a miss)
        bucket, _, key = self.path(oid).partition("/")
        try:
            await self.fs._call_s3("head_object", Bucket=bucket, Key=key)
        except FileNotFoundError:
            return False
        return True

    def _info(self, oid: str) -> Any:
        if self._async:
            return self._ainfo(oid)
        try:
            self.fs.info(self.path(oid))
        except FileNotFoundError:
            return False
        return True

    async def _ainfo(self, oid: str) -> bool:
        try:
            await self.fs._info(self.path(oid))
        except FileNotFoundError:
            return False
        return True

    def list_oids(self) -> set[str]:
        """Every object id on the remote (one listing of the whole store)."""
        if self.is_folder:
            return self._list_prefixes(None)
        objects = f"{self.root}/objects"
        try:
            paths = self.fs.find(objects)
        except FileNotFoundError:
            return set()
        except Exception as exc:
            raise self.translate(exc) from None
        return _oids_of(paths)

    def _list_prefixes(self, prefixes: Sequence[str] | None) -> set[str]:
        if self.is_folder:
            base = os.path.join(self.root, "objects")
            if prefixes is None:
                try:
                    prefixes = [p for p in os.listdir(base) if len(p) == 2]
                except FileNotFoundError:
                    return set()
            found = set()
            for prefix in prefixes:
                with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                    for name in os.listdir(os.path.join(base, prefix)):
                        if len(name) == 30 and fsutil.TMP_MARK not in name:
                            found.add(PREFIX + prefix + name)
            return found
        dirs = [f"{self.root}/objects/{p}" for p in prefixes or ()]
        op = self._afind if self._async else self._find
        listed = self._map(op, dirs)
        paths = [p for result in listed if isinstance(result, list) for p in result]
        return _oids_of(paths)

    def _find(self, path: str) -> list[str]:
        try:
            return list(self.fs.find(path))
        except FileNotFoundError:
            return []

    async def _afind(self, path: str) -> list[str]:
        try:
            return list(await self.fs._find(path))
        except FileNotFoundError:
            return []

    # -- moving objects -------------------------------------------------------------------
    def upload(
        self, cache: Cache, objs: Sequence[Obj], progress: Callable[[int, int], None] | None = None
    ) -> dict[str, BaseException]:
        """Copy objects from the cache to the remote, verifying each as it is read.
        Returns the objects that failed (missing or corrupt in the cache), by oid."""

        def op(obj: Obj) -> Any:
            if self.is_folder:
                return self._put_folder(cache, obj, progress)
            if self._async:
                return self._aput(cache, obj, progress)
            return self._put_sync(cache, obj, progress)

        results = self._map(op, objs)
        return {
            o.oid: r for o, r in zip(objs, results, strict=True) if isinstance(r, BaseException)
        }

    def download(
        self, cache: Cache, objs: Sequence[Obj], progress: Callable[[int, int], None] | None = None
    ) -> dict[str, BaseException]:
        """Copy objects from the remote into the cache; each is re-hashed before it is
        installed. Returns the ones that failed (missing on the remote, or corrupt)."""

        def op(obj: Obj) -> Any:
            if self.is_folder:
                return self._get_folder(cache, obj, progress)
            if self._async:
                return self._aget(cache, obj, progress)
            return self._get_sync(cache, obj, progress)

        results = self._map(op, objs)
        return {
            o.oid: r for o, r in zip(objs, results, strict=True) if isinstance(r, BaseException)
        }

    def read(self, oid: str) -> bytes:
        """One object's bytes, verified (for trees the cache lacks)."""
        results = self._map(self._cat_verified, [oid])
        if isinstance(results[0], BaseException):
            raise results[0]
        return results[0]

    def _cat_verified(self, oid: str) -> Any:
        async def acat() -> bytes:
            return _verified(await self._acat(self.path(oid)), oid, self.url_of(oid))

        if self.is_folder:
            with open(self.path(oid), "rb") as f:
                return _verified(f.read(), oid, self.url_of(oid))
        if self._async:
            return acat()
        return _verified(self.fs.cat_file(self.path(oid)), oid, self.url_of(oid))

    async def _acat(self, path: str) -> bytes:
        if self.protocol in ("s3", "s3a"):  # one GET, without s3fs's HEAD for the size first
            return await self.fs._cat_file(path, max_concurrency=1)
        return await self.fs._cat_file(path)

    # folder remote: native copies, hashed on the way, temporary name then rename
    def _put_folder(
        self, cache: Cache, obj: Obj, progress: Callable[[int, int], None] | None
    ) -> None:
        from dvlite.cache import copy_hashing

        src = cache.path(obj.oid)
        dest = self.path(obj.oid)
        if os.path.exists(dest):
            return
        parent = os.path.dirname(dest)
        if parent not in self._made:
            os.makedirs(parent, exist_ok=True)
            self._made.add(parent)
        tmp = fsutil.tmp_name(dest)
        try:
            # a failed reflink costs a file created and removed: try it once per remote
            if not self._no_reflink and fsutil.reflink(src, tmp):
                actual = hash_file(tmp)[0]
                os.chmod(tmp, 0o444)
            else:
                self._no_reflink = True
                actual = copy_hashing(src, tmp, mode=0o444)
            if actual != obj.oid:
                raise CorruptObjectError(obj.oid, src, actual)
            os.replace(tmp, dest)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        if progress:
            progress(1, max(obj.size, 0))

    def _get_folder(
        self, cache: Cache, obj: Obj, progress: Callable[[int, int], None] | None
    ) -> None:
        size = cache.import_file(self.path(obj.oid), obj.oid, self.url_of(obj.oid))
        if progress:
            progress(1, size)

    # async fsspec remotes (s3fs, gcsfs, adlfs): bytes for small objects, files for big ones
    async def _aput(
        self, cache: Cache, obj: Obj, progress: Callable[[int, int], None] | None
    ) -> None:
        import asyncio

        src = cache.path(obj.oid)
        size = os.path.getsize(src)
        if size <= IN_MEMORY_MAX:
            data = (
                await asyncio.to_thread(_read_verified, src, obj.oid)
                if size > CHUNK
                else _read_verified(src, obj.oid)
            )
            async with _writing():
                await self.fs._pipe_file(self.path(obj.oid), data)
        else:
            actual = (await asyncio.to_thread(hash_file, src))[0]
            if actual != obj.oid:
                raise CorruptObjectError(obj.oid, src, actual)
            async with _writing():
                await self._aput_file(src, self.path(obj.oid))
        if progress:
            progress(1, size)

    async def _aput_file(self, src: str, dest: str) -> None:
        if self.protocol in OBJECT_STORES:
            await self.fs._put_file(src, dest)
            return
        tmp = fsutil.tmp_name(dest)
        await self.fs._put_file(src, tmp)
        await self.fs._mv(tmp, dest)

    async def _aget(
        self, cache: Cache, obj: Obj, progress: Callable[[int, int], None] | None
    ) -> None:
        import asyncio

        where = self.url_of(obj.oid)
        if 0 <= obj.size <= IN_MEMORY_MAX:
            data = await self._acat(self.path(obj.oid))
            cache.add_verified_bytes(data, obj.oid, where)
            size = len(data)
        else:
            tmp = cache.new_tmp()
            try:
                await self.fs._get_file(self.path(obj.oid), tmp)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            size = os.path.getsize(tmp)
            await asyncio.to_thread(cache.add_verified, tmp, obj.oid, where)
        if progress:
            progress(1, size)

    # other fsspec remotes (sftp, ...), run in threads
    def _put_sync(
        self, cache: Cache, obj: Obj, progress: Callable[[int, int], None] | None
    ) -> None:
        src = cache.path(obj.oid)
        dest = self.path(obj.oid)
        actual = hash_file(src)[0]
        if actual != obj.oid:
            raise CorruptObjectError(obj.oid, src, actual)
        with _writing_sync():
            if self.protocol in OBJECT_STORES:
                self.fs.put_file(src, dest)
            else:
                self.fs.makedirs(os.path.dirname(dest), exist_ok=True)
                tmp = fsutil.tmp_name(dest)
                self.fs.put_file(src, tmp)
                self.fs.mv(tmp, dest)
        if progress:
            progress(1, os.path.getsize(src))

    def _get_sync(
        self, cache: Cache, obj: Obj, progress: Callable[[int, int], None] | None
    ) -> None:
        tmp = cache.new_tmp()
        try:
            self.fs.get_file(self.path(obj.oid), tmp)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        size = os.path.getsize(tmp)
        cache.add_verified(tmp, obj.oid, self.url_of(obj.oid))
        if progress:
            progress(1, size)

    # -- verifying and deleting -----------------------------------------------------------
    def hash_objects(
        self, oids: Sequence[str], progress: Callable[[int, int], None] | None = None
    ) -> dict[str, str | None]:
        """What each remote object's bytes really hash to (None when it is missing)."""

        def op(oid: str) -> Any:
            if self.is_folder:
                return self._hash_folder(oid, progress)
            if self._async:
                return self._ahash(oid, progress)
            return self._hash_sync(oid, progress)

        results = self._map(op, oids)
        return {
            o: (None if isinstance(r, BaseException) else r)
            for o, r in zip(oids, results, strict=True)
        }

    def _hash_folder(self, oid: str, progress: Callable[[int, int], None] | None) -> str:
        actual, size = hash_file(self.path(oid))
        if progress:
            progress(1, size)
        return actual

    async def _ahash(self, oid: str, progress: Callable[[int, int], None] | None) -> str:
        h = hasher()
        size = 0
        path = self.path(oid)
        info = await self.fs._info(path)
        total = int(info.get("size") or 0)
        if total <= IN_MEMORY_MAX:
            data = await self._acat(path)
            h.update(data)
            size = len(data)
        else:
            for start in range(0, total, IN_MEMORY_MAX):
                data = await self.fs._cat_file(
                    path, start=start, end=min(start + IN_MEMORY_MAX, total)
                )
                h.update(data)
                size += len(data)
        if progress:
            progress(1, size)
        return oid_from_hasher(h)

    def _hash_sync(self, oid: str, progress: Callable[[int, int], None] | None) -> str:
        h = hasher()
        size = 0
        with self.fs.open(self.path(oid), "rb") as f:
            while chunk := f.read(CHUNK):
                h.update(chunk)
                size += len(chunk)
        if progress:
            progress(1, size)
        return oid_from_hasher(h)

    def delete(self, oids: Iterable[str]) -> None:
        """Remove objects from the remote. Callers delete trees before their contents, so
        that a tree on the remote always means its contents are there."""
        oids = list(oids)

        def op(oid: str) -> Any:
            if self.is_folder:
                with contextlib.suppress(FileNotFoundError):
                    fsutil.remove(self.path(oid))
                return None
            if self._async:
                return self.fs._rm_file(self.path(oid))
            return self.fs.rm_file(self.path(oid))

        self._map(op, oids)


class _RemoteSideError(Exception):
    """A remote's FileNotFoundError while writing (no bucket, no folder): not a missing object."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(str(exc))
        self.exc = exc


@contextlib.asynccontextmanager
async def _writing() -> Any:
    try:
        yield
    except FileNotFoundError as exc:
        raise _RemoteSideError(exc) from None


@contextlib.contextmanager
def _writing_sync() -> Any:
    try:
        yield
    except FileNotFoundError as exc:
        raise _RemoteSideError(exc) from None


def _backoff(attempt: int) -> float:
    return BACKOFF * (2**attempt) * (0.5 + random.random())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _oids_of(paths: Iterable[str]) -> set[str]:
    found = set()
    for path in paths:
        parts = path.rsplit("/", 2)
        if len(parts) == 3 and len(parts[1]) == 2 and len(parts[2]) == 30:
            found.add(PREFIX + parts[1] + parts[2])
    return found


def _verified(data: bytes, oid: str, where: str) -> bytes:
    actual = oid_of_bytes(data)
    if actual != oid:
        raise CorruptObjectError(oid, where, actual)
    return data


def _read_verified(path: str, oid: str) -> bytes:
    with open(path, "rb") as f:
        data = f.read()
    return _verified(data, oid, path)
