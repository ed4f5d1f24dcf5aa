"""``dvlite model register`` and ``model promote``: the annotated tags that register a
version (only of a path tracked at a commit, as that commit records it) and put a version in a
stage (``registry.py`` reads them back)."""

from __future__ import annotations

import os
import time

from dvlite.errors import ArgumentError, DvliteError, PathError, RegistryError
from dvlite.git import history
from dvlite.git.tags import create_tag
from dvlite.ops.registry import Assignment, Version, configured_stages, read, semver_of
from dvlite.records import pointer as pointers
from dvlite.records.modeltag import (
    StageRecord,
    VersionRecord,
    bump,
    name_problem,
    parse_semver,
    stage_tag,
    version_tag,
)
from dvlite.records.recorded import Recorded
from dvlite.records.repo import Repo
from dvlite.records.tracked import Tracked, collect


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
        if semver_of(version) < existing.latest.semver:
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
