"""``dvlite stage list``: every stage of dvlite.yaml, the ones foreach and matrix make
included, with its command, deps, outputs and description."""

from __future__ import annotations

from dataclasses import dataclass

from dvlite.records import pipeline as pipelines
from dvlite.records.repo import Repo


@dataclass(frozen=True, slots=True)
class StageRow:
    name: str
    cmd: str
    deps: tuple[str, ...]
    outs: tuple[str, ...]  # every output: cached, `cache: false`, metrics and plots kept in git
    desc: str
    wdir: str  # repository-relative; "" for the root
    group: str | None  # the foreach or matrix that made it

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name, "cmd": self.cmd, "deps": list(self.deps), "outs": list(self.outs),
            "desc": self.desc, "wdir": self.wdir or ".", "group": self.group,
        }  # fmt: skip


def stage_list(repo: Repo) -> list[StageRow]:
    """The stages in file order (a family's stages where it is written)."""
    pipeline = pipelines.load(repo.root)
    group = {name: g for g, names in pipeline.groups.items() for name in names}
    return [
        StageRow(s.name, s.cmd, s.deps, s.produces, s.desc, s.wdir, group.get(s.name))
        for s in pipeline
    ]
