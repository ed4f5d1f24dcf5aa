"""``dvlite init``: make ``.dvlite/``, write a template ``.dvliteignore`` (where there is none),
and stage them in git."""

from __future__ import annotations

import os
from pathlib import Path

from dvlite.git import index
from dvlite.objects import fsutil
from dvlite.records.ignore import IGNORE_FILE, TEMPLATE
from dvlite.records.repo import DVLITE_DIR, Repo


def init(path: str | Path | None = None, *, no_scm: bool = False, force: bool = False) -> Repo:
    repo = Repo.init(path, no_scm=no_scm, force=force)
    ignore = repo.abspath(IGNORE_FILE)
    if not os.path.lexists(ignore):  # a template with the usual clutter; never overwritten
        fsutil.atomic_write(ignore, TEMPLATE.encode("utf-8"))
    if not no_scm:
        index.stage(repo.root, [f"{DVLITE_DIR}/config", f"{DVLITE_DIR}/.gitignore", IGNORE_FILE])
    return repo
