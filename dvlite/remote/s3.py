"""S3 remotes through s3fs: the remote's options mapped onto s3fs's arguments, and three
shortcuts S3 allows (one HEAD to ask for an object, one GET to read one, one LIST per 1,000
keys to list a prefix)."""

from __future__ import annotations

from typing import Any

from dvlite.errors import ConfigError, RemoteError
from dvlite.remote.config import S3_OPTIONS
from dvlite.remote.fsspec_remote import FsspecRemote


class S3Remote(FsspecRemote):
    def _open_fs(self) -> Any:
        try:
            import s3fs
        except ImportError:  # pragma: no cover - s3fs is a dependency
            raise RemoteError(f"{self.label} needs the s3fs package: pip install s3fs") from None
        options = self._fs_options()
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
            # dvlite retries transient errors itself (see errors.py): botocore does not, and a
            # refused connection is reported at once instead of after botocore's long backoff
            "config_kwargs": {
                "retries": {"mode": "standard", "total_max_attempts": 1},
                "max_pool_connections": max(self.jobs, 10),
                # remote.NAME.timeout: to connect, and then for each part of the answer (the
                # wait starts once the request is sent, so a long upload is not cut short)
                "connect_timeout": self.timeout,
                "read_timeout": self.timeout,
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
            fs = s3fs.S3FileSystem(**kwargs)
        except Exception as exc:
            raise self.translate(exc) from None
        # s3fs retries too (5 attempts on SlowDown and dropped connections): one attempt per
        # call, so dvlite's retries are the only ones and a failing store is given up on in
        # 1 + RETRIES attempts, not 5 times as many
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

    async def _acat(self, path: str, end: int | None = None) -> bytes:
        # one GET, without s3fs's HEAD for the size first
        start = None if end is None else 0
        return await self.fs._cat_file(path, start=start, end=end, max_concurrency=1)

    async def _afind(self, path: str) -> list[str]:
        # one LIST per 1,000 keys (s3fs's find asks twice more when nothing is there)
        bucket, _, key = path.partition("/")
        found: list[str] = []
        more: dict[str, str] = {}
        while True:
            page = await self.fs._call_s3(
                "list_objects_v2", Bucket=bucket, Prefix=f"{key}/", **more
            )
            found.extend(f"{bucket}/{o['Key']}" for o in page.get("Contents", ()))
            if not page.get("IsTruncated"):
                return found
            more = {"ContinuationToken": page["NextContinuationToken"]}
