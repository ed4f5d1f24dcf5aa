"""``push`` and ``fetch``: move objects between the cache and a remote.

Only missing objects move. ``roots`` says where a transfer starts; ``push`` asks the remote
about every object below its roots in one batch and uploads trees after their contents;
``fetch`` decides from the cache alone and re-hashes every object it receives; ``synced``
records what each remote was last seen to hold.
"""

from __future__ import annotations

from dvlite.errors import DvliteError
from dvlite.transfer.fetch import fetch, fetch_oids
from dvlite.transfer.push import PushPlan, plan_push, push, push_oids
from dvlite.transfer.result import Failure, TransferError, TransferResult
from dvlite.transfer.roots import Root, roots

__all__ = [
    "DvliteError",
    "Failure",
    "PushPlan",
    "Root",
    "TransferError",
    "TransferResult",
    "fetch",
    "fetch_oids",
    "plan_push",
    "push",
    "push_oids",
    "roots",
]
