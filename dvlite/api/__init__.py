"""The Python API: one function per command, for notebooks and scripts (``import dvlite;
dvlite.add("data")``). ``dvlite/__init__.py`` hands these out on first use.

Each function finds the repository from ``repo`` (a folder in it; default: the current
folder, as the CLI does), calls the one library function its command calls, and returns that
function's result: dataclasses with ``to_dict()`` (what ``--json`` prints). Relative paths
are taken from ``repo`` when it is given, from the current folder otherwise. Failures raise
``dvlite.errors.DvliteError`` subclasses; nothing is printed. Long operations report to
``progress`` (``dvlite.progress.Progress``: ``start(files, size)``, ``advance(files, size)``);
``repro`` and ``run`` report what stages do to ``on_event(kind, stage, text)``.

The work stays in the library modules: a function here is a few lines, never logic.
"""

from dvlite.api.data import add, checkout, diff, fsck, gc, init, ls, remove, status, unprotect
from dvlite.api.pipelines import (
    dag,
    downstream,
    lineage,
    metrics,
    metrics_diff,
    params_diff,
    repro,
    run,
    stage_add,
)
from dvlite.api.remotes import (
    fetch,
    fsck_remote,
    pull,
    push,
    remote_add,
    remote_remove,
    remote_status,
    remotes,
)
from dvlite.git.history import Revisions

# the public names are listed once, in dvlite/__init__.py (__all__)
