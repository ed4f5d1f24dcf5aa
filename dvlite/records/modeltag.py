"""The model registry's records, kept in annotated git tags (GTO's conventions): the tag
``NAME@vX.Y.Z`` registers a version, its message a small YAML record of the model file (path,
oid, size, kind, files, commit); ``NAME#STAGE#N`` puts a version in a stage, its message naming
the version. Tag messages come from git remotes: every field is checked here before use."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dvlite.errors import ConfigError, RegistryError
from dvlite.objects.tree import DIR
from dvlite.records import yamlio
from dvlite.records.recorded import Recorded
from dvlite.safepath import rel_problem

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_STAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,49}")
_SEMVER = re.compile(r"v(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})")
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_VERSION_TAG = re.compile(r"(?P<name>[^@#/]+)@(?P<version>[^@#/]+)")
_STAGE_TAG = re.compile(r"(?P<name>[^@#/]+)#(?P<stage>[^@#/]+)#(?P<number>[0-9]{1,9})")
LATEST = "latest"
DEFAULT_STAGES = ("dev", "staging", "prod")
BUMPS = ("major", "minor", "patch")
Semver = tuple[int, int, int]


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a model (None: it can)."""
    if not _NAME.fullmatch(name) or ".." in name:
        return "must be letters, digits, '-', '_' and '.', starting with a letter or digit"
    return None


def stage_problem(stage: str) -> str | None:
    """Why ``stage`` cannot name a stage (None: it can)."""
    if not _STAGE.fullmatch(stage):
        return "must be letters, digits, '-' and '_', starting with a letter or digit"
    if stage == LATEST or _SEMVER.fullmatch(stage):
        return f"is {LATEST!r} or looks like a version"
    return None


def parse_stages(value: str | None) -> tuple[str, ...]:
    """The stages the config key ``model.stages`` names (comma-separated); the default
    dev, staging, prod when it is not set. ConfigError for a bad list."""
    if value is None:
        return DEFAULT_STAGES
    stages = tuple(dict.fromkeys(s.strip() for s in value.split(",") if s.strip()))
    if not stages:
        raise ConfigError("model.stages must name at least one stage (e.g. dev,staging,prod)")
    for stage in stages:
        if why := stage_problem(stage):
            raise ConfigError(f"model.stages: the stage {stage!r} {why}")
    return stages


def parse_semver(text: str) -> Semver | None:
    """``v1.2.3`` -> (1, 2, 3); None for anything else."""
    m = _SEMVER.fullmatch(text)
    return None if m is None else (int(m[1]), int(m[2]), int(m[3]))


def bump(highest: Semver | None, level: str) -> str:
    """The version after ``highest`` (none yet: from v0.0.0) at ``level``."""
    major, minor, patch = highest or (0, 0, 0)
    if level == "major":
        return f"v{major + 1}.0.0"
    if level == "minor":
        return f"v{major}.{minor + 1}.0"
    return f"v{major}.{minor}.{patch + 1}"


def version_tag(name: str, version: str) -> str:
    return f"{name}@{version}"


def stage_tag(name: str, stage: str, number: int) -> str:
    return f"{name}#{stage}#{number}"


def parse_tag_name(tag: str) -> tuple[str, str, str, int] | None:
    """("version", NAME, VERSION, 0) or ("stage", NAME, STAGE, N) for a tag name of the
    registry's shape; None for any other tag. The parts are not checked yet."""
    if m := _VERSION_TAG.fullmatch(tag):
        return "version", m["name"], m["version"], 0
    if m := _STAGE_TAG.fullmatch(tag):
        return "stage", m["name"], m["stage"], int(m["number"])
    return None


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """What a version tag's message records: the model object at ``obj.path`` at ``commit``."""

    name: str
    version: str
    commit: str
    obj: Recorded  # path (repository-relative), kind, oid, size, files, exec

    def to_dict(self) -> dict[str, object]:
        o = self.obj
        d: dict[str, object] = {"name": self.name, "version": self.version, "path": o.path}
        d |= {"oid": o.oid, "size": o.size, "kind": o.kind, "files": o.files}
        if o.exec:
            d["exec"] = True
        d["commit"] = self.commit
        return d

    def dumps(self) -> str:
        return yamlio.dump(self.to_dict())

    @classmethod
    def loads(cls, text: str, tag: str) -> VersionRecord:
        """The record in the message of the version tag ``tag``; RegistryError saying why a
        message (untrusted: it may come from any clone) is not one."""

        def bad(why: str) -> RegistryError:
            return RegistryError(f"tag {tag}: {why}")

        d = _mapping(text, tag)
        name, version, commit = d.get("name"), d.get("version"), d.get("commit")
        if not isinstance(name, str) or name_problem(name):
            raise bad(f"'name' is not a model name: {name!r}")
        if not isinstance(version, str) or parse_semver(version) is None:
            raise bad(f"'version' is not a version vX.Y.Z: {version!r}")
        if not isinstance(commit, str) or not _COMMIT.fullmatch(commit):
            raise bad(f"'commit' is not a commit id: {commit!r}")
        path = d.get("path")
        why = rel_problem(path)
        if why is not None:
            raise bad(f"'path' {path!r} {why}")
        fields = dict(d)
        if fields.get("kind") != DIR and fields.get("files", 1) == 1:
            fields.pop("files", None)  # a file's files: 1 is written, as Recorded has it
        obj = Recorded.checked(fields, path, bad)  # type: ignore[arg-type]
        return cls(name, version, commit, obj)


@dataclass(frozen=True, slots=True)
class StageRecord:
    """What a stage tag's message records: the version it puts in the stage."""

    name: str
    stage: str
    version: str | None  # None: a tag not made by dvlite (GTO's), read from its commit

    def dumps(self) -> str:
        return yamlio.dump({"name": self.name, "stage": self.stage, "version": self.version})

    @classmethod
    def loads(cls, text: str | None, tag: str, name: str, stage: str) -> StageRecord:
        """The record of the stage tag ``tag`` (NAME#STAGE#N); a message that is no mapping
        (GTO writes free text) names no version."""
        try:
            d = _mapping(text or "", tag)
        except RegistryError:
            return cls(name, stage, None)
        version = d.get("version")
        for key, want in (("name", name), ("stage", stage)):
            if key in d and d[key] != want:
                raise RegistryError(f"tag {tag}: its message says {key} {d[key]!r}")
        if version is not None and (not isinstance(version, str) or not parse_semver(version)):
            raise RegistryError(f"tag {tag}: 'version' is not a version vX.Y.Z: {version!r}")
        return cls(name, stage, version)


def _mapping(text: str, tag: str) -> dict[object, object]:
    data = yamlio.load(text, f"message of tag {tag}", RegistryError)
    if not isinstance(data, dict):
        raise RegistryError(f"tag {tag}: its message is not a dvlite record (a YAML mapping)")
    return data
