"""A format 2 remote as gc and repack tests see it, read straight from its stored bytes (a folder
path or a ``remote_helpers.Store``, through ``remote_helpers.locations``): what its live index
files name and whether each object's bytes are really there (a chunked file's: its chunk
list, and every chunk that names), never dvlite's remote layer."""

from __future__ import annotations

from pathlib import Path

from remote_helpers import Store, key_of, locations

from dvlite.objects import chunks
from dvlite.objects.hashing import oid_of_bytes
from dvlite.objects.pack import LIST_KIND, FormatError
from dvlite.objects.packindex import Location
from dvlite.remote.packed import pack_key


class Folder:
    """A folder remote's bytes by key, for a folder the test did not make a Store for."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def keys(self) -> set[str]:
        return {p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()}

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()


def _store(where: Path | Store) -> Store:
    return Folder(where) if isinstance(where, Path) else where  # type: ignore[return-value]


def all_keys(where: Path | Store) -> set[str]:
    return set(_store(where).keys())


def keys_under(where: Path | Store, folder: str) -> set[str]:
    keys = _store(where).keys()
    return {k for k in keys if k.startswith(folder + "/")}


def held(where: Path | Store) -> set[str]:
    """The objects a format 2 remote holds: named by a live index file, and their pack or
    whole file there."""
    store = _store(where)
    keys = store.keys()
    return {
        oid
        for oid, loc in locations(store).items()
        if (pack_key(loc.pack) if loc.pack else key_of(oid)) in keys
    }


def write(root: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (paths relative to ``root``) over whatever is there."""
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.chmod(0o644)  # a checkout may have made it read-only
        path.write_bytes(data)


def _bytes_of(store: Store, oid: str, loc: Location, packs: dict[str, bytes]) -> bytes:
    if not loc.pack:
        return store.read(key_of(oid))
    key = pack_key(loc.pack)
    if key not in packs:  # each pack read once
        packs[key] = store.read(key)
    return packs[key][loc.offset : loc.end]


def chunks_of(where: Path | Store, oids: set[str]) -> set[str]:
    """The chunks that the chunk lists of those of ``oids`` stored chunked name."""
    store = _store(where)
    found, packs = locations(store), dict[str, bytes]()
    named: set[str] = set()
    for oid in sorted(oids):
        loc = found.get(oid)
        if loc is not None and loc.kind == LIST_KIND:
            named |= {c for c, _ in chunks.decode(_bytes_of(store, oid, loc, packs)).chunks}
    return named


def with_chunks(where: Path | Store, oids: set[str]) -> set[str]:
    """``oids`` and the chunks their chunked files need: what a remote must hold of them."""
    return oids | chunks_of(where, oids)


def unreadable(where: Path | Store, oids: set[str]) -> set[str]:
    """Those of ``oids`` that the live index files do not name, or whose bytes are not there
    (or not whole); a chunked file counts as unreadable when its chunk list does not decode or
    one chunk it names is unreadable."""
    store = _store(where)
    keys = store.keys()
    found = locations(store)
    packs: dict[str, bytes] = {}

    def sound(oid: str) -> bool:
        loc = found.get(oid)
        key = None if loc is None else pack_key(loc.pack) if loc.pack else key_of(oid)
        if loc is None or key not in keys:
            return False
        data = _bytes_of(store, oid, loc, packs)
        if loc.kind != LIST_KIND:
            return oid_of_bytes(data) == oid
        try:
            listed = chunks.decode(data)
        except FormatError:
            return False
        return all(sound(c) for c, _ in listed.chunks)

    return {oid for oid in sorted(oids) if not sound(oid)}
