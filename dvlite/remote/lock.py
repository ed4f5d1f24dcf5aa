"""The remote's lock, ``locks/gc.lock``: one `gc --cloud` or `remote repack` at a time on a
remote (pushes take no lock: the grace period protects them, remote/repack.py). Written
create-only (a hard link on folders, ``If-None-Match: *`` on S3, look-write-read back on other
fsspec stores) with its owner and time; a lock older than ``STALE_AFTER`` (restic's 30
minutes), or whose process is gone from this machine, is taken over. A running holder
refreshes its lock's time as it goes, and checks it is still its own before deleting."""

from __future__ import annotations

import getpass
import json
import os
import socket
import time
from dataclasses import asdict, dataclass, replace
from types import TracebackType
from typing import Protocol

from dvlite.errors import DvliteError, RemoteError

LOCK_KEY = "locks/gc.lock"
STALE_AFTER = 30 * 60.0  # seconds: a lock this old is a killed process's (restic: 30 min)
REFRESH_AFTER = STALE_AFTER / 3  # a holder rewrites its lock's time this often


class Keys(Protocol):
    """What the lock needs of a remote (a ``base.Remote``)."""

    label: str

    def create_key(self, key: str, data: bytes) -> bool: ...
    def put_key(self, key: str, data: bytes) -> None: ...
    def read_keys(self, keys: list[str]) -> list[bytes | BaseException]: ...
    def delete_keys(self, keys: list[str]) -> None: ...
    def list_times(self, folder: str) -> dict[str, tuple[float | None, int]]: ...
    def display_key(self, key: str) -> str: ...


@dataclass(frozen=True)
class Holder:
    """What a lock file says: who holds it, since when, for which command."""

    owner: str  # user@host
    pid: int
    command: str
    time: float  # seconds since the epoch, by the holder's clock
    token: str  # random: tells this holder's lock from another's of the same owner

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Holder:
        """The holder a lock file names; ValueError unless it is one dvlite wrote."""
        raw = json.loads(data.decode("utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("not an object")
        owner, pid, command = raw.get("owner"), raw.get("pid"), raw.get("command")
        when, token = raw.get("time"), raw.get("token")
        if not (isinstance(owner, str) and isinstance(command, str) and isinstance(token, str)):
            raise ValueError("owner, command and token must be text")
        if type(pid) is not int or not isinstance(when, (int, float)) or isinstance(when, bool):
            raise ValueError("pid and time must be numbers")
        return cls(owner[:200], pid, command[:40], float(when), token[:64])


def this_owner() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


def _gone(holder: Holder) -> bool:
    """Whether the holder is a process of this machine that no longer runs."""
    if holder.owner.rsplit("@", 1)[-1] != socket.gethostname() or holder.pid == os.getpid():
        return False
    if not 0 < holder.pid < 1 << 22:  # no process has it: not ours to judge
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # another user's process: alive
        return False
    return False


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class RemoteLock:
    """``with RemoteLock(remote, "gc"):`` holds the remote's lock for the block."""

    def __init__(self, remote: Keys, command: str) -> None:
        self.remote = remote
        self.holder = Holder(this_owner(), os.getpid(), command, 0.0, os.urandom(8).hex())
        self.data = b""

    def __enter__(self) -> RemoteLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.release()
        except DvliteError:
            if exc is None:  # else the error that ended the block is the one to report
                raise

    def _stamp(self) -> bytes:
        self.holder = replace(self.holder, time=time.time())
        self.data = self.holder.to_bytes()
        return self.data

    def _read(self) -> bytes | None:
        [data] = self.remote.read_keys([LOCK_KEY])
        return data if isinstance(data, bytes) else None

    def acquire(self) -> None:
        """Take the lock, or raise a RemoteError naming who holds it and since when; a stale
        lock is removed and taken over."""
        for _ in range(3):  # a lock that vanishes or is taken over between the looks: again
            if self.remote.create_key(LOCK_KEY, self._stamp()):
                return
            data = self._read()
            if data is None:
                continue
            who, age, stale = self._judge(data)
            if not stale:
                where = self.remote.display_key(LOCK_KEY)
                raise RemoteError(
                    f"{self.remote.label} is locked by {who} since {age} ago: another gc or "
                    f"remote repack is running; wait for it to finish, or if none is, delete "
                    f"{where} (a lock is taken over once {STALE_AFTER / 60:.0f} min old)"
                )
            if self._read() == data:  # still that stale lock: remove it, then try again
                self.remote.delete_keys([LOCK_KEY])
        raise RemoteError(
            f"{self.remote.label}: could not take the lock {self.remote.display_key(LOCK_KEY)} "
            "(others take it at the same moment); try again"
        )

    def _judge(self, data: bytes) -> tuple[str, str, bool]:
        """Who holds a lock, for how long, and whether it is stale. Bytes that are not a
        lock dvlite wrote are an unknown owner's, aged by the file's modification time."""
        now = time.time()
        try:
            holder: Holder | None = Holder.from_bytes(data)
        except (ValueError, UnicodeDecodeError):
            holder = None
        if holder is not None and holder.time <= now + STALE_AFTER:
            age = max(now - holder.time, 0.0)
            who = f"{holder.owner} (pid {holder.pid}, {holder.command})"
            return who, _age(age), age > STALE_AFTER or _gone(holder)
        mtime = self.remote.list_times("locks").get(LOCK_KEY, (None, 0))[0]
        who = "an unknown owner (the lock file is not one dvlite wrote)"
        if mtime is None:
            return who, "an unknown time", False
        age = max(now - mtime, 0.0)
        return who, _age(age), age > STALE_AFTER

    def check(self) -> None:
        """Raise a RemoteError unless the lock is still this holder's (a holder that ran past
        ``STALE_AFTER`` without refreshing can be taken over); refresh its time when due."""
        if self._read() != self.data:
            raise RemoteError(
                f"{self.remote.label}: the lock {self.remote.display_key(LOCK_KEY)} was taken "
                f"over while this {self.holder.command} ran; it stopped before deleting "
                "anything more. Run it again"
            )
        if time.time() - self.holder.time > REFRESH_AFTER:
            self.remote.put_key(LOCK_KEY, self._stamp())

    def release(self) -> None:
        """Remove the lock, if it is still this holder's."""
        if self.data and self._read() == self.data:
            self.remote.delete_keys([LOCK_KEY])
        self.data = b""
