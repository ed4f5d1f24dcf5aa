"""What a transfer reports: the objects moved, and those that could not be, and why."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from dvlite.errors import RemoteError

_SHOWN = 10  # failures named in one error message


@dataclass(frozen=True, slots=True)
class Failure:
    path: str  # repository-relative path of the data the object belongs to
    oid: str
    reason: str  # "corrupt on remote", "missing on remote", "not in cache", "corrupt in cache"
    where: str  # the object's URL on the remote, or its cache path

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.reason}: {self.path} ({self.where})"


@dataclass(frozen=True)
class TransferResult:
    remote: str
    url: str
    transferred: int = 0  # objects moved
    size: int = 0  # bytes moved (the objects' sizes)
    failed: tuple[Failure, ...] = ()
    runs: int = 0  # run-cache entries moved
    warnings: tuple[str, ...] = ()  # what was skipped, not failed (a malformed run-cache entry)
    checkout: dict[str, list[str]] | None = None  # pull only: what checkout changed
    reused: int = 0  # of them, bytes of chunks not moved: the remote (push) or the cache had them

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)  # each Failure as its to_dict
        d.update(failed=list(d["failed"]), warnings=list(self.warnings))
        if self.checkout is None:
            del d["checkout"]
        return d

    @property
    def ok(self) -> bool:
        return not self.failed


class TransferError(RemoteError):
    """Some objects could not be moved; the rest were. ``result`` says which."""

    def __init__(self, verb: str, result: TransferResult) -> None:
        self.result = result
        lines = [f"  {f}" for f in result.failed[:_SHOWN]]
        if len(result.failed) > _SHOWN:
            lines.append(f"  and {len(result.failed) - _SHOWN} more")
        if verb == "push":
            what, done = "pushed to", "pushed"
            hint = "run `dvlite fsck`; `dvlite add` the data again, or pull it from where it is"
        else:
            what, done = "fetched from", "fetched"
            hint = f"run `dvlite fsck --remote {result.remote}`; push good copies from a clone"
        super().__init__(
            f"{len(result.failed)} object(s) could not be {what} remote {result.remote!r} "
            f"({result.url}); the rest were {done}:\n" + "\n".join(lines) + f"\n{hint}"
        )
