"""What a format 2 remote holds, for `gc --cloud` and `remote repack` (remote/repack.py): its live
index files and what they say, and every index file, pack and whole object listed with its
modification time, against which the grace period (``remote.NAME.gc_grace``) is measured."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from dvlite.errors import RemoteError
from dvlite.objects.hashing import PREFIX, hex_of
from dvlite.objects.packindex import Location
from dvlite.remote import packed
from dvlite.remote.packed import Catalog, index_key, pack_key

if TYPE_CHECKING:
    from dvlite.remote.base import Remote

_HEX32 = re.compile(r"[0-9a-f]{32}")


def id_of(key: str, suffix: str, key_of: Callable[[str], str]) -> str | None:
    """The id a pack's or index file's key names (None: not one of ours, e.g. a temporary)."""
    name = key.rsplit("/", 1)[-1]
    if not name.endswith(suffix) or not _HEX32.fullmatch(name[: -len(suffix)]):
        return None
    found = PREFIX + name[: -len(suffix)]
    return found if key_of(found) == key else None


def loose_key(oid: str) -> str:
    h = hex_of(oid)
    return f"objects/{h[:2]}/{h[2:]}"


def loose_oid(key: str) -> str | None:
    parts = key.split("/")
    if len(parts) != 3 or len(parts[1]) != 2 or len(parts[2]) != 30:
        return None
    found = PREFIX + parts[1] + parts[2]
    return found if _HEX32.fullmatch(parts[1] + parts[2]) else None


# -- what is there ---------------------------------------------------------------------------
@dataclass
class Survey:
    """The remote's index files, packs and whole objects, with their modification times."""

    catalog: Catalog
    index_times: dict[str, float | None]  # every index file listed, by id
    packs: dict[str, tuple[float | None, int]]  # every pack listed: id -> (time, size)
    loose: dict[str, tuple[float | None, int]]  # every file under objects/: oid -> (time, size)
    grace: float
    now: float

    def young(self, mtime: float | None) -> bool:
        """Whether a file of this modification time is inside the grace period (a file whose
        time the store does not give is, unless the grace period is 0)."""
        return self.grace > 0 and (mtime is None or mtime > self.now - self.grace)

    @cached_property
    def old_indexes(self) -> list[str]:
        """The live index files older than the grace period: the new index replaces them."""
        return sorted(i for i in self.catalog.indexes if not self.young(self.index_times.get(i)))

    @cached_property
    def merged(self) -> dict[str, Location]:
        """Where the old index files put each object (the last one's word, as in load_catalog)."""
        found: dict[str, Location] = {}
        for index_id in self.old_indexes:
            found.update(self.catalog.indexes[index_id].objects)
        return found

    @cached_property
    def covered(self) -> set[str]:
        """The objects young index files name: left to them, as they are."""
        young = self.catalog.indexes.keys() - set(self.old_indexes)
        return {oid for i in young for oid in self.catalog.indexes[i].objects}

    @cached_property
    def held(self) -> set[str]:
        """The packs neither deleted nor rewritten: young ones, and those young index files
        name."""
        young = self.catalog.indexes.keys() - set(self.old_indexes)
        named = {loc.pack for i in young for loc in self.catalog.indexes[i].objects.values()}
        return named | {p for p, (mtime, _) in self.packs.items() if self.young(mtime)}

    @property
    def oids(self) -> set[str]:
        """Every object the remote holds: what its index files name, and every whole one."""
        return set(self.catalog.objects) | set(self.loose)


def survey(remote: Remote, grace: float, now: float) -> Survey:
    """List ``index/``, read the index files not kept before (``remote.catalog``), then list
    ``packs/`` and ``objects/``. Index files listed first and not live after are superseded."""
    index_times = {
        i: t
        for key, (t, _) in remote.list_times(packed.INDEX_DIR).items()
        if (i := id_of(key, ".idx", index_key))
    }
    if "catalog" in remote.__dict__:
        del remote.catalog  # read afresh, under the lock
    catalog = remote.catalog
    if catalog.damaged:  # replaced by an index rebuilt from the packs' footers: is it there?
        listed = {id_of(k, ".idx", index_key) for k in remote.find_keys(packed.INDEX_DIR)}
        if catalog.rebuilt not in listed:
            where = remote.display_key(index_key(catalog.damaged[0]))
            raise RemoteError(
                f"{remote.label}: the index file {where} is damaged and could not be replaced, "
                "so gc and repack leave the remote as it is (they could delete what only it "
                "names); run `dvlite fsck --remote`"
            )
        for index_id in catalog.damaged:  # neither live nor superseded: not touched
            index_times.pop(index_id, None)
    packs = {
        p: v
        for key, v in remote.list_times(packed.PACK_DIR).items()
        if (p := id_of(key, ".pack", pack_key))
    }
    loose = {o: v for key, v in remote.list_times("objects").items() if (o := loose_oid(key))}
    return Survey(catalog, index_times, packs, loose, grace, now)
