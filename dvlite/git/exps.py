"""Experiments as git commits on hidden refs (DVC's layout), so they travel with git and never
show as branches:

- ``refs/exps/<2 hex>/<38 hex>/<name>``: a finished experiment, based on that commit;
- ``refs/exps/queue/<name>``: one waiting to run, its params already set;
- ``refs/exps/failed/<name>``: one whose run failed.

An experiment's commit has its baseline as its parent, and holds the workspace it ran in:
params, dvlite.lock, metrics (its outputs are in the cache). Refs read from git may come
from another repository: names and commit ids are checked before use, and a ref of another
shape is left alone."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from dvlite.errors import ExperimentError, ScmError
from dvlite.git import cmd as gitcmd
from dvlite.objects import fsutil

ROOT = "refs/exps"
DONE, QUEUED, FAILED = "done", "queued", "failed"
_FOLDERS = {"queue": QUEUED, "failed": FAILED}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True, slots=True)
class Experiment:
    name: str
    ref: str
    commit: str
    baseline: str  # the commit it is based on (its commit's parent)
    state: str  # DONE, QUEUED or FAILED
    created: int  # the commit's time, seconds since the epoch

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name, "commit": self.commit, "baseline": self.baseline,
            "state": self.state, "created": self.created,
        }  # fmt: skip


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an experiment (None: it can)."""
    if not _NAME_RE.match(name) or ".." in name or name.endswith((".lock", ".")):
        return "use up to 100 letters, digits, '_', '-' and '.', starting with a letter or digit"
    return None


def check_name(name: str) -> str:
    why = name_problem(name)
    if why is not None:
        raise ExperimentError(f"bad experiment name {name!r}: {why}")
    return name


def ref_for(baseline: str, name: str, state: str = DONE) -> str:
    if state == DONE:
        return f"{ROOT}/{baseline[:2]}/{baseline[2:]}/{name}"
    folder = next(f for f, s in _FOLDERS.items() if s == state)
    return f"{ROOT}/{folder}/{name}"


def parse_ref(ref: str, commit: str, parent: str) -> tuple[str, str, str] | None:
    """(name, baseline, state) of an experiment ref; None for a ref of another shape."""
    parts = ref.split("/")
    if len(parts) == 5 and parts[:2] == ["refs", "exps"]:
        baseline, state = parts[2] + parts[3], DONE
    elif len(parts) == 4 and parts[:2] == ["refs", "exps"] and parts[2] in _FOLDERS:
        baseline, state = parent, _FOLDERS[parts[2]]
    else:
        return None
    name = parts[-1]
    if name_problem(name) or not _SHA_RE.match(baseline) or not _SHA_RE.match(commit):
        return None
    return name, baseline, state


def listing(root: Path) -> list[Experiment]:
    """Every experiment, oldest first."""
    fmt = "--format=%(refname) %(objecttype) %(objectname) %(committerdate:unix) %(parent)"
    found = []
    for line in gitcmd.run(root, "for-each-ref", fmt, ROOT).decode(errors="replace").splitlines():
        ref, kind, commit, created, *parents = [*line.split(" "), ""][:5]
        parsed = parse_ref(ref, commit, parents[0]) if kind == "commit" else None
        if parsed is not None:
            name, baseline, state = parsed
            found.append(Experiment(name, ref, commit, baseline, state, int(created or 0)))
    return sorted(found, key=lambda e: (e.created, e.name))


def find(root: Path, name: str, state: str | None = None) -> Experiment | None:
    """The experiment called ``name`` (in ``state``); ExperimentError when two have it."""
    found = [e for e in listing(root) if e.name == name and state in (None, e.state)]
    if len(found) > 1:
        where = ", ".join(f"{e.state} on {e.baseline[:12]}" for e in found)
        raise ExperimentError(
            f"{len(found)} experiments are called {name!r} ({where}); remove one with "
            "`dvlite exp remove`"
        )
    return found[0] if found else None


def get(root: Path, name: str) -> Experiment:
    found = find(root, name)
    if found is None:
        raise ExperimentError(f"no experiment called {name!r}; `dvlite exp show` lists them")
    return found


def create_ref(root: Path, ref: str, commit: str) -> None:
    """Point ``ref`` at ``commit``; ExperimentError when it exists already (create-only)."""
    try:
        gitcmd.run(root, "update-ref", ref, commit, gitcmd.NULL_SHA)
    except ScmError:
        raise ExperimentError(f"{ref} exists already; choose another name") from None


def delete_ref(root: Path, ref: str) -> None:
    gitcmd.run(root, "update-ref", "-d", ref)


def snapshot(root: Path, index: Path) -> str:
    """The tree of the workspace as ``git add -A`` would stage it (untracked files too, ignored
    ones not), written through a copy of the index at ``index``: git's own index is untouched."""
    own = gitcmd.git_dir(root) / "index"
    if own.exists():
        shutil.copyfile(own, index)
    env = {"GIT_INDEX_FILE": os.fspath(index)}
    gitcmd.run(root, "add", "-A", env=env)
    return gitcmd.run(root, "write-tree", env=env).decode().strip()


def commit_tree(root: Path, tree: str, parent: str, message: str) -> str:
    out = gitcmd.run(root, "commit-tree", tree, "-p", parent, "-F", "-", input=message.encode())
    return out.decode().strip()


def commit_worktree(tree_root: Path, parent: str, message: str) -> str:
    """A commit of everything in the work tree at ``tree_root`` (as ``git add -A``), whose
    parent is ``parent``; nothing is moved (no branch, no HEAD)."""
    gitcmd.run(tree_root, "add", "-A")
    tree = gitcmd.run(tree_root, "write-tree").decode().strip()
    return commit_tree(tree_root, tree, parent, message)


def add_worktree(root: Path, path: Path, commit: str) -> None:
    """A detached work tree at ``commit``; the repository's hooks are not run (dvlite's own
    post-checkout would look for data in a cache the work tree is not yet set to use)."""
    hooks_off = ("-c", f"core.hooksPath={os.devnull}")
    gitcmd.run(root, *hooks_off, "worktree", "add", "--detach", "--quiet", os.fspath(path), commit)


def remove_worktree(root: Path, path: Path) -> None:
    """Remove a temporary work tree, read-only files (from the cache) and all."""
    fsutil.remove_tree(path)
    gitcmd.run(root, "worktree", "prune", check=False)
