"""``push`` and ``fetch``: move objects between the cache and a remote. Only missing objects
move: ``roots`` says where a transfer starts; ``push`` asks the remote about every object below
its roots in one batch and uploads trees after their contents; ``fetch`` decides from the cache
alone and re-hashes every object it receives; ``synced`` records what each remote was last seen
to hold."""

from dvlite.transfer.fetch import fetch, fetch_oids
from dvlite.transfer.push import push, push_oids
from dvlite.transfer.result import TransferError, TransferResult

__all__ = ["TransferError", "TransferResult", "fetch", "fetch_oids", "push", "push_oids"]
