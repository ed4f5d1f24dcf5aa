"""``dvlite remove``: stop tracking data; the data itself stays in the workspace."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from dvlite.errors import PathError
from dvlite.records import gitignore
from dvlite.records import pointer as pointers
from dvlite.records.repo import Repo
from dvlite.records.tracked import stage_products


def remove(repo: Repo, targets: Iterable[str | Path]) -> list[str]:
    """Delete the pointer files named by ``targets`` and un-ignore their data; returns the
    removed pointers."""
    rels = []
    for target in targets:
        rel = repo.rel(target)
        if not pointers.is_pointer(rel):
            rel += pointers.SUFFIX
        if not os.path.isfile(repo.abspath(rel)):
            raise PathError(f"{target} is not a pointer file (nothing tracks it)")
        rels.append(rel)
    gone_ignores: list[str] = []
    changed_ignores: list[str] = []
    outs = stage_products(repo, metrics=False)
    with repo.lock():
        for rel in rels:
            path = repo.abspath(rel)
            path.unlink()
            if rel[: -len(pointers.SUFFIX)] in outs:
                continue  # a stage output: the same .gitignore line keeps it out of git
            if gitignore.remove(path.parent, pointers.data_path_for(path).name):
                ignore = path.parent / ".gitignore"
                ignore_rel = os.path.relpath(ignore, repo.root).replace(os.sep, "/")
                (changed_ignores if ignore.exists() else gone_ignores).append(ignore_rel)
    if repo.uses_git:
        from dvlite.git import index as scm

        scm.unstage_removed(repo.root, rels + gone_ignores)
        scm.stage(repo.root, changed_ignores)
    return rels
