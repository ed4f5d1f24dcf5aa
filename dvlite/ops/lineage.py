"""``dvlite lineage``: what produced a path, back to data tracked by pointers or plain files
in git (each output leads to the stage that made it, with the cmd, params and input oids that
dvlite.lock recorded, each input to its own producer), or every stage that depends on it.
Every record carries the commit where it last changed.
"""

from __future__ import annotations

import posixpath
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property

from dvlite.errors import PathError
from dvlite.git import cmd as gitcmd
from dvlite.git.revision import Snapshot
from dvlite.records import checks as checkspec
from dvlite.records import pointer as pointers
from dvlite.records.lockfile import LOCK_FILE, LockEntry
from dvlite.records.pipeline import overlaps
from dvlite.records.repo import Repo

STAGE, DATA, FILE, MISSING = "stage", "data", "file", "missing"
UNCOMMITTED = "uncommitted"


@dataclass(frozen=True)
class Node:
    """One path in the lineage. ``kind`` is "stage" (a stage output), "data" (tracked by a
    pointer file), "file" (anything else, usually code in git) or "missing"."""

    path: str
    kind: str
    oid: str | None = None  # as the record that reaches this node holds it
    source: str | None = None  # dvlite.lock, the pointer file, or None
    commit: str | None = None  # where that record last changed; "uncommitted" or None (no git)
    stage: str | None = None
    cmd: str | None = None
    params: dict[str, dict[str, object]] = field(default_factory=dict)
    inputs: tuple[Node, ...] = ()
    current_oid: str | None = None  # for data: the pointer's oid when it differs from the record
    imported: dict[str, object] | None = None  # for data: the pointer's source (import)
    checks: dict[str, object] | None = None  # for a stage: {passed: N} and/or {failed: [...]}

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"path": self.path, "kind": self.kind, "oid": self.oid}
        d |= {"source": self.source, "commit": self.commit}
        if self.kind == STAGE:
            d |= {"stage": self.stage, "cmd": self.cmd, "params": self.params}
            d["inputs"] = [n.to_dict() for n in self.inputs]
            d["checks"] = self.checks
        if self.current_oid:
            d["current_oid"] = self.current_oid
        if self.imported:
            d["imported"] = self.imported
        return d


@dataclass(frozen=True)
class Dependent:
    stage: str
    cmd: str
    outs: tuple[str, ...]
    via: tuple[str, ...]  # the deps through which it depends on the path (or upstream stages)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class _Commits:
    """The commit where a record last changed, asked of git lazily and remembered."""

    def __init__(self, repo: Repo, snap: Snapshot) -> None:
        self.repo, self.snap = repo, snap
        self._lock_history: list[tuple[str, Snapshot]] | None = None

    @cached_property
    def _rev(self) -> str | None:
        """The snapshot's commit, or HEAD for the workspace (None before the first commit)."""
        return self.snap.commit or gitcmd.rev_parse(self.repo.root, "HEAD")

    def _log(self, rev: str, rel: str, *options: str) -> list[str]:
        """The commits up to ``rev`` that changed ``rel``, newest first."""
        args = ("log", *options, "--format=%H", rev, "--", rel)
        return gitcmd.run(self.repo.root, *args).decode().split()

    def of_file(self, rel: str) -> str | None:
        """The last commit (at or before the snapshot) that changed ``rel``."""
        if not self.repo.uses_git:
            return None
        rev = self._rev
        if rev is None or (self.snap.commit is None and gitcmd.is_dirty(self.repo.root, rel)):
            return UNCOMMITTED
        return next(iter(self._log(rev, rel, "-1")), UNCOMMITTED)

    def of_stage(self, name: str, entry: LockEntry) -> str | None:
        """The oldest commit of the newest run of commits whose lock holds this same entry."""
        if not self.repo.uses_git:
            return None
        rev = self._rev
        if rev is None:
            return UNCOMMITTED
        if self._lock_history is None:
            shas = self._log(rev, LOCK_FILE)
            self._lock_history = [(sha, Snapshot(self.repo, sha)) for sha in shas]
        found = UNCOMMITTED
        for sha, snap in self._lock_history:
            if snap.lock.stages.get(name) != entry:
                break
            found = sha
        return found


