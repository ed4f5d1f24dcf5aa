"""``dvlite model``: a model registry on git tags, as GTO keeps one. ``NAME@vX.Y.Z`` registers
a version (its message records the model's path, oid and commit), ``NAME#STAGE#N`` puts a
version in a stage, each promotion a new tag, so that history is kept and tags push with git.
Reading (``read``, ``models``) checks every tag, which may come from any clone: a malformed one
is a warning and is skipped. ``model_register.py`` makes the tags, ``model_show.py`` adds
metrics and lineage, ``model_get.py`` fetches and writes a version's bytes."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from dvlite.errors import RegistryError
from dvlite.git.tags import Tag, list_tags
from dvlite.records.modeltag import (
    LATEST,
    Semver,
    StageRecord,
    VersionRecord,
    name_problem,
    parse_semver,
    parse_stages,
    parse_tag_name,
    stage_problem,
)
from dvlite.records.repo import Repo

_LOOKS_VERSIONED = re.compile(r"v[0-9]")  # NAME@v...: meant as a version (NAME@other is not ours)


@dataclass(frozen=True)
class Version:
    """One registered version of a model: what its tag records, and the stages it is in now."""

    version: str
    commit: str
    path: str  # repository-relative
    oid: str
    size: int
    kind: str  # file or dir
    files: int
    stages: list[str]
    tag: str
    date: int = 0  # when the tag was made (seconds since the epoch)
    exec: bool = False

    @property
    def semver(self) -> Semver:
        return semver_of(self.version)  # (checked when the tag was read)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Assignment:
    """One promotion: the tag ``NAME#STAGE#N`` that put ``version`` in ``stage``."""

    stage: str
    number: int
    version: str
    tag: str
    commit: str
    date: int = 0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Model:
    name: str
    versions: list[Version]  # newest first
    stages: dict[str, str] = field(default_factory=dict)  # stage -> the version in it now
    history: list[Assignment] = field(default_factory=list)  # every promotion, oldest first

    @property
    def latest(self) -> Version:
        return self.versions[0]

    def find(self, version: str) -> Version | None:
        """The version ``vX.Y.Z`` (or ``latest``), if it is registered."""
        if version == LATEST:
            return self.latest
        return next((v for v in self.versions if v.version == version), None)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "latest": self.latest.version,
            "stages": self.stages,
            "versions": [v.to_dict() for v in self.versions],
            "history": [a.to_dict() for a in self.history],
        }


@dataclass(frozen=True)
class Registry:
    models: list[Model]  # by name
    stages: tuple[str, ...]  # the configured ones (model.stages)
    warnings: list[str]  # tags that were skipped, and why
    tags: frozenset[str] = frozenset()  # every registry-shaped tag name, valid or not

    def model(self, name: str) -> Model:
        found = next((m for m in self.models if m.name == name), None)
        if found is None:
            known = ", ".join(m.name for m in self.models) or "none yet"
            raise RegistryError(
                f"no model named {name!r} is registered (models: {known}); "
                "`dvlite model register NAME PATH` registers one"
            )
        return found

    def next_number(self, name: str, stage: str) -> int:
        """N for the next ``NAME#STAGE#N`` tag: above every one there is, valid or not."""
        numbers = [
            p[3] for t in self.tags if (p := parse_tag_name(t)) and p[:3] == ("stage", name, stage)
        ]
        return max(numbers, default=0) + 1


def configured_stages(repo: Repo) -> tuple[str, ...]:
    return parse_stages(repo.config.get("model.stages"))


def models(repo: Repo) -> list[Model]:
    """Every model the repository's tags register, by name (malformed tags left out)."""
    return read(repo).models


