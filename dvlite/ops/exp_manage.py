"""What is done with a finished experiment: ``exp apply`` (into the workspace), ``exp branch``,
``exp remove``, ``exp gc``, and ``exp push`` / ``exp pull`` (refs to and from a git remote,
data to and from a data remote)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from dvlite.errors import CheckoutError, ExperimentError, ScmError
from dvlite.git import cmd as gitcmd
from dvlite.git import exps
from dvlite.git.history import Revisions, tracked_at_commits
from dvlite.objects import fsutil
from dvlite.ops.checkout import CheckoutResult, apply, make_folders, plan, raise_incomplete
from dvlite.records.repo import DVLITE_DIR, Repo
from dvlite.safepath import rel_problem
from dvlite.transfer import TransferResult, fetch_oids, push_oids


@dataclass
class Applied:
    name: str
    files: list[str] = field(default_factory=list)  # git-tracked files written or removed
    checkout: CheckoutResult = field(default_factory=CheckoutResult)
    settings: list[str] = field(default_factory=list)  # .dvlite/ files left alone

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name, "files": self.files, "checkout": self.checkout.to_dict(),
            "settings_left_alone": self.settings,
        }  # fmt: skip


def apply_exp(repo: Repo, name: str, *, force: bool = False) -> Applied:
    """Bring experiment ``name`` into the workspace: the files its commit changed from its
    baseline (params, dvlite.lock, metrics, code), then its data from the cache. Refuses,
    before writing anything, where that would overwrite changes not committed (``force``:
    overwrite them). Nothing is committed or staged. dvlite's own settings (``.dvlite/``) are
    never taken from an experiment: one from another repository could name any remote."""
    exp = _finished(repo, name)
    with repo.lock():
        listed = gitcmd.lines(
            repo.root, "diff", "--name-only", "--no-renames", "-z", exp.baseline, exp.commit
        )
        settings = [rel for rel in listed if rel.startswith(DVLITE_DIR + "/")]
        changed = [rel for rel in listed if rel not in settings]
        for rel in changed:  # an experiment may come from another repository: check its paths
            if rel_problem(rel) is not None:
                raise ExperimentError(f"experiment {name!r} holds a path dvlite refuses: {rel!r}")
        specs = [f"{c}:{rel}" for rel in changed for c in (exp.baseline, exp.commit)]
        blobs = gitcmd.read_blobs(repo.root, specs)
        writes: list[tuple[str, bytes | None]] = []
        unsaved = []
        for rel in changed:
            old, new = blobs[f"{exp.baseline}:{rel}"], blobs[f"{exp.commit}:{rel}"]
            now = _read(repo, rel)
            if now == new:
                continue
            if now != old and not force:
                unsaved.append(rel)
            writes.append((rel, new))
        if unsaved:
            raise CheckoutError(
                f"exp apply would overwrite changes that are not committed: {', '.join(unsaved)}; "
                "commit them, or use --force to discard them"
            )
        items = tracked_at_commits(repo, [exp.commit], [name])[0]
        skipped: list[str] = []
        deltas = plan(repo, items, force=force, relink=False, skipped=skipped)
        for rel, data in writes:
            path = repo.confined.target(rel, f"experiment {name!r}")
            if data is None:
                fsutil.remove(path)
            else:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                fsutil.atomic_write(path, data)
        result = apply(repo, deltas, partial=True)
        result.missing = skipped
        make_folders(repo, items)
        applied = Applied(name, [rel for rel, _ in writes], result, settings)
        raise_incomplete(result)
        return applied


def branch(repo: Repo, name: str, new_branch: str) -> str:
    """Make the git branch ``new_branch`` at experiment ``name``'s commit; returns the commit."""
    exp = _finished(repo, name)
    try:
        gitcmd.run(repo.root, "branch", "--end-of-options", new_branch, exp.commit)
    except ScmError as exc:
        raise ExperimentError(f"cannot make branch {new_branch!r}: {exc}") from None
    return exp.commit


