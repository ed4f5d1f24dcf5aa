"""S3 remotes through s3fs: the remote's options mapped onto s3fs's arguments, and three
shortcuts S3 allows (one HEAD to ask for an object, one GET to read one, one LIST per 1,000
keys to list a prefix) and its create-only write (``If-None-Match: *``)."""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar

import aiobotocore.session
import s3fs

from dvlite.errors import ConfigError
from dvlite.remote.config import S3_OPTIONS
from dvlite.remote.fsspec_async import AsyncFsspecRemote


class S3Remote(AsyncFsspecRemote):
    CREATE: ClassVar[dict[str, str]] = {
        "mode": "create"
    }  # If-None-Match: * (never over a file already there)

    def _open_fs(self) -> Any:
        options = self._fs_options()
        unknown = sorted(set(options) - set(S3_OPTIONS))
        if unknown:
            raise ConfigError(
                f"remote.{self.name}.{unknown[0]} is not an S3 option; "
                f"use one of {', '.join(S3_OPTIONS)}"
            )
        renamed = {"access_key_id": "key", "secret_access_key": "secret", "session_token": "token"}
        kwargs: dict[str, Any] = {
            "skip_instance_cache": True,
            "use_listings_cache": False,
            "client_kwargs": {"region_name": options["region"]} if options.get("region") else {},
            # the retries are dvlite's (retry.py): a refused connection is reported at once
            "config_kwargs": {
                "retries": {"mode": "standard", "total_max_attempts": 1},
                "max_pool_connections": max(self.jobs, 10),
                # remote.NAME.timeout: to connect, and then for each part of the answer (the
                # wait starts once the request is sent, so a long upload is not cut short)
                "connect_timeout": self.timeout,
                "read_timeout": self.timeout,
            },
        }
        # the other options are s3fs's own, some by another name
        kwargs |= {renamed.get(k, k): v for k, v in options.items() if v and k != "region"}
        try:
            fs = s3fs.S3FileSystem(**kwargs)
            # the session s3fs would make, without botocore's "Expect: 100-continue" on a PUT:
            # aiohttp waits for the "100 Continue" with no timeout, so a store that accepts the
            # connection and never answers held every write forever
            fs.session = aiobotocore.session.AioSession(**fs.kwargs)
            fs.session.register("before-call.s3", _no_expect_continue)
        except Exception as exc:
            raise self.translate(exc) from None
        # s3fs's own retries (5 attempts on SlowDown and dropped connections) off: a failing
        # store is given up on in 1 + RETRIES attempts, not 5 times as many
        fs.retries = 1
        return fs

    async def _exists_one(self, oid: str) -> bool:
        # one HEAD request (s3fs's _info would also list the "directory" on a miss)
        bucket, _, key = self.path(oid).partition("/")
        try:
            await self.fs._call_s3("head_object", Bucket=bucket, Key=key)
        except FileNotFoundError:
            return False
        return True

    async def _write_new(self, path: str, data: bytes) -> None:
        # one conditional PUT (If-None-Match: *): a file of that name is left as it is
        with contextlib.suppress(FileExistsError):
            await self.fs._pipe_file(path, data, mode="create")

    async def _cat(self, path: str, start: int | None = None, end: int | None = None) -> bytes:
        # one GET, without s3fs's HEAD for the size first
        try:
            return await self.fs._cat_file(path, start=start, end=end, max_concurrency=1)
        except OSError as exc:  # a range past the end (416): no bytes, as on other stores
            cause = getattr(exc.__cause__, "response", {})
            if start is None or cause.get("Error", {}).get("Code") != "InvalidRange":
                raise
            return b""

    async def _find(self, path: str) -> list[str]:
        bucket = path.partition("/")[0]
        return [f"{bucket}/{o['Key']}" for o in await self._list(path)]

    async def _find_times(self, path: str) -> dict[str, tuple[float | None, int]]:
        bucket = path.partition("/")[0]
        return {
            f"{bucket}/{o['Key']}": (o["LastModified"].timestamp(), int(o.get("Size", 0)))
            for o in await self._list(path)
        }

    async def _create(self, path: str, data: bytes) -> bool:
        # one conditional PUT (If-None-Match: *): False when the file is there already
        try:
            await self.fs._pipe_file(path, data, mode="create")
        except FileExistsError:
            return False
        return True

    async def _list(self, path: str) -> list[dict[str, Any]]:
        # one LIST per 1,000 keys (s3fs's find asks twice more when nothing is there)
        bucket, _, key = path.partition("/")
        found: list[dict[str, Any]] = []
        more: dict[str, str] = {}
        while True:
            page = await self.fs._call_s3(
                "list_objects_v2", Bucket=bucket, Prefix=f"{key}/", **more
            )
            found.extend(page.get("Contents", ()))
            if not page.get("IsTruncated"):
                return found
            more = {"ContinuationToken": page["NextContinuationToken"]}


def _no_expect_continue(params: dict[str, Any], **_: Any) -> None:
    params.get("headers", {}).pop("Expect", None)
