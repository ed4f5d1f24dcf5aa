"""``dvlite metrics`` and ``dvlite params``: values from the files stages declare, at any
revision, and how they changed between two."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TypeGuard

from dvlite.errors import PipelineError
from dvlite.git.history import Revisions
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
        revs = list(Revisions(all_commits=True).commits(repo))
    snaps = [Snapshot(repo, rev) for rev in (revs or [None])]
    return {
        (s.commit[:12] if all_commits and s.commit else s.label): read_metrics(s) for s in snaps
    }


def _diff(
    repo: Repo, a: str | None, b: str | None, read: Callable[[Snapshot], Values], everything: bool
) -> list[Row]:
    old, new = read(Snapshot(repo, a or "HEAD")), read(Snapshot(repo, b))
    rows = []
    for path in sorted(old.keys() | new.keys()):
        was, now = old.get(path, {}), new.get(path, {})
        for key in sorted(was.keys() | now.keys()):
            va, vb = was.get(key), now.get(key)
            if everything or not params_mod.same_value(va, vb) or (key in was) != (key in now):
                rows.append(Row(path, key, va, vb))
    return rows


def diff(
    repo: Repo, a: str | None = None, b: str | None = None, *, everything: bool = False
) -> list[Row]:
    """Metrics that differ between revision ``a`` (default HEAD) and ``b`` (the workspace)."""
    return _diff(repo, a, b, read_metrics, everything)


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
    """Params that differ between revision ``a`` (default HEAD) and ``b`` (the workspace)."""
    return _diff(repo, a, b, read_params, everything)
