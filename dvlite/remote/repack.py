"""Repacking a format 2 remote, for `gc --cloud` and `remote repack` (docs/remotes.md): given what
is there (remote/survey.py), ``plan`` decides pack by pack (nothing live: drop it; mostly
dead or small: rewrite its live objects; else keep it), ``apply`` writes the new packs, then ONE
index file naming every live object and superseding the old ones, and only then deletes the old
index files, packs and whole objects, each step checked against the remote's lock.

Nothing younger than the grace period (``remote.NAME.gc_grace``) is deleted or rewritten, and
what it names counts as live: a push writes its packs and big files before its index, so
while it runs they are named by nothing yet. Between the new index and the deletions, index
files that appeared meanwhile are read again, and whatever they name is spared."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from dvlite.errors import CorruptObjectError, InvalidTreeError
from dvlite.objects import chunks, pack, packindex
from dvlite.objects.pack import HEADER_SIZE, Entry, FormatError, PackWriter
from dvlite.objects.packindex import Location
from dvlite.objects.store import verified
from dvlite.objects.tree import Tree
from dvlite.remote import packed
from dvlite.remote.packed import PACK_JOBS, PACK_SIZE, WHOLE_MIN, Obj, index_key, pack_key
from dvlite.remote.survey import Survey, id_of, loose_key

if TYPE_CHECKING:
    from dvlite.remote.base import Remote
    from dvlite.remote.lock import RemoteLock

# A pack is rewritten when less than this share of its bytes is live: rewriting costs reading
# and writing its live bytes, keeping it costs storing its dead ones (restic repacks partly
# used packs above a 5% unused limit, kopia packs with deleted contents; half is the point
# where a rewrite's transfer is at most the bytes it frees).
LIVE_MIN = 0.5
# Packs smaller than this (one per push, for small pushes) are merged when two or more are:
# a pull reads at least one range per pack (kopia rewrites packs under 60% of its pack size).
SMALL = PACK_SIZE // 4
READ_BATCH = 32 << 20  # bytes of live objects read at once while rewriting


# -- what to do ------------------------------------------------------------------------------
@dataclass
class Plan:
    supersede: list[str]  # old live index files: the new one replaces them, then they go
    stale_indexes: list[str]  # index files already superseded (a gc killed before deleting)
    keep: dict[str, list[Entry]] = field(default_factory=dict)  # packs kept: their live entries
    rewrite: dict[str, list[Entry]] = field(default_factory=dict)  # live entries move; then go
    drop_packs: list[str] = field(default_factory=list)  # nothing live in them
    orphans: list[str] = field(default_factory=list)  # named by no index, older than the grace
    whole: dict[str, tuple[int, int]] = field(default_factory=dict)  # kept whole: kind, length
    to_pack: dict[str, int] = field(default_factory=dict)  # loose objects to pack: oid -> size
    drop_loose: list[str] = field(default_factory=list)  # dead whole objects, copies of packed
    dropped: set[str] = field(default_factory=set)  # the objects that leave the remote
    new_index: bool = False


def plan(
    s: Survey,
    drop: Collection[str] = (),
    *,
    is_tree: Callable[[str], bool] | None = None,
) -> Plan:
    """What to do to leave the remote holding everything but ``drop`` (objects), in as few
    packs and one index file. ``is_tree`` says which whole objects no index names are trees."""
    drop = set(drop) - s.covered
    by_pack: dict[str, list[Entry]] = {}
    named_whole: dict[str, Location] = {}
    for oid, loc in s.merged.items():
        if oid in s.covered:
            continue  # a young index file names it: its entry there is the one that counts
        if loc.pack:
            by_pack.setdefault(loc.pack, []).append(Entry(oid, loc.kind, loc.offset, loc.length))
        else:
            named_whole[oid] = loc
    stale = [i for i, t in s.index_times.items() if i not in s.catalog.indexes and not s.young(t)]
    p = Plan(s.old_indexes, sorted(stale))
    small = []
    for pid, entries in sorted(by_pack.items()):
        entries.sort(key=lambda e: e.offset)
        if pid in s.held:  # too young to touch: all of it is live
            p.keep[pid] = entries
            continue
        alive = [e for e in entries if e.oid not in drop]
        p.dropped |= {e.oid for e in entries if e.oid in drop}
        if pid not in s.packs:  # missing: nothing to rewrite or delete, its live entries stay
            p.keep[pid] = alive
        elif not alive:
            p.drop_packs.append(pid)
        elif sum(e.length + HEADER_SIZE for e in alive) < LIVE_MIN * s.packs[pid][1]:
            p.rewrite[pid] = alive
        else:
            p.keep[pid] = alive
            if s.packs[pid][1] < SMALL:
                small.append(pid)
    p.orphans = sorted(pid for pid in s.packs if pid not in by_pack and pid not in s.held)
    for oid, loc in named_whole.items():
        there = s.loose.get(oid)
        if oid in drop and not (there and s.young(there[0])):
            p.dropped.add(oid)
            if there:
                p.drop_loose.append(oid)
        else:
            p.whole[oid] = (loc.kind, loc.length)
    # whole objects no index names: format 1's, or those of a push killed before its index;
    # a young one may be a running push's, so it is not deleted, but packing or naming one
    # loses nothing (it is under its final name only once complete)
    for oid, (mtime, size) in sorted(s.loose.items()):
        if oid in named_whole or oid in s.covered:
            continue
        at = s.merged.get(oid)
        if (at is not None and at.pack in s.packs) or oid in drop:  # dead, or a copy
            if not s.young(mtime):
                p.drop_loose.append(oid)
                if oid in drop:
                    p.dropped.add(oid)
        elif size >= WHOLE_MIN:
            p.whole[oid] = (pack.TREE_KIND if is_tree and is_tree(oid) else pack.FILE_KIND, size)
        else:
            p.to_pack[oid] = size
    if len(small) >= 2 or (small and (p.rewrite or p.to_pack)):
        p.rewrite |= {pid: p.keep.pop(pid) for pid in small}
    changes = p.rewrite or p.drop_packs or len(p.supersede) > 1 or (p.dropped & s.merged.keys())
    new_whole = p.whole.keys() - named_whole.keys()
    p.new_index = bool((p.supersede and changes) or p.to_pack or new_whole)
    return p


# -- doing it --------------------------------------------------------------------------------
@dataclass
class Repacked:
    """What a repack did (or, dry, would do)."""

    index: str | None = None  # the index file written
    indexes_removed: int = 0  # index files it superseded, deleted
    packs_written: int = 0
    packs_rewritten: int = 0  # packs whose live objects were copied into new ones, deleted
    packs_removed: int = 0  # packs that held nothing live, or that no index named
    loose_packed: int = 0  # whole objects moved into packs
    loose_removed: int = 0  # whole objects deleted (dead, packed, or copies of packed ones)
    objects_removed: int = 0
    damaged: list[str] = field(default_factory=list)  # objects that could not be read: left

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def of_plan(cls, p: Plan) -> Repacked:
        """What ``p`` would do (the packs it would write are not counted)."""
        return cls(
            indexes_removed=len(p.stale_indexes) + (len(p.supersede) if p.new_index else 0),
            packs_rewritten=len(p.rewrite),
            packs_removed=len(p.drop_packs) + len(p.orphans),
            loose_packed=len(p.to_pack),
            loose_removed=len(p.drop_loose) + len(p.to_pack),
            objects_removed=len(p.dropped),
        )


class _Packer:
    """New packs from verified objects: sent PACK_JOBS at a time as they fill."""

    def __init__(self, remote: Remote) -> None:
        self.remote = remote
        self.writer = PackWriter()
        self.sealed: dict[str, tuple[bytes, list[Entry]]] = {}
        self.written: dict[str, list[Entry]] = {}

    def add(self, oid: str, kind: int, data: bytes) -> None:
        self.writer.add(oid, kind, data)
        if self.writer.size >= PACK_SIZE:
            self._seal()
            if len(self.sealed) >= PACK_JOBS:
                self._send()

    def _seal(self) -> None:
        if self.writer.entries:
            entries = self.writer.entries
            pack_id, data = self.writer.finish()
            self.sealed[pack_id] = (data, entries)
            self.writer = PackWriter()

    def _send(self) -> None:
        batch, self.sealed = self.sealed, {}
        self.remote.write_keys({pack_key(p): data for p, (data, _) in batch.items()}, PACK_JOBS)
        self.written |= {p: entries for p, (_, entries) in batch.items()}

    def finish(self) -> dict[str, list[Entry]]:
        self._seal()
        self._send()
        return self.written


def _batches(items: Iterable[tuple[str, int]], limit: int = READ_BATCH) -> Iterator[list[str]]:
    """Names in groups of at most ``limit`` bytes (or one, when it alone is more)."""
    group: list[str] = []
    size = 0
    for name, n in items:
        if group and size + n > limit:
            yield group
            group, size = [], 0
        group.append(name)
        size += n
    if group:
        yield group


def kind_of_bytes(oid: str, data: bytes) -> int:
    """TREE_KIND when ``data`` is a tree in its one canonical form (a tree object), else
    FILE_KIND: a whole object of format 1 does not say what it is."""
    if data[:1] == b"[":
        try:
            if Tree.from_bytes(data, oid).oid == oid:
                return pack.TREE_KIND
        except (InvalidTreeError, ValueError, RecursionError):  # crafted bytes: a file
            pass
    return pack.FILE_KIND


def apply(remote: Remote, s: Survey, p: Plan, lock: RemoteLock) -> Repacked:
    """Carry out ``p`` under ``lock``: new packs, the one new index, then the deletions."""
    done = Repacked()
    packer = _Packer(remote)
    sizes = [(pid, sum(e.length for e in entries)) for pid, entries in p.rewrite.items()]
    for group in _batches(sizes):
        for pid, pieces in _read_packs(remote, {pid: p.rewrite[pid] for pid in group}, done):
            if pieces is None:  # a range could not be read or verified: the pack stays
                p.keep[pid] = p.rewrite.pop(pid)
                continue
            for entry, data in pieces:
                packer.add(entry.oid, entry.kind, data)
        lock.check()
    packed_loose: list[str] = []
    for group in _batches(p.to_pack.items()):
        for oid, read in zip(group, remote.read_whole(group), strict=True):
            if isinstance(read, BaseException):  # left where it is, named by no index
                done.damaged.append(_problem(remote.display_key(loose_key(oid)), read))
                continue
            packer.add(oid, kind_of_bytes(oid, read), read)
            packed_loose.append(oid)
        lock.check()
    new_packs = packer.finish()
    if p.new_index:
        entries = {**p.keep, **new_packs}
        done.index, data = packindex.encode(entries, p.whole, supersedes=p.supersede)
        lock.check()
        remote.write_keys({index_key(done.index): data})
    if "catalog" in remote.__dict__:
        del remote.catalog  # it changed: read again when next asked
    spare_packs, spare_whole = _named_since(remote, s, done.index)
    spare_packs |= new_packs.keys()  # a new pack may have an old one's bytes, so its name
    indexes = p.stale_indexes + (p.supersede if p.new_index else [])
    rewritten = [x for x in p.rewrite if x not in spare_packs]
    packs = rewritten + [x for x in p.drop_packs + p.orphans if x not in spare_packs]
    loose = [x for x in p.drop_loose + packed_loose if x not in spare_whole]
    lock.check()  # still this gc's remote: only now is anything deleted
    remote.delete_keys([index_key(i) for i in indexes])
    remote.delete_keys([pack_key(x) for x in packs])
    remote.delete_keys([loose_key(x) for x in loose])
    done.indexes_removed, done.packs_removed = len(indexes), len(packs) - len(rewritten)
    done.packs_written, done.packs_rewritten = len(new_packs), len(rewritten)
    done.loose_packed, done.loose_removed = len(packed_loose), len(loose)
    done.objects_removed = len(p.dropped - spare_whole)
    return done


def _read_packs(
    remote: Remote, wanted: dict[str, list[Entry]], done: Repacked
) -> Iterator[tuple[str, list[tuple[Entry, bytes]] | None]]:
    """The live objects of some packs, read by merged ranges and each verified, in pack order;
    None for a pack one of whose ranges failed (reported in ``done.damaged``)."""
    located = [
        (Obj(e.oid, e.length), Location(pid, e.kind, e.offset, e.length))
        for pid, entries in wanted.items()
        for e in entries
    ]
    ranges = packed.ranges(located)
    reads = remote.read_ranges([(pack_key(r.pack), r.start, r.end) for r in ranges])
    pieces: dict[str, dict[str, bytes]] = {pid: {} for pid in wanted}
    failed: set[str] = set()
    for rng, data in zip(ranges, reads, strict=True):
        where = remote.display_key(pack_key(rng.pack))
        if isinstance(data, BaseException):
            failed.add(rng.pack)
            done.damaged.append(_problem(where, data))
            continue
        for obj, loc in rng.members:
            piece = data[loc.offset - rng.start : loc.end - rng.start]
            try:
                if len(piece) != loc.length:
                    raise CorruptObjectError(obj.oid, f"{where} (cut short)")
                at = f"{where} (bytes {loc.offset}-{loc.end})"
                pieces[rng.pack][obj.oid] = _sound(piece, obj.oid, loc.kind, at)
            except CorruptObjectError as exc:
                failed.add(rng.pack)
                done.damaged.append(str(exc))
    for pid, entries in wanted.items():
        yield pid, None if pid in failed else [(e, pieces[pid][e.oid]) for e in entries]


def _sound(data: bytes, oid: str, kind: int, where: str) -> bytes:
    """``data`` once checked: a chunk list (stored under its file's oid, which its bytes do
    not hash to) must decode, with its own hash; any other object must hash to ``oid``."""
    if kind != pack.LIST_KIND:
        return verified(data, oid, where)
    chunks.decode_at(data, oid, where)
    return data


def _problem(where: str, exc: BaseException) -> str:
    """What could not be read, for a warning."""
    return f"{where} is missing" if isinstance(exc, FileNotFoundError) else str(exc)


def _named_since(remote: Remote, s: Survey, ours: str | None) -> tuple[set[str], set[str]]:
    """The packs and the whole objects that index files written since the survey name (a
    push that ran meanwhile): what must not be deleted."""
    listed = {i for k in remote.find_keys(packed.INDEX_DIR) if (i := id_of(k, ".idx", index_key))}
    seen = s.index_times.keys() | s.catalog.indexes.keys() | set(s.catalog.damaged)
    new = sorted(listed - seen - {ours})
    spare_packs: set[str] = set()
    spare_whole: set[str] = set()
    for data in remote.read_keys([index_key(i) for i in new]):
        if not isinstance(data, bytes):
            continue
        try:
            named = packindex.decode(data).objects
        except FormatError:  # damaged: spare everything rather than guess
            return set(s.packs), set(s.loose)
        spare_packs |= {loc.pack for loc in named.values() if loc.pack}
        spare_whole |= {oid for oid, loc in named.items() if not loc.pack}
    return spare_packs, spare_whole
