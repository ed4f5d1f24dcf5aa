"""``dvlite model show``: every version of a model with what made it: the metrics committed
beside it and the lineage of its path at its commit (the stages and the data inputs, with the
oids that dvlite.lock recorded)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dvlite.errors import DvliteError
from dvlite.git.revision import Snapshot
from dvlite.ops.lineage import DATA, MISSING, STAGE, Node, lineage
from dvlite.ops.metrics import read_metrics
from dvlite.ops.registry import Model, Version, read
from dvlite.records.repo import Repo


@dataclass(frozen=True)
class Input:
    """A data input of a version: a path tracked by a pointer, with the oid its stage used."""

    path: str
    oid: str | None

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "oid": self.oid}


@dataclass(frozen=True)
class VersionDetails:
    version: Version
    metrics: dict[str, dict[str, object]] = field(default_factory=dict)  # file -> key -> value
    stages: list[str] = field(default_factory=list)  # the stages that made it, last first
    inputs: list[Input] = field(default_factory=list)  # the data they started from
    problems: list[str] = field(default_factory=list)  # what could not be read at its commit

    def to_dict(self) -> dict[str, object]:
        return {
            **self.version.to_dict(),
            "metrics": self.metrics,
            "lineage": {"stages": self.stages, "inputs": [i.to_dict() for i in self.inputs]},
            "problems": self.problems,
        }


@dataclass(frozen=True)
class ModelDetails:
    model: Model
    versions: list[VersionDetails]  # newest first
    warnings: list[str]  # registry tags that were skipped

    def to_dict(self) -> dict[str, object]:
        d = self.model.to_dict()
        d["versions"] = [v.to_dict() for v in self.versions]
        return d


def show(repo: Repo, name: str) -> ModelDetails:
    """Every version of ``name``, with its metrics and the lineage of its data."""
    reg = read(repo)
    model = reg.model(name)
    return ModelDetails(model, [_details(repo, v) for v in model.versions], reg.warnings)


def _details(repo: Repo, v: Version) -> VersionDetails:
    problems: list[str] = []
    metrics: dict[str, dict[str, object]] = {}
    try:
        metrics = read_metrics(Snapshot(repo, v.commit))
    except DvliteError as exc:
        problems.append(f"metrics: {exc}")
    stages: list[str] = []
    inputs: dict[str, Input] = {}
    try:
        root = lineage(repo, v.path, v.commit)
    except DvliteError as exc:
        problems.append(f"lineage: {exc}")
    else:
        if root.kind == STAGE:  # (a model added with `dvlite add` has no lineage but itself)
            _walk(root, stages, inputs)
    return VersionDetails(v, metrics, stages, list(inputs.values()), problems)


def _walk(node: Node, stages: list[str], inputs: dict[str, Input]) -> None:
    """The stages on the way up from ``node`` (each once) and the data they started from."""
    if node.kind == STAGE:
        if node.stage and node.stage not in stages:
            stages.append(node.stage)
        for n in node.inputs:
            _walk(n, stages, inputs)
    elif node.kind in (DATA, MISSING) and node.path not in inputs:
        inputs[node.path] = Input(node.path, node.oid)
