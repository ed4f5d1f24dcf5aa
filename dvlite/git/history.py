"""Tracked data at git revisions: every pointer file (and dvlite.lock) at a commit, read with
one ``ls-tree`` per commit and one ``cat-file --batch`` for all of them."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

from dvlite.errors import ScmError
from dvlite.git import cmd as gitcmd
from dvlite.git import exps
from dvlite.records import pointer as pointers
from dvlite.records.lockfile import LOCK_FILE
from dvlite.records.repo import Repo
from dvlite.records.tracked import Tracked, collect, outputs_of

WORKSPACE = "workspace"


def _check(repo: Repo) -> None:
    if not repo.uses_git:
        raise ScmError("this dvlite repository has no git (initialised with --no-scm)")


def resolve(repo: Repo, rev: str) -> str:
    """The commit id a revision (or an experiment's name) names; ScmError for an unknown one."""
    _check(repo)
    sha = gitcmd.rev_parse(repo.root, rev)
    if sha is None and exps.name_problem(rev) is None:  # the name of an experiment
        found = exps.find(repo.root, rev)
        sha = found.commit if found else None
    if sha is None:
        raise ScmError(f"unknown git revision {rev!r}")
    return sha


@dataclass(frozen=True)
class Revisions:
    """The git revisions an operation also concerns: ``revs`` and every branch tip, tag,
    commit or experiment (the CLI's --rev, -a, -T, -A and --all-experiments)."""

    revs: Sequence[str] = ()  # a tuple once made
    all_branches: bool = False
    all_tags: bool = False
    all_commits: bool = False
    all_experiments: bool = False  # every experiment's commit (git/exps.py)

    def __post_init__(self) -> None:  # Revisions("v1") and Revisions(["v1", "main"]) too
        revs = (self.revs,) if isinstance(self.revs, str) else tuple(self.revs)
        object.__setattr__(self, "revs", revs)

    def __bool__(self) -> bool:
        wanted = (self.all_branches, self.all_tags, self.all_commits, self.all_experiments)
        return bool(self.revs) or any(wanted)

    def commits(self, repo: Repo) -> list[str]:
        """Commit ids for the revisions and ref sets, each once, in a stable order."""
        _check(repo)
        found: dict[str, None] = {}
        for rev in self.revs:
            found[resolve(repo, rev)] = None
        sets = (("refs/heads", self.all_branches), ("refs/tags", self.all_tags))
        refs = [prefix for prefix, wanted in sets if wanted]
        if refs:
            fmt = "--format=%(objecttype) %(objectname) %(*objecttype) %(*objectname)"
            for line in gitcmd.run(repo.root, "for-each-ref", fmt, *refs).decode().splitlines():
                kind, sha, peeled_kind, peeled = [*line.split(" "), "", ""][:4]
                if kind == "commit":
                    found[sha] = None
                elif peeled_kind == "commit":  # an annotated tag of a commit
                    found[peeled] = None
        if self.all_commits:
            for sha in gitcmd.run(repo.root, "rev-list", "--all").decode().split():
                found[sha] = None
        if self.all_experiments:
            found.update((e.commit, None) for e in exps.listing(repo.root))
        return list(found)


def tracked_at(repo: Repo, rev: str) -> list[Tracked]:
    """Every pointer and stage output committed at ``rev`` (the workspace for ``WORKSPACE``)."""
    if rev == WORKSPACE:
        return collect(repo)
    return tracked_at_commits(repo, [resolve(repo, rev)], [rev])[0]


def tracked_at_commits(
    repo: Repo, commits: list[str], labels: list[str] | None = None
) -> list[list[Tracked]]:
    """``tracked_at`` for each of ``commits`` (commit ids, read without resolving them), all
    their pointer files read through one git process; PointerError for a malformed one."""
    _check(repo)
    found: list[list[tuple[str, str]]] = []  # per commit: (blob sha, path)
    for commit in commits:
        found.append([])
        for line in gitcmd.lines(repo.root, "ls-tree", "-r", "-z", "--full-tree", commit, "--"):
            meta, _, path = line.partition("\t")
            _mode, kind, sha = meta.split(" ")
            if kind == "blob" and (pointers.is_pointer(path) or path == LOCK_FILE):
                found[-1].append((sha, path))
    blobs = gitcmd.read_blobs(repo.root, sorted({sha for files in found for sha, _ in files}))
    labels = labels or [commit[:12] for commit in commits]
    return [_parse(files, blobs, label) for files, label in zip(found, labels, strict=True)]


def _parse(
    found: list[tuple[str, str]], blobs: dict[str, bytes | None], label: str
) -> list[Tracked]:
    items = []
    for sha, path in found:
        data = blobs.get(sha)
        if data is None:
            raise ScmError(
                f"git cannot read {path} at {label}; the repository may be damaged (`git fsck`)"
            )
        text = data.decode("utf-8", errors="replace")
        where = f"{path} at {label}"
        if path == LOCK_FILE:
            items.extend(outputs_of(text, where))
            continue
        p = pointers.loads(text, where, posixpath.basename(path)[: -len(pointers.SUFFIX)])
        items.append(Tracked(path, path[: -len(pointers.SUFFIX)], p))
    return items