def _rel(repo: Repo, path: str) -> str:
    rel = repo.rel(path)
    if not rel:
        raise PathError("give a file or folder inside the repository, not its root")
    if pointers.is_pointer(rel):
        rel = rel[: -len(pointers.SUFFIX)]
    return rel


def _checks(repo: Repo, name: str, entry: LockEntry, workspace: bool) -> dict[str, object] | None:
    """What the lock says of a stage's checks, and (in the workspace) their last failure."""
    found: dict[str, object] = {"passed": entry.checks.passed} if entry.checks else {}
    failed = checkspec.failures(repo.tmp_dir).get(name) if workspace else None
    return found | ({"failed": failed} if failed else {}) or None


def lineage(repo: Repo, path: str, rev: str | None = None) -> Node:
    """Where ``path`` came from, at ``rev`` (or in the workspace)."""
    snap = Snapshot(repo, rev)
    commits = _Commits(repo, snap)
    lock = snap.lock
    pipeline = snap.pipeline
    seen: dict[str, Node] = {}

    def node(rel: str, recorded: str | None, trail: frozenset[str]) -> Node:
        owner = next(
            (
                (name, out)
                for name, entry in sorted(lock.stages.items())
                for out in entry.outs + entry.metrics
                if rel == out.path or rel.startswith(out.path + "/")
            ),
            None,
        )
        if owner is not None:
            name, out = owner
            if name in trail:  # a cycle in an old lock: stop rather than loop
                return Node(rel, STAGE, out.oid, LOCK_FILE, stage=name)
            if name in seen and seen[name].path == rel:
                return seen[name]
            entry = lock.stages[name]
            inputs = tuple(node(d.path, d.oid, trail | {name}) for d in entry.deps)
            oid = out.oid if rel == out.path else recorded
            commit = commits.of_stage(name, entry)
            n = Node(rel, STAGE, oid, LOCK_FILE, commit, name, entry.cmd, entry.params, inputs)
            n = replace(n, checks=_checks(repo, name, entry, rev is None))
            seen[name] = n
            return n
        stage = pipeline.producer(rel)
        if stage is not None:  # declared, but never run
            return Node(rel, STAGE, recorded, stage=stage.name, cmd=stage.cmd)
        pointer_rel = pointers.tracking(rel, snap.exists)
        if pointer_rel is not None:
            data_rel = pointer_rel[: -len(pointers.SUFFIX)]
            data = snap.read(pointer_rel)
            current = imported = None
            if data is not None:
                text = data.decode("utf-8", errors="replace")
                p = pointers.loads(text, snap.where(pointer_rel), posixpath.basename(data_rel))
                current = p.oid if rel == data_rel else None
                imported = p.source.to_dict() if p.source is not None else None
            oid = recorded or current
            now = current if current and current != oid else None
            commit = commits.of_file(pointer_rel)
            return Node(rel, DATA, oid, pointer_rel, commit, current_oid=now, imported=imported)
        if snap.exists(rel):
            return Node(rel, FILE, recorded, None, commits.of_file(rel))
        return Node(rel, MISSING, recorded)

    rel = _rel(repo, path)
    result = node(rel, None, frozenset())
    if result.kind == MISSING and not any(
        overlaps(rel, o.path) for e in lock.stages.values() for o in e.deps
    ):
        raise PathError(f"{path}: no such file, pointer or stage output at {snap.label}")
    return result


def downstream(repo: Repo, path: str, rev: str | None = None) -> list[Dependent]:
    """Every stage that depends on ``path``, directly or through other stages, in run order."""
    snap = Snapshot(repo, rev)
    pipeline = snap.pipeline
    rel = _rel(repo, path)
    direct = {
        s.name: tuple(d for d in s.deps if overlaps(d, rel))
        for s in pipeline
        if any(overlaps(d, rel) for d in s.deps)
    }
    if (
        not direct
        and pipeline.producer(rel) is None
        and not snap.exists(rel)
        and not pointers.tracking(rel, snap.exists)
    ):
        raise PathError(f"{path}: no such file, pointer or stage output at {snap.label}")
    reach = pipeline.downstream_of(direct)
    edges = pipeline.edges
    found = []
    for name in pipeline.order(reach):
        stage = pipeline.stages[name]
        via = direct.get(name) or tuple(f"stage {u}" for u in edges[name] if u in reach)
        found.append(Dependent(name, stage.cmd, stage.produces, via))
    return found
