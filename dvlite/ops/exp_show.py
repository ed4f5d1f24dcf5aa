"""``dvlite exp show`` and ``exp diff``: the baseline commits and their experiments in one
table, params and metrics as columns (``file:key``), each value marked where it differs from
its baseline's; and two of them compared key by key."""

from __future__ import annotations

from dataclasses import dataclass, field

from dvlite.errors import ExperimentError
from dvlite.git import cmd as gitcmd
from dvlite.git import exps
from dvlite.git.history import WORKSPACE
from dvlite.git.revision import Snapshot
from dvlite.ops import metrics as metrics_mod
from dvlite.records import params as params_mod
from dvlite.records.repo import Repo

WORKSPACE_KIND, BASELINE, EXPERIMENT = "workspace", "baseline", "experiment"


@dataclass
class ExpRow:
    """One line of the table: the workspace, a baseline commit, or an experiment on one."""

    name: str
    kind: str  # WORKSPACE_KIND, BASELINE or EXPERIMENT
    commit: str | None  # None for the workspace
    baseline: str | None = None  # the commit an experiment (or the workspace) is based on
    state: str = ""  # an experiment's exps.DONE, QUEUED or FAILED
    created: int | None = None
    metrics: dict[str, object] = field(default_factory=dict)  # "file:key" -> value
    params: dict[str, object] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)  # the columns that differ from its baseline

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def show(
    repo: Repo, *, all_commits: bool = False, sort_by: str | None = None, desc: bool = False
) -> list[ExpRow]:
    """The workspace, HEAD and its experiments (with ``all_commits``: every commit, and every
    baseline that has experiments), each baseline followed by its experiments, oldest first
    or sorted by the column ``sort_by`` (``file:key``, or a ``key`` only one file has)."""
    head = gitcmd.rev_parse(repo.root, "HEAD")
    if head is None:
        raise ExperimentError("there is no commit yet: experiments are based on one")
    found = exps.listing(repo.root)
    bases = [head]
    if all_commits:
        every = gitcmd.run(repo.root, "rev-list", "--branches", "--tags").decode().split()
        bases += every + [e.baseline for e in found]  # (not --all: that has the experiments)
    bases = [b for b in dict.fromkeys(bases) if gitcmd.rev_parse(repo.root, b)]
    rows = [_row(Snapshot(repo), WORKSPACE, WORKSPACE_KIND, None, baseline=head)]
    for base in bases:
        rows.append(_row(Snapshot(repo, base), _label(repo, base), BASELINE, base))
        rows[-1].created = int(gitcmd.run(repo.root, "show", "-s", "--format=%ct", base) or 0)
        mine = [_experiment(repo, e) for e in found if e.baseline == base]
        if sort_by is not None:
            mine = _sorted(mine, _column(rows + mine, sort_by), desc)
        rows += mine
    by_commit = {r.commit: r for r in rows if r.kind == BASELINE}
    for row in rows:
        if row.baseline in by_commit:
            row.changed = _changed(row, by_commit[row.baseline])
    return rows


def columns(rows: list[ExpRow]) -> tuple[list[str], list[str]]:
    """The metrics columns and the params columns, in the order they first appear."""
    metrics = dict.fromkeys(k for r in rows for k in r.metrics)
    params = dict.fromkeys(k for r in rows for k in r.params)
    return list(metrics), list(params)


@dataclass
class ExpDiff:
    old: str  # what is compared, as the user would name it
    new: str
    params: list[metrics_mod.Row]
    metrics: list[metrics_mod.Row]

    def to_dict(self) -> dict[str, object]:
        return {
            "old": self.old, "new": self.new,
            "params": [r.to_dict() for r in self.params],
            "metrics": [r.to_dict() for r in self.metrics],
        }  # fmt: skip


def diff(repo: Repo, a: str, b: str | None = None, *, everything: bool = False) -> ExpDiff:
    """Params and metrics that differ from ``a`` to ``b`` (revisions or experiment names);
    without ``b``: from experiment ``a``'s baseline to it (or from ``a`` to the workspace)."""
    old, new, labels = a, b, (a, b or WORKSPACE)
    if b is None:
        exp = exps.find(repo.root, a) if exps.name_problem(a) is None else None
        if exp is not None and gitcmd.rev_parse(repo.root, a) is None:
            old, new = exp.baseline, exp.commit
            labels = (_label(repo, exp.baseline), a)
    return ExpDiff(
        *labels,
        params=metrics_mod.params_diff(repo, old, new, everything=everything),
        metrics=metrics_mod.diff(repo, old, new, everything=everything),
    )


def _experiment(repo: Repo, exp: exps.Experiment) -> ExpRow:
    row = _row(
        Snapshot(repo, exp.commit), exp.name, EXPERIMENT, exp.commit, exp.baseline, exp.state
    )
    row.created = exp.created
    return row


def _row(
    snap: Snapshot,
    name: str,
    kind: str,
    commit: str | None,
    baseline: str | None = None,
    state: str = "",
) -> ExpRow:
    metrics = {} if state in (exps.QUEUED, exps.FAILED) else _flat(metrics_mod.read_metrics(snap))
    params = _flat(metrics_mod.read_params(snap))
    return ExpRow(name, kind, commit, baseline, state, metrics=metrics, params=params)


def _flat(values: metrics_mod.Values) -> dict[str, object]:
    return {f"{file}:{key}": v for file, keys in values.items() for key, v in keys.items()}


def _label(repo: Repo, commit: str) -> str:
    """A branch or tag name for the commit where one points at it, else its short id."""
    fmt = "--format=%(refname:short)"
    for kind in ("refs/heads", "refs/tags"):
        names = gitcmd.run(repo.root, "for-each-ref", fmt, f"--points-at={commit}", kind)
        first = names.decode(errors="replace").split()
        if first:
            return first[0]
    return commit[:12]


def _changed(row: ExpRow, base: ExpRow) -> list[str]:
    out = []
    for mine, theirs in ((row.metrics, base.metrics), (row.params, base.params)):
        for key, value in mine.items():
            if key not in theirs or not params_mod.same_value(value, theirs[key]):
                out.append(key)
    return out


def _column(rows: list[ExpRow], wanted: str) -> str:
    metrics, params = columns(rows)
    every = metrics + params
    if wanted in every:
        return wanted
    matches = [c for c in every if c.partition(":")[2] == wanted]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ExperimentError(
            f"--sort-by {wanted!r} is in more than one file: {', '.join(matches)}"
        )
    shown = ", ".join(every) or "none"
    raise ExperimentError(f"--sort-by {wanted!r}: no such param or metric (columns: {shown})")


def _sorted(rows: list[ExpRow], column: str, desc: bool) -> list[ExpRow]:
    def value(r: ExpRow) -> object:
        return r.metrics.get(column, r.params.get(column))

    def number(v: object) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    having = [r for r in rows if number(value(r))]
    others = [r for r in rows if not number(value(r))]  # no value, or text: last, as they were
    having.sort(key=value, reverse=desc)  # type: ignore[arg-type]
    return having + others
