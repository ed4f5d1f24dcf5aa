"""``dvlite.lock``: what each stage's last run used and made: its cmd, the oid of each dep, the
value of each param, and the object of each out and metric. It is the pointer file of stage
outputs and the record lineage reads. Stages sorted by name and keys in a fixed order:
identical runs give identical bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dvlite.errors import PipelineError
from dvlite.objects import fsutil
from dvlite.objects.tree import FILE
from dvlite.records import yamlio
from dvlite.records.checks import CheckRecord
from dvlite.records.pipeline import LOCK_FILE, output_problem
from dvlite.records.recorded import Recorded
from dvlite.safepath import rel_problem

VERSION = 1


def _bad(where: str, why: str) -> PipelineError:
    return PipelineError(f"malformed {where}: {why}; fix it, or delete it and run `dvlite repro`")


@dataclass(frozen=True, slots=True)
class LockedPath(Recorded):
    """A dep, out or metric as recorded: its repository-relative path and the object it held."""

    def to_dict(self) -> dict[str, object]:
        return self.fields()

    @classmethod
    def from_dict(cls, d: object, where: str) -> LockedPath:
        if not isinstance(d, dict):
            raise _bad(where, "each dep, out and metric must be a mapping")
        path = d.get("path")
        why = rel_problem(path)
        if why is not None:
            raise _bad(where, f"path {path!r} {why}")
        fields = {"kind": FILE, **d, "exec": False}  # a lock never records exec

        def bad(why: str) -> PipelineError:
            return _bad(where, f"{path}: {why}")

        return cls.checked(fields, path, bad)  # type: ignore[arg-type]


Params = dict[str, dict[str, object]]  # params file -> key -> value


def _sorted(paths: tuple[LockedPath, ...]) -> list[dict[str, object]]:
    return [p.to_dict() for p in sorted(paths, key=lambda p: p.path)]


@dataclass(frozen=True)
class LockEntry:
    name: str
    cmd: str
    deps: tuple[LockedPath, ...] = ()
    params: Params = field(default_factory=dict)
    outs: tuple[LockedPath, ...] = ()
    metrics: tuple[LockedPath, ...] = ()
    checks: CheckRecord | None = None  # the stage's checks passed on these outputs

    def to_dict(self) -> dict[str, object]:
        params = {f: dict(sorted(v.items())) for f, v in sorted(self.params.items())}
        d: dict[str, object] = {"deps": _sorted(self.deps), "params": params}
        d |= {"outs": _sorted(self.outs), "metrics": _sorted(self.metrics)}
        d["checks"] = self.checks.to_dict() if self.checks else None
        return {"cmd": self.cmd, **{key: value for key, value in d.items() if value}}

    @classmethod
    def from_dict(cls, name: str, d: object, where: str = LOCK_FILE) -> LockEntry:
        here = f"{where} (stage {name!r})"
        if not isinstance(d, dict):
            raise _bad(here, "a stage must be a mapping")
        cmd = d.get("cmd")
        if not isinstance(cmd, str):
            raise _bad(here, "'cmd' is missing")
        params = d.get("params") or {}
        if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
            raise _bad(here, "'params' must map each params file to its keys and values")
        lists = {}
        for key in ("deps", "outs", "metrics"):
            raw = d.get(key) or []
            if not isinstance(raw, list):
                raise _bad(here, f"'{key}' must be a list")
            lists[key] = tuple(LockedPath.from_dict(p, here) for p in raw)
        for out in lists["outs"] + lists["metrics"]:
            why = output_problem(out.path, params)
            if why is not None:
                raise _bad(here, f"output {out.path!r} {why}")
        checks = d.get("checks")
        record = None if checks is None else CheckRecord.from_dict(checks, lambda w: _bad(here, w))
        return cls(name, cmd, lists["deps"], params, lists["outs"], lists["metrics"], record)


@dataclass(frozen=True)
class Lock:
    stages: dict[str, LockEntry] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "version": VERSION,
            "stages": {n: self.stages[n].to_dict() for n in sorted(self.stages)},
        }

    def dumps(self) -> str:
        return yamlio.dump(self.to_dict())

    @classmethod
    def from_dict(cls, d: object, where: str = LOCK_FILE) -> Lock:
        if d is None:
            return cls()
        if not isinstance(d, dict):
            raise _bad(where, "expected a mapping with 'version' and 'stages'")
        if d.get("version") != VERSION:
            raise _bad(
                where, f"unsupported version {d.get('version')!r} (this dvlite reads {VERSION})"
            )
        stages = d.get("stages") or {}
        if not isinstance(stages, dict):
            raise _bad(where, "'stages' must map stage names to their records")
        return cls({str(n): LockEntry.from_dict(str(n), e, where) for n, e in stages.items()})

    @classmethod
    def loads(cls, text: str, where: str = LOCK_FILE) -> Lock:
        return cls.from_dict(yamlio.load(text, where, PipelineError), where)


_parsed: dict[str, tuple[tuple[int, int, int], Lock]] = {}  # path -> (stat key, lock)


def load(root: Path) -> Lock:
    """The lock in ``root`` (empty without one); parsed once per process while unchanged."""
    path = root / LOCK_FILE
    try:
        st = path.stat()
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        known = _parsed.get(str(path))
        if known is not None and known[0] == key:
            return known[1]
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Lock()
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineError(f"cannot read {LOCK_FILE}: {exc}") from None
    lock = Lock.loads(text)
    _parsed[str(path)] = (key, lock)
    return lock


def save(root: Path, lock: Lock) -> bool:
    """Write the lock atomically; returns False when it already had these bytes."""
    return fsutil.write_if_changed(root / LOCK_FILE, lock.dumps().encode("utf-8"))