def remove(
    repo: Repo, names: list[str], *, queued: bool = False, everything: bool = False
) -> list[str]:
    """Remove the named experiments (``queued``: every queued one; ``everything``: all)."""
    found = exps.listing(repo.root)
    drop = [e for e in found if everything or (queued and e.state == exps.QUEUED)]
    for name in names:
        drop.append(exps.get(repo.root, name))
    gone = list({e.ref: e for e in drop}.values())
    for e in gone:
        exps.delete_ref(repo.root, e.ref)
    return [e.name for e in gone]


def gc(
    repo: Repo, revisions: Revisions = Revisions(), *, queued: bool = False, dry: bool = False
) -> list[str]:
    """Remove the experiments whose baseline is neither HEAD nor one of ``revisions`` (a
    queued one only with ``queued``); their data stays until ``dvlite gc``."""
    head = gitcmd.rev_parse(repo.root, "HEAD")
    kept = {head, *revisions.commits(repo)} if revisions else {head}
    drop = [
        e
        for e in exps.listing(repo.root)
        if e.baseline not in kept and (queued or e.state != exps.QUEUED)
    ]
    if not dry:
        for e in drop:
            exps.delete_ref(repo.root, e.ref)
    return [e.name for e in drop]


def push(
    repo: Repo, git_remote: str, names: list[str], *, remote: str | None = None
) -> TransferResult:
    """Send the experiments' refs to the git remote ``git_remote`` and their data (what their
    pointers and locks record) to the data ``remote``."""
    found = [_finished(repo, n) for n in names]
    specs = [f"{e.ref}:{e.ref}" for e in found]
    try:
        gitcmd.run(repo.root, "push", "--quiet", "--end-of-options", git_remote, *specs)
    except ScmError as exc:
        raise ExperimentError(f"cannot push to git remote {git_remote!r}: {exc}") from None
    return push_oids(repo, remote, _oids(repo, [e.commit for e in found]))


def pull(
    repo: Repo, git_remote: str, names: list[str], *, remote: str | None = None
) -> TransferResult:
    """Fetch the named experiments' refs from the git remote and their data into the cache
    (`exp apply` then puts them in the workspace)."""
    try:
        listed = gitcmd.run(
            repo.root, "ls-remote", "--end-of-options", git_remote, exps.ROOT + "/*"
        )
    except ScmError as exc:
        raise ExperimentError(f"cannot read git remote {git_remote!r}: {exc}") from None
    there: dict[str, list[str]] = {}  # name -> refs (of the shape experiments have)
    for line in listed.decode(errors="replace").splitlines():
        sha, _, ref = line.partition("\t")
        parsed = exps.parse_ref(ref, sha, sha)
        if parsed is not None and parsed[2] == exps.DONE:
            there.setdefault(parsed[0], []).append(ref)
    missing = [n for n in names if n not in there]
    if missing:
        raise ExperimentError(
            f"git remote {git_remote!r} has no experiment called {', '.join(map(repr, missing))}"
        )
    refs = [ref for n in names for ref in there[n]]
    gitcmd.run(
        repo.root, "fetch", "--quiet", "--end-of-options", git_remote, *(f"{r}:{r}" for r in refs)
    )
    commits = [gitcmd.run(repo.root, "rev-parse", "--verify", r).decode().strip() for r in refs]
    return fetch_oids(repo, remote, _oids(repo, commits))


def _finished(repo: Repo, name: str) -> exps.Experiment:
    exp = exps.get(repo.root, name)
    if exp.state != exps.DONE:
        hint = "run it with `dvlite exp run --run-all`" if exp.state == exps.QUEUED else "it failed"
        raise ExperimentError(f"experiment {name!r} is {exp.state}, not finished; {hint}")
    return exp


def _oids(repo: Repo, commits: list[str]) -> list[str]:
    return [t.pointer.oid for items in tracked_at_commits(repo, commits) for t in items]


def _read(repo: Repo, rel: str) -> bytes | None:
    try:
        with open(repo.confined.target(rel, "the workspace"), "rb") as f:
            return f.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
