"""Reading objects from a format 2 remote: what its index files place in a pack by merged range
reads, whole ones one by one, chunked files rebuilt from their chunks (remote/chunked.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dvlite.objects import pack
from dvlite.objects.packindex import Location
from dvlite.progress import Advance
from dvlite.remote.chunked import rebuild
from dvlite.remote.packed import Keys, Obj, read_objects

if TYPE_CHECKING:
    from dvlite.objects.cache import Cache


def download(
    remote: Keys, cache: Cache, objs: Sequence[Obj], progress: Advance | None
) -> dict[str, BaseException]:
    """Copy objects the index files name into the cache: packed ones by merged range reads,
    each verified; whole ones one by one; chunked files rebuilt (remote/chunked.py). Returns
    the ones that failed (FileNotFoundError for those no index file names)."""
    objects = remote.catalog.objects
    failed: dict[str, BaseException] = {}
    packed, lists, whole = [], [], []
    for obj in objs:
        loc = objects.get(obj.oid)
        if loc is None:
            failed[obj.oid] = FileNotFoundError(obj.oid)
        elif loc.kind == pack.LIST_KIND:
            lists.append((obj, loc))
        elif loc.pack:
            packed.append((obj, loc))
        else:
            whole.append(obj)
    if whole:
        failed |= remote.download_whole(cache, whole, progress)

    def install(obj: Obj, loc: Location, data: bytes, where: str) -> None:
        cache.add_verified_bytes(data, obj.oid, where)
        if progress:
            progress(1, loc.length)

    failed |= read_objects(remote, packed, install)
    if lists:
        failed |= rebuild(remote, cache, lists, progress)
    return failed
