"""``dvlite model``: a model registry on git tags, as GTO keeps one. ``NAME@vX.Y.Z`` registers
a version (its message records the model's path, oid and commit), ``NAME#STAGE#N`` puts a
version in a stage, each promotion a new tag, so that history is kept and tags push with git.
Reading (``read``, ``models``) checks every tag, which may come from any clone: a malformed one
is a warning and is skipped. ``model_get.py`` fetches and writes a version's bytes."""

from __future__ import annotations

import os
import re
import time
from dataclasses import asdict, dataclass, field

from dvlite.errors import ArgumentError, DvliteError, PathError, RegistryError
from dvlite.git import history
from dvlite.git.tags import Tag, create_tag, list_tags
from dvlite.records import pointer as pointers
from dvlite.records.modeltag import (
    LATEST,
    Semver,
    StageRecord,
    VersionRecord,
    bump,
    name_problem,
    parse_semver,
    parse_stages,
    parse_tag_name,
    stage_problem,
    stage_tag,
    version_tag,
)
from dvlite.records.recorded import Recorded
from dvlite.records.repo import Repo
from dvlite.records.tracked import Tracked, collect

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
        return _semver(self.version)  # (checked when the tag was read)

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


# -- register and promote -------------------------------------------------------------------
def register(
    repo: Repo,
    name: str,
    path: str,
    *,
    version: str | None = None,
    bump_level: str | None = None,
    rev: str | None = None,
    force: bool = False,
) -> Version:
    """Register the model at ``path`` as committed at ``rev`` (default HEAD): the annotated tag
    ``NAME@VERSION``, VERSION given or ``bump_level`` (default minor) above the highest one.
    ``force``: also a version below the highest, or a commit already registered."""
    if why := name_problem(name):
        raise RegistryError(f"the model name {name!r} {why}")
    if version is not None and bump_level is not None:
        raise ArgumentError("give a version or a bump level, not both")
    if version is not None and parse_semver(version) is None:
        raise RegistryError(f"the version {version!r} must be vX.Y.Z, such as v1.0.0")
    commit = history.resolve(repo, rev or "HEAD")
    item = _tracked_at(repo, _data_rel(repo, path), commit, rev)
    reg = read(repo)
    existing = next((m for m in reg.models if m.name == name), None)
    highest = existing.latest.semver if existing else None
    version = version or bump(highest, bump_level or "minor")
    tag = version_tag(name, version)
    if tag in reg.tags:
        raise RegistryError(
            f"{name} {version} is already registered (tag {tag}); give another --version or --bump"
        )
    if existing and not force:
        if _semver(version) < existing.latest.semver:
            raise RegistryError(
                f"{version} is below {name}'s latest version, {existing.latest.version}; "
                "use --force to register it anyway"
            )
        same = next(
            (v for v in existing.versions if (v.commit, v.oid) == (commit, item.pointer.oid)), None
        )
        if same is not None:
            raise RegistryError(
                f"{name} {same.version} already registers this model at commit {commit[:12]}; "
                "use --force to register it again"
            )
    p = item.pointer
    obj = Recorded(item.rel, p.kind, p.oid, p.size, p.files, p.exec)
    create_tag(repo.root, tag, commit, VersionRecord(name, version, commit, obj).dumps())
    now = int(time.time())
    return Version(version, commit, item.rel, p.oid, p.size, p.kind, p.files, [], tag, now, p.exec)


def promote(repo: Repo, name: str, version: str, stage: str, *, force: bool = False) -> Assignment:
    """Put ``version`` (or ``latest``) of ``name`` in ``stage``: the tag ``NAME#STAGE#N``.
    ``force``: also when that version is in that stage already."""
    stages = configured_stages(repo)
    if stage not in stages:
        raise RegistryError(
            f"unknown stage {stage!r}: the stages are {', '.join(stages)} (config model.stages)"
        )
    reg = read(repo)
    model = reg.model(name)
    v = model.find(version)
    if v is None:
        known = ", ".join(x.version for x in model.versions)
        raise RegistryError(f"{name} has no version {version!r} (its versions: {known})")
    if model.stages.get(stage) == v.version and not force:
        raise RegistryError(
            f"{name} {v.version} is in {stage} already; use --force to promote it again"
        )
    number = reg.next_number(name, stage)
    tag = stage_tag(name, stage, number)
    create_tag(repo.root, tag, v.commit, StageRecord(name, stage, v.version).dumps())
    return Assignment(stage, number, v.version, tag, v.commit, int(time.time()))


def _semver(version: str) -> Semver:
    found = parse_semver(version)
    assert found is not None  # (checked already)
    return found


def _data_rel(repo: Repo, path: str) -> str:
    rel = repo.rel(path)
    if pointers.is_pointer(rel):
        rel = rel[: -len(pointers.SUFFIX)]
    if not rel:
        raise PathError("give the model's file or folder, not the repository's root")
    return rel


def _tracked_at(repo: Repo, rel: str, commit: str, rev: str | None) -> Tracked:
    """The record of ``rel`` at ``commit``; PathError when it is not tracked there, or (when
    no ``rev`` was named) when the workspace's record of it is not committed."""
    label = rev or "HEAD"
    items = history.tracked_at(repo, commit)
    found = next((i for i in items if i.rel == rel), None)
    here = _workspace_record(repo, rel)
    if found is None:
        inside = next((i for i in items if rel.startswith(i.rel + "/")), None)
        if inside is not None:
            raise PathError(
                f"{rel} is inside {inside.rel}, which {inside.source} tracks as a whole; "
                f"register {inside.rel}"
            )
        if here is not None:
            raise PathError(
                f"{rel} is tracked in the workspace but not at {label}: commit it first"
            )
        raise PathError(
            f"{rel} is not tracked by dvlite at {label}; `dvlite add` it (or make it a stage's "
            "output), commit, then register it"
        )
    if rev is None and here is not None and here.pointer != found.pointer:
        raise PathError(
            f"{rel}: its record in {here.source} has changes that are not committed: "
            "commit it first (or name a commit with --rev)"
        )
    return found


def _workspace_record(repo: Repo, rel: str) -> Tracked | None:
    try:
        items = collect(repo, [os.fspath(repo.abspath(rel))])
    except DvliteError:
        return None
    return next((i for i in items if i.rel == rel), None)
