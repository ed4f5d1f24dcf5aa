"""dvlite: Git-native versioning of datasets and model files.

The Python API is here: ``import dvlite; dvlite.add("data"); dvlite.push()`` (docs/api.md).
Its functions live in ``dvlite.api`` and are imported on first use, so ``import dvlite`` costs
nothing and the CLI never loads them.

Several of them share a name with the module that does the work (``dvlite.add`` the function,
``dvlite/add.py`` the module): ``dvlite.add`` is always the function, even after the module is
imported. Inside the package, import such a module's contents by its full name
(``from dvlite.add import add``), never ``from dvlite import add``.
"""

import sys as _sys
import types as _types
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

__version__ = "0.1.0"

__all__ = [
    "add",
    "checkout",
    "dag",
    "diff",
    "downstream",
    "fetch",
    "fsck",
    "fsck_remote",
    "gc",
    "init",
    "lineage",
    "ls",
    "metrics",
    "metrics_diff",
    "params_diff",
    "pull",
    "push",
    "remote_add",
    "remote_remove",
    "remote_status",
    "remotes",
    "remove",
    "repro",
    "run",
    "stage_add",
    "status",
    "unprotect",
]

if _TYPE_CHECKING:
    from dvlite.api import (
        add,
        checkout,
        dag,
        diff,
        downstream,
        fetch,
        fsck,
        fsck_remote,
        gc,
        init,
        lineage,
        ls,
        metrics,
        metrics_diff,
        params_diff,
        pull,
        push,
        remote_add,
        remote_remove,
        remote_status,
        remotes,
        remove,
        repro,
        run,
        stage_add,
        status,
        unprotect,
    )


def __getattr__(name: str) -> _Any:
    if name in __all__:
        from dvlite import api

        return getattr(api, name)
    raise AttributeError(f"module 'dvlite' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*__all__, "__version__"])


class _Package(_types.ModuleType):
    """Importing a submodule sets it as an attribute of its package (``dvlite.add = <module
    dvlite.add>``); for the API's names that would hide the function, so it is not kept (the
    module is still in ``sys.modules``, where every import finds it)."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in __all__ and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
