"""The Python API: one function per command (docs/api.md), handed out on first use by
``dvlite/__init__.py``. Each finds the repository from ``repo`` (default: the current folder),
takes relative paths from it, calls the one library function its command calls and returns
that result; failures raise ``DvliteError``s, nothing is printed. Long operations report to
``progress`` (``dvlite.progress.Progress``), stages to ``on_event(kind, stage, text)``.
A function here is a few lines, never logic.
"""

from dvlite.api.checks import check
from dvlite.api.data import add, checkout, diff, fsck, gc, init, ls, remove, status, unprotect
from dvlite.api.experiments import (
    exp_apply,
    exp_branch,
    exp_diff,
    exp_gc,
    exp_pull,
    exp_push,
    exp_remove,
    exp_run,
    exp_run_all,
    exp_show,
)
from dvlite.api.info import doctor, du
from dvlite.api.models import model_get, model_list, model_promote, model_register, model_show
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
    stage_list,
)
from dvlite.api.plots import plots_diff, plots_show, report
from dvlite.api.registry_data import (
    get,
    import_data,
    import_url,
    ls_url,
    migrate_dvc,
    update,
)
from dvlite.api.remotes import (
    fetch,
    fsck_remote,
    pull,
    push,
    remote_add,
    remote_remove,
    remote_rename,
    remote_repack,
    remote_status,
    remotes,
)
from dvlite.api.tracking import check_ignore, commit, move
from dvlite.git.history import Revisions

# the public names are listed once, in dvlite/__init__.py (__all__)
