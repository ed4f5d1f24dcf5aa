"""dvlite: Git-native versioning of datasets and model files.

The Python API is here: ``import dvlite; dvlite.add("data"); dvlite.push()`` (docs/api.md).
Its functions live in ``dvlite.api`` and are imported on first use, so ``import dvlite`` costs
nothing and the CLI never loads them.

The code is in layer packages, lowest first: ``objects`` < ``records`` < ``git`` < ``remote`` <
``transfer`` < ``render`` < ``ops`` < ``api`` < ``cli``; each imports only from those below it
and from the floor modules here (``errors``, ``progress``, ``safepath``, ``secrets``). README,
"Code map".
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

__version__ = "0.1.0"

__all__ = [
    "Revisions",
    "add",
    "check",
    "check_ignore",
    "checkout",
    "commit",
    "dag",
    "diff",
    "doctor",
    "downstream",
    "du",
    "exp_apply",
    "exp_branch",
    "exp_diff",
    "exp_gc",
    "exp_pull",
    "exp_push",
    "exp_remove",
    "exp_run",
    "exp_run_all",
    "exp_show",
    "fetch",
    "fsck",
    "fsck_remote",
    "gc",
    "get",
    "import_data",
    "import_url",
    "init",
    "lineage",
    "ls",
    "ls_url",
    "metrics",
    "metrics_diff",
    "migrate_dvc",
    "model_get",
    "model_list",
    "model_promote",
    "model_register",
    "model_show",
    "move",
    "params_diff",
    "plots_diff",
    "plots_show",
    "pull",
    "push",
    "remote_add",
    "remote_remove",
    "remote_rename",
    "remote_repack",
    "remote_status",
    "remotes",
    "remove",
    "report",
    "repro",
    "run",
    "stage_add",
    "stage_list",
    "status",
    "unprotect",
    "update",
]

if _TYPE_CHECKING:
    from dvlite.api import (
        Revisions,
        add,
        check,
        check_ignore,
        checkout,
        commit,
        dag,
        diff,
        doctor,
        downstream,
        du,
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
        fetch,
        fsck,
        fsck_remote,
        gc,
        get,
        import_data,
        import_url,
        init,
        lineage,
        ls,
        ls_url,
        metrics,
        metrics_diff,
        migrate_dvc,
        model_get,
        model_list,
        model_promote,
        model_register,
        model_show,
        move,
        params_diff,
        plots_diff,
        plots_show,
        pull,
        push,
        remote_add,
        remote_remove,
        remote_rename,
        remote_repack,
        remote_status,
        remotes,
        remove,
        report,
        repro,
        run,
        stage_add,
        stage_list,
        status,
        unprotect,
        update,
    )


def __getattr__(name: str) -> _Any:
    if name in __all__:
        from dvlite import api

        return getattr(api, name)
    raise AttributeError(f"module 'dvlite' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*__all__, "__version__"])
