"""``dvlite init``: make ``.dvlite/`` and stage its config and ignore file in git."""

from __future__ import annotations

from pathlib import Path

from dvlite.git import index
from dvlite.records.repo import DVLITE_DIR, Repo


def init(path: str | Path | None = None, *, no_scm: bool = False, force: bool = False) -> Repo:
    repo = Repo.init(path, no_scm=no_scm, force=force)
    if not no_scm:
        index.stage(repo.root, [f"{DVLITE_DIR}/config", f"{DVLITE_DIR}/.gitignore"])
    return repo
