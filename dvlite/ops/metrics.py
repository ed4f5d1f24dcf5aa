"""``dvlite metrics`` and ``dvlite params``: values from the files stages declare, at any
revision, and how they changed between two."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TypeGuard

from dvlite.errors import PipelineError
from dvlite.git.revision import Snapshot
from dvlite.records import params as params_mod
from dvlite.records.repo import Repo

Values = dict[str, dict[str, object]]  # file -> dotted key -> value


@dataclass(frozen=True, slots=True)
class Row:
    """One key compared between two revisions (None where it is absent)."""

    path: str
    key: str
    old: object
    new: object

    @property
    def change(self) -> float | None:
        old, new = self.old, self.new
        return new - old if _number(old) and _number(new) else None

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "change": self.change}


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def read_metrics(snap: Snapshot) -> Values:
    """Every declared metrics file's values at ``snap`` (files that are absent are left out)."""
    found: Values = {}
    for rel in dict.fromkeys(m for stage in snap.pipeline for m in stage.metrics):
        data = snap.read(rel)
        if data is None:
            continue
        parsed = params_mod.parse(data, snap.where(rel))
        if not isinstance(parsed, dict):
            raise PipelineError(f"metrics file {snap.where(rel)} must hold a JSON or YAML mapping")
        found[rel] = params_mod.flatten(parsed)
    return found


def show(
    repo: Repo, revs: list[str | None] | None = None, *, all_commits: bool = False
) -> dict[str, Values]:
    """Metrics per revision label: the workspace by default, the given revisions, or every
    commit (newest first) with ``all_commits``."""
    if all_commits:
        from dvlite.git.history import Revisions

        revs = list(Revisions(all_commits=True).commits(repo))
    snaps = [Snapshot(repo, rev) for rev in (revs or [None])]
    return {
        (s.commit[:12] if all_commits and s.commit else s.label): read_metrics(s) for s in snaps
    }


def _compare(old: Values, new: Values, *, everything: bool) -> list[Row]:
    rows = []
    for path in sorted(old.keys() | new.keys()):
        a, b = old.get(path, {}), new.get(path, {})
        for key in sorted(a.keys() | b.keys()):
            va, vb = a.get(key), b.get(key)
            if everything or not params_mod.same_value(va, vb) or (key in a) != (key in b):
                rows.append(Row(path, key, va, vb))
    return rows


def _pair(repo: Repo, a: str | None, b: str | None) -> tuple[Snapshot, Snapshot]:
    return Snapshot(repo, a or "HEAD"), Snapshot(repo, b)


def diff(
    repo: Repo, a: str | None = None, b: str | None = None, *, everything: bool = False
) -> list[Row]:
    """Metrics that differ between revision ``a`` (default HEAD) and ``b`` (default: the
    workspace)."""
    old, new = _pair(repo, a, b)
    return _compare(read_metrics(old), read_metrics(new), everything=everything)


def read_params(snap: Snapshot) -> Values:
    """The value of every param a stage names, at ``snap`` (missing keys or files left out)."""
    found: Values = {}
    parsed: dict[str, object] = {}
    for stage in snap.pipeline:
        for ref in stage.params:
            file, key = params_mod.split(ref)
            if file not in parsed:
                data = snap.read(file)
                parsed[file] = None if data is None else params_mod.parse(data, snap.where(file))
            value = params_mod.lookup(parsed[file], key)
            if value is not params_mod.MISSING:
                found.setdefault(file, {})[key] = value
    return found


def params_diff(
    repo: Repo, a: str | None = None, b: str | None = None, *, everything: bool = False
) -> list[Row]:
    """Params that differ between revision ``a`` (default HEAD) and ``b`` (default: the
    workspace)."""
    old, new = _pair(repo, a, b)
    return _compare(read_params(old), read_params(new), everything=everything)