def read(repo: Repo) -> Registry:
    """The registry the tags hold, with a warning for each tag that was skipped."""
    stages = configured_stages(repo)
    if not repo.uses_git:
        raise RegistryError("the model registry keeps its records in git tags: this repository "
                            "has no git (initialised with --no-scm)")  # fmt: skip
    tags = list_tags(repo.root, ("*@*", "*#*"))
    warnings: list[str] = []
    records: dict[str, dict[str, Version]] = {}
    stage_tags: list[tuple[Tag, str, str, int]] = []
    names: set[str] = set()
    for tag in tags:
        parsed = parse_tag_name(tag.name)
        if parsed is None:
            continue
        kind, name, part, number = parsed
        if kind == "version" and not _LOOKS_VERSIONED.match(part):
            continue
        names.add(tag.name)
        try:
            if kind == "version":
                v = _version(tag, name, part)
                records.setdefault(name, {})[v.version] = v
            else:
                stage_tags.append((tag, name, part, number))
        except RegistryError as exc:
            warnings.append(f"{exc}; skipped")
    found: dict[str, list[Assignment]] = {}
    for tag, name, stage, number in stage_tags:
        try:
            a = _assignment(tag, name, stage, number, records.get(name, {}))
            found.setdefault(name, []).append(a)
        except RegistryError as exc:
            warnings.append(f"{exc}; skipped")
    result = []
    for name in sorted(records):
        history_ = sorted(found.get(name, []), key=lambda a: (a.date, a.number, a.tag))
        # the version in a stage now: the one its highest N puts there
        now = {a.stage: a.version for a in sorted(history_, key=lambda a: a.number)}
        ordered = [*stages, *sorted(set(now) - set(stages))]
        now = {s: now[s] for s in ordered if s in now}
        versions = sorted(records[name].values(), key=lambda v: v.semver, reverse=True)
        versions = [
            Version(**{**asdict(v), "stages": [s for s, x in now.items() if x == v.version]})
            for v in versions
        ]
        result.append(Model(name, versions, now, history_))
    return Registry(result, stages, warnings, frozenset(names))


def _version(tag: Tag, name: str, version: str) -> Version:
    if why := name_problem(name):
        raise RegistryError(f"tag {tag.name}: the model name {name!r} {why}")
    if parse_semver(version) is None:
        raise RegistryError(f"tag {tag.name}: {version!r} is not a version vX.Y.Z")
    if tag.message is None:
        raise RegistryError(f"tag {tag.name} is a lightweight tag, not an annotated one")
    if tag.commit is None:
        raise RegistryError(f"tag {tag.name} does not point at a commit")
    record = VersionRecord.loads(tag.message, tag.name)
    if (record.name, record.version) != (name, version):
        said = f"{record.name}@{record.version}"
        raise RegistryError(f"tag {tag.name}: its message registers {said}, not what it is named")
    if record.commit != tag.commit:
        raise RegistryError(
            f"tag {tag.name}: its message records commit {record.commit[:12]}, "
            f"but the tag points at {tag.commit[:12]}"
        )
    o = record.obj
    return Version(
        version, tag.commit, o.path, o.oid, o.size, o.kind, o.files, [], tag.name, tag.date, o.exec
    )


def _assignment(
    tag: Tag, name: str, stage: str, number: int, versions: dict[str, Version]
) -> Assignment:
    for what, value, why in (("model name", name, name_problem), ("stage", stage, stage_problem)):
        if problem := why(value):
            raise RegistryError(f"tag {tag.name}: the {what} {value!r} {problem}")
    if tag.message is None:
        raise RegistryError(f"tag {tag.name} is a lightweight tag, not an annotated one")
    if tag.commit is None:
        raise RegistryError(f"tag {tag.name} does not point at a commit")
    record = StageRecord.loads(tag.message, tag.name, name, stage)
    version = record.version
    if version is None:  # a tag not made by dvlite: the one version registered at its commit
        here = [v.version for v in versions.values() if v.commit == tag.commit]
        if len(here) != 1:
            what = "no version" if not here else f"{len(here)} versions ({', '.join(here)})"
            raise RegistryError(
                f"tag {tag.name} names no version, and {what} of {name} is registered at its "
                f"commit {tag.commit[:12]}"
            )
        version = here[0]
    v = versions.get(version)
    if v is None:
        raise RegistryError(
            f"tag {tag.name} puts {version} in {stage}, but {name} has no {version}"
        )
    if v.commit != tag.commit:
        raise RegistryError(
            f"tag {tag.name} points at commit {tag.commit[:12]}, but {name} {version} is at "
            f"{v.commit[:12]}"
        )
    return Assignment(stage, number, version, tag.name, tag.commit, tag.date)


def semver_of(version: str) -> Semver:
    found = parse_semver(version)
    assert found is not None  # (checked already)
    return found
