"""Tracked data: what a pointer file, or a stage's entry in dvlite.lock, says a path should hold."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dvlite.errors import PathError
from dvlite.objects.tree import TreeEntry
from dvlite.records import lockfile
from dvlite.records import pipeline as pipelines
from dvlite.records import pointer as pointers
from dvlite.records.lockfile import LOCK_FILE, Lock
from dvlite.records.pointer import Pointer
from dvlite.records.repo import Repo
from dvlite.records.workspace import Node, hashed
from dvlite.safepath import rel_problem


@dataclass(frozen=True, slots=True)
class Tracked:
    source: str  # the pointer file that records it, or "dvlite.lock:<stage>" for a stage output
    rel: str  # repository-relative path of the data
    pointer: Pointer

    def __post_init__(self) -> None:
        why = rel_problem(self.rel)
        if why is not None:
            raise PathError(f"{self.source}: the data path {self.rel!r} {why}")

    @property
    def entry(self) -> TreeEntry:
        p = self.pointer
        return TreeEntry(os.path.basename(self.rel), p.kind, p.oid, p.size, p.exec)


def load(repo: Repo, pointer_rel: str) -> Tracked:
    p = pointers.load(repo.abspath(pointer_rel), pointer_rel)
    return Tracked(pointer_rel, pointer_rel[: -len(pointers.SUFFIX)], p)


def collect(repo: Repo, targets: Iterable[str | Path] | None = None) -> list[Tracked]:
    """The tracked items named by ``targets`` (pointer files, data paths or folders holding
    pointers), or every one in the repository when there are none."""
    if not targets:
        return [load(repo, rel) for rel in sorted(repo.iter_pointers())] + stage_outputs(repo)
    found: dict[str, Tracked] = {}
    outs: list[Tracked] | None = None
    for target in targets:
        rel = repo.rel(target)
        absolute = repo.abspath(rel)
        outs = stage_outputs(repo) if outs is None else outs
        chosen = [o for o in outs if _names_output(rel, o)]
        if chosen:
            for o in chosen:
                found.setdefault(o.rel, o)
            if not absolute.is_dir() or any(o.rel == rel for o in chosen):
                continue
        if pointers.is_pointer(rel) and absolute.is_file():
            rels = [rel]
        elif os.path.isfile(repo.abspath(rel + pointers.SUFFIX)):
            rels = [rel + pointers.SUFFIX]
        elif absolute.is_dir():
            rels = sorted(repo.iter_pointers(rel))
            if not rels and not chosen:
                raise PathError(f"{target}: no tracked data in this folder")
        else:
            owner = repo.tracking_pointer(rel)
            inside = next((o for o in outs if rel.startswith(o.rel + "/")), None)
            hint = ""
            if inside is not None:
                hint = f" (it is inside {inside.rel}, an output recorded in {inside.source})"
            elif owner:
                hint = f" (it is inside {owner[: -len(pointers.SUFFIX)]}, tracked by {owner})"
            raise PathError(f"{target} is not tracked by dvlite{hint}")
        for r in rels:
            found.setdefault(r, load(repo, r))
    return list(found.values())


def _names_output(rel: str, item: Tracked) -> bool:
    """Whether a target names a stage output: its path, a folder above it, or the lock."""
    return rel in ("", LOCK_FILE, item.source, item.rel) or item.rel.startswith(rel + "/")


def outputs_of(lock_text: str, where: str) -> list[Tracked]:
    """The stage outputs a dvlite.lock records (metrics stay in git, so they are not here)."""
    return _outputs(Lock.loads(lock_text, where))


def _outputs(lock: Lock) -> list[Tracked]:
    items = []
    for name in sorted(lock.stages):
        for out in lock.stages[name].outs:
            p = Pointer.like(os.path.basename(out.path), out)
            items.append(Tracked(f"{LOCK_FILE}:{name}", out.path, p))
    return items


def stage_outputs(repo: Repo) -> list[Tracked]:
    """Stage outputs recorded in the workspace's dvlite.lock (none without one)."""
    return _outputs(lockfile.load(repo.root))


def stage_products(repo: Repo, *, metrics: bool = True) -> dict[str, str]:
    """Every path a stage produces -> that stage: the outs (and ``metrics``) that dvlite.yaml
    declares and those dvlite.lock still records. Empty without a pipeline."""
    found: dict[str, str] = {}
    for stage in pipelines.load(repo.root):
        for out in stage.produces if metrics else stage.outs:
            found.setdefault(out, stage.name)
    for name, entry in sorted(lockfile.load(repo.root).stages.items()):
        for locked in entry.outs + entry.metrics if metrics else entry.outs:
            found.setdefault(locked.path, name)
    return found


def workspace_node(repo: Repo, item: Tracked) -> Node | None:
    """The workspace side of ``item``, hashed (through the state database); None if absent."""
    path = repo.abspath(item.rel)
    if not os.path.lexists(path):
        return None
    roots = (os.path.realpath(repo.cache_dir),)
    return hashed(repo.state, os.fspath(path), item.rel, roots, ignore=repo.ignore)
