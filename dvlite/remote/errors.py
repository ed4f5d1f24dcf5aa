"""What went wrong on a remote, said once: storage libraries speak ``OSError``s and botocore
errors; here they are sorted into transient ones (retried with backoff) and the rest, which
become one ``RemoteError`` naming the remote, what went wrong and what to check.

How long a remote that never answers can hold a command: each request waits at most
``timeout`` seconds for an answer (``remote.NAME.timeout``, default ``TIMEOUT``), and a failed
operation is tried again at most ``RETRIES`` times, none of them starting later than
``DEADLINE`` seconds after its first attempt began; so one operation gives up within
``DEADLINE + timeout`` seconds (docs/remotes.md has the arithmetic)."""

from __future__ import annotations

import contextlib
import errno
import random
import time
from typing import TYPE_CHECKING, Any

from dvlite.errors import RemoteError

if TYPE_CHECKING:
    from dvlite.remote.base import Remote

RETRIES = 5
BACKOFF = 0.1  # seconds before the first retry; doubled each time, with jitter
TIMEOUT = 15.0  # seconds a request waits to connect, and then for each part of the answer
DEADLINE = 45.0  # seconds after an operation's first attempt began when no retry starts any more
# a server that closed or reset the connection without an answer (botocore, aiohttp names)
DROPPED = frozenset({"ConnectionClosedError", "ServerDisconnectedError"})


class RemoteSideError(Exception):
    """A remote's FileNotFoundError while writing (no bucket, no folder): not a missing object."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(str(exc))
        self.exc = exc


@contextlib.asynccontextmanager
async def writing() -> Any:
    try:
        yield
    except FileNotFoundError as exc:
        raise RemoteSideError(exc) from None


@contextlib.contextmanager
def writing_sync() -> Any:
    try:
        yield
    except FileNotFoundError as exc:
        raise RemoteSideError(exc) from None


def backoff(attempt: int) -> float:
    return BACKOFF * (2**attempt) * (0.5 + random.random())


def retry_delay(attempt: int, started: float) -> float | None:
    """How long to wait before trying again an operation whose attempt number ``attempt``
    (from 0) failed with a transient error, first tried at ``started`` (``time.monotonic()``);
    None when it is given up: the retries are used up, or the retry would start past DEADLINE."""
    delay = backoff(attempt)
    if attempt >= RETRIES or time.monotonic() + delay - started > DEADLINE:
        return None
    return delay


def is_timeout(exc: BaseException) -> bool:
    """The remote accepted the connection and did not answer in time (botocore's
    ReadTimeoutError; aiohttp's and the socket's TimeoutErrors). Not connect timeouts, which
    say the server cannot be reached."""
    name = type(exc).__name__
    if name in ("ConnectTimeoutError", "ConnectionTimeoutError"):
        return False
    return isinstance(exc, TimeoutError) or name == "ReadTimeoutError"


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, RemoteError):
        return False
    if is_timeout(exc):
        return True
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return True
    if isinstance(exc, OSError) and exc.errno in (errno.EBUSY, errno.EAGAIN, errno.EREMOTEIO):
        return True  # s3fs: SlowDown / ServiceUnavailable / InternalError
    name = type(exc).__name__
    if name in DROPPED or name in ("HTTPClientError", "ResponseParserError"):
        return True
    if name in ("ClientPayloadError", "ClientOSError"):
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


def translate(remote: Remote, exc: BaseException, *, attempts: int = 1) -> RemoteError:
    """One line that names the remote, says what went wrong and what to check (and, for a
    transient error that outlasted the retries, how often it was tried)."""
    if isinstance(exc, RemoteError):
        return exc
    if is_timeout(exc) and not remote.is_folder:  # a folder's ETIMEDOUT is an OSError below
        endpoint = remote.options.get("endpoint_url")
        where = f" at {endpoint}" if endpoint else ""
        tries = f"{attempts} attempt" + ("s" if attempts != 1 else "")
        return RemoteError(
            f"{remote.label}{where} did not answer within {remote.timeout:g} s "
            f"(gave up after {tries}); check that the server is up, "
            f"or raise remote.{remote.name}.timeout"
        )
    error = _translate(remote, exc)
    if attempts > 1:
        return RemoteError(
            f"{str(error).rstrip('.')}; gave up after {attempts} attempts, try again later"
        )
    return error


def _translate(remote: Remote, exc: BaseException) -> RemoteError:
    if isinstance(exc, RemoteSideError):
        exc = exc.exc
    name = type(exc).__name__
    endpoint = remote.options.get("endpoint_url")
    detail = _first_line(exc)
    label = remote.label
    if name in ("EndpointConnectionError", "ConnectTimeoutError") or isinstance(
        exc, (ConnectionRefusedError,)
    ):
        where = endpoint or "its endpoint"
        return RemoteError(
            f"cannot connect to {label} at {where}: check endpoint_url "
            "and that the server is running and reachable"
        )
    if name in DROPPED or isinstance(exc, (ConnectionResetError, ConnectionAbortedError)):
        where = endpoint or "its endpoint"
        return RemoteError(f"{label} at {where} dropped the connection before answering")
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return RemoteError(
            f"no credentials for {label}: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, "
            f"an AWS profile (`dvlite remote modify {remote.name} profile NAME`), or "
            f"`dvlite remote modify --local {remote.name} access_key_id ...`"
        )
    if name == "ProfileNotFound":
        return RemoteError(
            f"{label}: {detail}; check remote.{remote.name}.profile and ~/.aws/config"
        )
    if isinstance(exc, PermissionError) and remote.is_folder:
        return RemoteError(
            f"permission denied by {label}: {detail}; "
            f"check that this user may read and write the folder {remote.root}"
        )
    if isinstance(exc, PermissionError):
        return RemoteError(
            f"access denied by {label}: {detail}; check the credentials "
            f"(AWS_* variables, profile, or remote.{remote.name}.access_key_id) "
            "and the permissions"
        )
    if isinstance(exc, FileNotFoundError) and "bucket" in detail.lower():
        bucket = remote.root.split("/", 1)[0]
        return RemoteError(f"{label}: bucket {bucket!r} does not exist; create it or fix the url")
    if isinstance(exc, FileNotFoundError):
        return RemoteError(f"{label} does not exist ({detail}); create it or fix the url")
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return RemoteError(f"{label}: {exc.strerror}{where}")
    return RemoteError(f"{label}: {name}: {detail}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
