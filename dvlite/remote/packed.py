"""Storage format 2 on a remote (docs/formats.md): ``packs/<2 hex>/<id>.pack`` and
``index/<id>.idx`` beside the whole objects of ``objects/``. ``Catalog`` is what the index files
say the remote holds, read once per command and kept by name in the cache; ``ranges`` groups the
objects a download wants into few range reads, ``read_objects`` reads them (upload.py writes)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from dvlite.errors import CorruptObjectError, RemoteError
from dvlite.objects import fsutil, pack, packindex
from dvlite.objects.hashing import hex_of, oid_of_bytes
from dvlite.objects.pack import FormatError
from dvlite.objects.packindex import Location
from dvlite.objects.tree import DIR, FILE
from dvlite.progress import Advance

if TYPE_CHECKING:
    from dvlite.objects.cache import Cache

PACK_SIZE = 32 << 20  # a pack is sealed once this full (docs/benchmarks.md: 16, 32, 64 MiB)
WHOLE_MIN = 4 << 20  # trees this large stay whole, under objects/ (big files are chunked)
RANGE_MAX = 16 << 20  # one range read fetches at most this many bytes (unless one object is more)
RANGE_GAP = 256 << 10  # objects this close in a pack are read together, the gap thrown away
RANGE_JOBS = 8  # range reads at once: a download holds at most this many ranges in memory
PACK_JOBS = 4  # pack uploads at once (each pack is in memory until sent)

INDEX_DIR, PACK_DIR = "index", "packs"
_INDEX_NAME = re.compile(r"([0-9a-f]{32})\.idx")
_PACK_NAME = re.compile(r"([0-9a-f]{2})/([0-9a-f]{32})\.pack")


@dataclass(frozen=True, slots=True)
class Obj:
    """An object to move: its id, its size when known (-1 for trees), a path to name it by, and
    whether it is a file or a tree."""

    oid: str
    size: int = -1
    rel: str = ""
    kind: str = FILE


class Keys(Protocol):
    """What this module needs of a remote: files by key (a path relative to its root)."""

    label: str
    keep_index: str | None
    reused: int  # bytes of chunks not moved (the other side had them), counted up

    def find_keys(self, folder: str) -> list[str]: ...
    def read_keys(self, keys: Sequence[str]) -> list[bytes | BaseException]: ...
    @property
    def catalog(self) -> Catalog: ...
    def read_ranges(
        self,
        ranges: Sequence[tuple[str, int, int | None]],
        then: Callable[[int, bytes], Any] | None = None,
        jobs: int | None = None,
    ) -> list[Any]: ...
    def delete_keys(self, keys: Iterable[str]) -> None: ...
    def write_keys(self, files: dict[str, bytes], jobs: int | None = None) -> None: ...
    def display_key(self, key: str) -> str: ...
    def upload_whole(
        self, cache: Cache, objs: Sequence[Obj], progress: Advance | None = None
    ) -> dict[str, BaseException]: ...
    def download_whole(
        self, cache: Cache, objs: Sequence[Obj], progress: Advance | None
    ) -> dict[str, BaseException]: ...


def pack_key(pack_id: str) -> str:
    h = hex_of(pack_id)
    return f"{PACK_DIR}/{h[:2]}/{h}.pack"


def index_key(index_id: str) -> str:
    return f"{INDEX_DIR}/{hex_of(index_id)}.idx"


def kind_of(obj: Obj) -> int:
    return pack.TREE_KIND if obj.kind == DIR else pack.FILE_KIND


# -- what the remote holds -------------------------------------------------------------------
@dataclass
class Catalog:
    """The objects the remote's index files name (an object is there when a live index file
    names it: packs are written before the index that names them, and deleted only after
    every index naming them is). Index files superseded by another one listed are left out."""

    objects: dict[str, Location] = field(default_factory=dict)
    indexes: dict[str, packindex.IndexFile] = field(default_factory=dict)  # live ones, by id
    damaged: list[str] = field(default_factory=list)  # index files whose bytes are wrong
    rebuilt: str | None = None  # the index file that replaced them (rebuild_index)
    warnings: list[str] = field(default_factory=list)  # what reading the remote mended


def load_catalog(remote: Keys, keep: str | None) -> Catalog:
    """List ``index/`` once and read the index files not kept in ``keep`` (a folder of the
    cache) before, each checked against its name; a damaged one is left out and reported in
    ``damaged`` and replaced (``rebuild_index``), one written by a newer dvlite stops
    everything (RemoteError)."""
    listed = remote.find_keys(INDEX_DIR)
    ids = sorted({"xxh128:" + m[1] for k in listed if (m := _INDEX_NAME.fullmatch(k[6:]))})
    files = {i: data for i in ids if (data := _kept(keep, i)) is not None}
    wanted = [i for i in ids if i not in files]
    for index_id, read in zip(
        wanted, remote.read_keys([index_key(i) for i in wanted]), strict=True
    ):
        if isinstance(read, bytes):  # not a FileNotFoundError: removed since the listing
            files[index_id] = read
    catalog = Catalog()
    for index_id, data in files.items():
        try:
            if oid_of_bytes(data) != index_id:
                raise FormatError("its bytes do not hash to its name")
            catalog.indexes[index_id] = packindex.decode(data)
        except pack.NewerFormatError as exc:
            raise RemoteError(
                f"{remote.label}: {remote.display_key(index_key(index_id))}: {exc}; "
                "upgrade dvlite to read this remote"
            ) from None
        except FormatError:
            catalog.damaged.append(index_id)
            continue
        if index_id in wanted:
            keep_index_file(keep, index_id, data)
    gone = {old for f in catalog.indexes.values() for old in f.supersedes}
    catalog.damaged = [i for i in catalog.damaged if i not in gone]  # replaced already
    for index_id in sorted(catalog.indexes):
        if index_id in gone:
            del catalog.indexes[index_id]
        else:
            catalog.objects.update(catalog.indexes[index_id].objects)
    if catalog.damaged:
        rebuild_index(remote, catalog, keep)
    return catalog


def rebuild_index(remote: Keys, catalog: Catalog, keep: str | None) -> None:
    """Replace the damaged index files of ``catalog`` by one that supersedes them, naming the
    objects of the packs no good index file names (from the packs' footers; objects named
    elsewhere left out), then delete them. A warning in ``catalog`` says so; when the remote
    refuses the writes, the new index serves this command all the same."""
    named = {loc.pack for f in catalog.indexes.values() for loc in f.objects.values()}
    footers = read_footers(remote, sorted(pack_ids(remote.find_keys(PACK_DIR)) - named))
    found: dict[str, list[pack.Entry]] = {}
    for pack_id, footer in footers.items():
        if isinstance(footer, Footer):
            found[pack_id] = [e for e in footer.entries if e.oid not in catalog.objects]
    index_id, data = packindex.encode({p: e for p, e in found.items() if e}, {}, catalog.damaged)
    catalog.indexes[index_id] = packindex.decode(data)
    catalog.objects.update(catalog.indexes[index_id].objects)
    catalog.rebuilt = index_id
    damaged = ", ".join(remote.display_key(index_key(i)) for i in catalog.damaged)
    note = (
        f"{remote.label}: damaged index file {damaged} rebuilt from the footers of "
        f"{sum(map(bool, found.values()))} pack(s) as {remote.display_key(index_key(index_id))}"
    )
    if unread := len(footers) - len(found):
        note += f" ({unread} pack(s) with no readable footer: see `dvlite fsck --remote`)"
    try:
        remote.write_keys({index_key(index_id): data})
        remote.delete_keys(index_key(i) for i in catalog.damaged)
    except RemoteError as exc:
        note += f", not written: {exc}"
    else:
        keep_index_file(keep, index_id, data)
    catalog.warnings.append(note)


FOOTER_MAX = 64 << 20  # a longer footer is not read (a 32 MiB pack's is at most 33 MiB)


@dataclass(frozen=True)
class Footer:
    """What one suffix read of a pack gave: its entries, its size, its footer and trailer."""

    entries: list[pack.Entry]
    size: int
    tail: bytes


def read_footers(remote: Keys, ids: Sequence[str]) -> dict[str, Footer | Exception]:
    """Each pack's footer, by two suffix reads (its trailer, then its footer) of each pack, its
    size not known; or the FormatError (or FileNotFoundError) that reading it gave."""
    found: dict[str, Footer | Exception] = {}
    lengths: dict[str, int] = {}
    trailers = remote.read_ranges([(pack_key(p), -pack.TRAILER_SIZE, None) for p in ids])
    for pack_id, tail in zip(ids, trailers, strict=True):
        try:
            lengths[pack_id] = n = pack.parse_trailer(_read(tail), pack.MAX_LENGTH)
            if n > FOOTER_MAX:
                raise FormatError(f"a pack's footer of {n} bytes is too long to read")
        except (FormatError, FileNotFoundError) as exc:
            found[pack_id] = exc
    wanted = [p for p in ids if p not in found]
    suffixes = [(pack_key(p), -lengths[p] - pack.TRAILER_SIZE, None) for p in wanted]
    for pack_id, read in zip(wanted, remote.read_ranges(suffixes), strict=True):
        try:
            entries, size = pack.parse_tail(data := _read(read))
            found[pack_id] = Footer(entries, size, data)
        except (FormatError, FileNotFoundError) as exc:
            found[pack_id] = exc
    return found


def _read(result: bytes | BaseException) -> bytes:
    if isinstance(result, BaseException):
        raise result
    return result


def _kept(keep: str | None, index_id: str) -> bytes | None:
    if keep is None:
        return None
    try:
        with open(os.path.join(keep, hex_of(index_id)), "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data if oid_of_bytes(data) == index_id else None


def pack_ids(keys: Iterable[str]) -> set[str]:
    """The ids of the packs among ``keys`` (paths relative to the remote's root)."""
    return {"xxh128:" + m[2] for k in keys if (m := _PACK_NAME.fullmatch(k[len(PACK_DIR) + 1 :]))}


# -- reading: few range reads ----------------------------------------------------------------
@dataclass
class Range:
    """Bytes ``start``-``end`` of one pack, holding ``members`` (each with its location)."""

    pack: str
    start: int
    end: int
    members: list[tuple[Obj, Location]]


def ranges(wanted: Iterable[tuple[Obj, Location]]) -> list[Range]:
    """The range reads that fetch ``wanted``: sorted by (pack, offset), neighbours closer than
    ``RANGE_GAP`` merged, none longer than ``RANGE_MAX`` unless one object is."""
    found: list[Range] = []
    for obj, loc in sorted(wanted, key=lambda w: (w[1].pack, w[1].offset)):
        last = found[-1] if found else None
        if (
            last is not None
            and last.pack == loc.pack
            and loc.offset - last.end <= RANGE_GAP
            and loc.end - last.start <= RANGE_MAX
        ):
            last.end = max(last.end, loc.end)
            last.members.append((obj, loc))
        else:
            found.append(Range(loc.pack, loc.offset, loc.end, [(obj, loc)]))
    return found


Take = Callable[[Obj, Location, bytes, str], None]  # an object's bytes and where they were read


def read_objects(
    remote: Keys, located: Sequence[tuple[Obj, Location]], take: Take
) -> dict[str, BaseException]:
    """Read packed objects by merged range reads (``RANGE_JOBS`` at once: only those are held
    in memory) and give each to ``take`` as its range arrives; returns the objects whose bytes
    could not be read (a short read is a truncated pack) or that ``take`` refused with a
    CorruptObjectError or a FormatError."""
    plan = ranges(located)

    def each(i: int, data: bytes) -> dict[str, BaseException]:
        rng, refused = plan[i], dict[str, BaseException]()
        where = remote.display_key(pack_key(rng.pack))
        for obj, loc in rng.members:
            piece = data[loc.offset - rng.start : loc.end - rng.start]
            try:
                if len(piece) != loc.length:
                    raise CorruptObjectError(obj.oid, f"{where} (cut short)")
                take(obj, loc, piece, f"{where} (bytes {loc.offset}-{loc.end})")
            except (CorruptObjectError, FormatError) as exc:
                refused[obj.oid] = exc
        return refused

    keys = [(pack_key(r.pack), r.start, r.end) for r in plan]
    failed: dict[str, BaseException] = {}
    for rng, result in zip(plan, remote.read_ranges(keys, each, RANGE_JOBS), strict=True):
        if isinstance(result, BaseException):  # the pack is missing
            failed |= {obj.oid: result for obj, _ in rng.members}
        else:
            failed |= result
    return failed


def keep_index_file(keep: str | None, index_id: str, data: bytes) -> None:
    """Keep an index file (verified) by name in ``keep``, the cache's folder of them."""
    if keep is not None:  # through the cache's tmp/, which the next run clears of a killed one's
        os.makedirs(keep, exist_ok=True)
        tmp_dir = os.path.join(os.path.dirname(keep), "tmp")
        os.makedirs(tmp_dir, exist_ok=True)
        fsutil.atomic_write(
            os.path.join(keep, hex_of(index_id)), data, fsync=False, tmp=fsutil.tmp_in(tmp_dir)
        )
