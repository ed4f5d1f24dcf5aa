"""What went wrong on a remote, said once: storage libraries speak ``OSError``s and botocore
errors; here they are sorted into transient ones (which ``retry`` tries again) and the rest,
which become one ``RemoteError`` naming the remote, what went wrong and what to check."""

from __future__ import annotations

import errno
from typing import Protocol

from dvlite.errors import RemoteError

# a server that closed or reset the connection without an answer (botocore, aiohttp names)
DROPPED = frozenset({"ConnectionClosedError", "ServerDisconnectedError"})
# other transient errors, by name: botocore's and aiohttp's broken answers
BROKEN = DROPPED | {"HTTPClientError", "ResponseParserError", "ClientPayloadError", "ClientOSError"}
THROTTLED = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout"})


class Described(Protocol):
    """What a message says of a remote (a ``base.Remote``)."""

    name: str
    label: str
    root: str
    is_folder: bool
    timeout: float
    options: dict[str, str]


def is_timeout(exc: BaseException) -> bool:
    """The remote accepted the connection and did not answer in time (botocore's ReadTimeoutError,
    aiohttp's and the socket's TimeoutErrors); not a connect timeout (an unreachable server)."""
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
    if type(exc).__name__ in BROKEN:
        return True
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return status >= 500 or response.get("Error", {}).get("Code", "") in THROTTLED
    return False


def translate(remote: Described, exc: BaseException, *, attempts: int = 1) -> RemoteError:
    """One line: the remote, what went wrong, what to check (and how often a transient error
    was tried)."""
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


def _translate(remote: Described, exc: BaseException) -> RemoteError:
    name, label, detail = type(exc).__name__, remote.label, _first_line(exc)
    where = remote.options.get("endpoint_url") or "its endpoint"
    if name in ("EndpointConnectionError", "ConnectTimeoutError") or isinstance(
        exc, ConnectionRefusedError
    ):
        return RemoteError(
            f"cannot connect to {label} at {where}: check endpoint_url "
            "and that the server is running and reachable"
        )
    if name in DROPPED or isinstance(exc, (ConnectionResetError, ConnectionAbortedError)):
        return RemoteError(f"{label} at {where} dropped the connection before answering")
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return RemoteError(
            f"no credentials for {label}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
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
        filename = f": {exc.filename}" if exc.filename else ""
        return RemoteError(f"{label}: {exc.strerror}{filename}")
    return RemoteError(f"{label}: {name}: {detail}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
