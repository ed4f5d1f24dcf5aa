"""``push`` and ``fetch``: move the objects one side lacks between the cache and a remote.
``roots`` says where a transfer starts, ``synced`` what each remote was last seen to hold,
``runs`` moves the run cache."""

from dvlite.transfer.fetch import fetch, fetch_oids
from dvlite.transfer.push import push, push_oids
from dvlite.transfer.result import TransferError, TransferResult

__all__ = ["TransferError", "TransferResult", "fetch", "fetch_oids", "push", "push_oids"]
