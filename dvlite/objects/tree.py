"""Tree objects (one per folder, canonical JSON: a Merkle tree like git's) and the one walker
over them (git's ``traverse_trees``): ``walk``, ``files``, ``reachable``, ``lookup``,
``walk_levels`` and the two-sided ``diff``, each reading trees through ``_read``."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

from dvlite.errors import CacheError, InvalidTreeError, PathError
from dvlite.objects.hashing import is_oid, oid_of_bytes
from dvlite.safepath import MAX_DEPTH, name_problem

FILE = "file"
DIR = "dir"


@dataclass(frozen=True, slots=True)
class TreeEntry:
    name: str
    type: str  # FILE or DIR
    oid: str
    size: int
    exec: bool = False

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = dict(name=self.name, type=self.type, oid=self.oid, size=self.size)
        return {**d, "exec": True} if self.exec else d

    @classmethod
    def from_dict(cls, d: object) -> TreeEntry:
        if not isinstance(d, dict):
            raise ValueError("tree entry is not an object")
        name, kind, oid, size = d.get("name"), d.get("type"), d.get("oid"), d.get("size")
        if (why := name_problem(name)) is not None:
            raise ValueError(f"entry {name!r} {why}")
        if kind not in (FILE, DIR):
            raise ValueError(f"bad entry type {kind!r}")
        if not is_oid(oid):
            raise ValueError(f"bad entry oid {oid!r}")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(f"bad entry size {size!r}")
        return cls(name, kind, oid, size, d.get("exec") is True)  # type: ignore[arg-type]


_quote = json.encoder.encode_basestring


def entry_json(name: str, kind: str, oid: str, size: int, exec: bool = False) -> str:
    """One entry of a tree object's canonical JSON: what ``json.dumps(entry.to_dict(),
    sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` writes, 4x faster."""
    head = '{"exec":true,' if exec else "{"
    return f'{head}"name":{_quote(name)},"oid":{_quote(oid)},"size":{size},"type":{_quote(kind)}}}'


def tree_bytes(entries_json: list[str]) -> bytes:
    """A tree object's bytes from its entries' JSON, already sorted by name."""
    return ("[" + ",".join(entries_json) + "]").encode("utf-8")


@dataclass(frozen=True)
class Tree:
    """A directory listing; entries sorted by name."""

    entries: tuple[TreeEntry, ...] = field(default=())

    @classmethod
    def of(cls, entries: Iterable[TreeEntry]) -> Tree:
        return cls(tuple(sorted(entries, key=lambda e: e.name)))

    def to_bytes(self) -> bytes:
        return tree_bytes([entry_json(e.name, e.type, e.oid, e.size, e.exec) for e in self.entries])

    @classmethod
    def from_bytes(cls, data: bytes, oid: str = "") -> Tree:
        try:
            raw = json.loads(data.decode("utf-8"))
            if not isinstance(raw, list):
                raise ValueError("not a list")
            return cls.of(TreeEntry.from_dict(d) for d in raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidTreeError(f"object {oid or '?'} is not a valid tree: {exc}") from None

    @cached_property
    def oid(self) -> str:
        return oid_of_bytes(self.to_bytes())

    @cached_property
    def by_name(self) -> dict[str, TreeEntry]:
        return {e.name: e for e in self.entries}

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)

    def __iter__(self) -> Iterator[TreeEntry]:
        return iter(self.entries)


# -- walking -----------------------------------------------------------------------------------
Load = Callable[[str], Tree]  # a tree by its oid
# told of a tree the loader cannot give (its path, its entry, why); without one the walk raises
OnMissing = Callable[[str, TreeEntry, CacheError], object]
Open = Callable[[Any, str], dict[str, Any] | None]  # a folder's children by name, or None
Prune = Callable[[str, Any], bool]  # true for a folder not to enter (its path, its entry)


def skip_missing(*_: object) -> None:
    """An ``on_missing`` that leaves out a tree the loader cannot give."""


def _read(
    load: Load, source: str, on_missing: OnMissing | None, entry: TreeEntry, path: str
) -> dict[str, TreeEntry] | None:
    """How every walk reads a tree: at most MAX_DEPTH deep, a crafted one refused."""
    where = f"{source}: " if source else ""
    if path.count("/") >= MAX_DEPTH:
        raise PathError(f"{where}refusing {path}: folders nested deeper than {MAX_DEPTH} levels")
    try:
        return load(entry.oid).by_name
    except InvalidTreeError as exc:  # hashes right: crafted (or a wrong record), not damaged
        raise PathError(f"{where}refusing {path}: it is not a tree ({exc})") from None
    except CacheError as exc:
        if on_missing is None:
            raise
        on_missing(path, entry, exc)
        return None


def traverse(
    open_dir: Open, entry: Any, rel: str, seen: set[str] | None = None, prune: Prune | None = None
) -> Iterator[tuple[str, Any]]:
    """``walk`` over any nodes with ``type`` and ``oid``, a folder listed by ``open_dir``."""
    stack = [(rel, entry)]
    while stack:
        path, e = stack.pop()
        if e.type == DIR and seen is not None:
            if e.oid in seen:
                continue
            seen.add(e.oid)
        yield path, e
        if e.type == DIR and not (prune and prune(path, e)):
            children = open_dir(e, path) or {}
            stack += [(f"{path}/{name}", c) for name, c in reversed(children.items())]


def walk(
    load: Load,
    entry: TreeEntry,
    rel: str,
    *,
    source: str = "",
    on_missing: OnMissing | None = None,
    seen: set[str] | None = None,
    prune: Prune | None = None,
) -> Iterator[tuple[str, TreeEntry]]:
    """Every entry at and below ``entry`` (at ``rel``) with its path, depth-first in name
    order, a folder's tree read once the caller has had its entry. A tree in ``seen`` is
    skipped (each one entered is added); a folder ``prune(path, entry)`` is true for is not
    entered, nor one whose tree ``load`` cannot give (CacheError, or ``on_missing``). A
    crafted tree, or one nested deeper than MAX_DEPTH, raises PathError naming ``source``."""
    return traverse(partial(_read, load, source, on_missing), entry, rel, seen, prune)


def files(load: Load, entry: TreeEntry, rel: str, **how: Any) -> Iterator[tuple[str, TreeEntry]]:
    """Every file at and below ``entry``, with its path (``how``: as for ``walk``)."""
    return ((path, e) for path, e in walk(load, entry, rel, **how) if e.type == FILE)


def reachable(load: Load, entry: TreeEntry, rel: str = "", **how: Any) -> dict[str, str]:
    """Every object at and below ``entry``: oid -> its type (``how``: as for ``walk``)."""
    return {e.oid: e.type for _, e in walk(load, entry, rel or entry.name, **how)}


def lookup(
    load: Load, entry: TreeEntry, rel: str, path: str, *, source: str = ""
) -> tuple[TreeEntry | None, list[str]]:
    """The entry at ``path`` inside ``entry`` (at ``rel``) or None, and the trees above it."""
    above: list[str] = []
    found: TreeEntry | None = entry
    for name in path[len(rel) + 1 :].split("/"):
        if found is None or found.type != DIR:
            return None, above
        above.append(found.oid)
        found = (_read(load, source, None, found, rel) or {}).get(name)
        rel = f"{rel}/{name}"
    return found, above


def walk_levels(
    load: Load,
    start: Iterable[tuple[str, TreeEntry, str]],
    *,
    before: Callable[[list[tuple[str, TreeEntry, str]]], object] | None = None,
    on_missing: OnMissing | None = None,
    prune: Prune | None = None,
) -> Iterator[tuple[str, TreeEntry, str]]:
    """``walk`` breadth-first from several ``(path, entry, source)`` roots, each tree once
    over all of them; ``before`` gets each level before any of its trees is read (so that
    a fetch asks for them in one batch)."""
    seen: set[str] = set()
    level = list(start)
    while level:
        fresh = []
        for path, e, source in level:
            if e.type == DIR:
                if e.oid in seen:
                    continue
                seen.add(e.oid)
            fresh.append((path, e, source))
        if before:
            before(fresh)
        level = []
        for path, e, source in fresh:
            yield path, e, source
            if e.type == DIR and not (prune and prune(path, e)):
                children = _read(load, source, on_missing, e, path) or {}
                level += [(f"{path}/{name}", c, source) for name, c in children.items()]


def waves(trees: Collection[str], children: Callable[[str], Iterable[str]]) -> list[list[str]]:
    """``trees`` in waves, lowest first: each tree in a later wave than every one of
    ``trees`` below it (``children``: a tree's children)."""
    height: dict[str, int] = {}

    def height_of(oid: str) -> int:
        if oid not in height:
            below = [c for c in children(oid) if c in trees]
            height[oid] = 1 + max(map(height_of, below), default=0)
        return height[oid]

    found: dict[int, list[str]] = {}
    for oid in trees:
        found.setdefault(height_of(oid), []).append(oid)
    return [found[h] for h in sorted(found)]


Change = tuple[str, Any, Any]  # path, old file, new file (None on the side that lacks it)


def diff(
    load: Load,
    old: TreeEntry | None,
    new: Any,
    rel: str,
    *,
    source: str = "",
    on_missing: OnMissing | None = None,
    children: Open | None = None,
    new_first: bool = False,
) -> Iterator[Change]:
    """Every file that differs between ``old`` and ``new`` (git's diff-tree) as (path, old
    file, new file), subtrees with equal oids skipped unread. ``new`` is an entry, or a
    workspace node whose folders ``children`` opens (as for ``traverse``). Where a path is a
    file on one side and a folder on the other, old's files come first, or with
    ``new_first`` new's (a checkout deletes the workspace's before writing the record's)."""
    open_old = partial(_read, load, source, on_missing)
    return _diff(old, new, rel, open_old, children or open_old, new_first)


def _diff(
    a: Any, b: Any, rel: str, open_a: Open, open_b: Open, new_first: bool
) -> Iterator[Change]:
    if a is not None and b is not None and a.type == b.type:
        if a.type == FILE:
            if a.oid != b.oid or a.exec != b.exec:
                yield rel, a, b
        elif a.oid != b.oid:
            below_a, below_b = open_a(a, rel), open_b(b, rel)
            if below_a is not None and below_b is not None:
                for name in sorted(below_a.keys() | below_b.keys()):
                    path = f"{rel}/{name}"
                    yield from _diff(
                        below_a.get(name), below_b.get(name), path, open_a, open_b, new_first
                    )
        return
    olds = ((path, e, None) for path, e in _files_below(open_a, a, rel))
    news = ((path, None, e) for path, e in _files_below(open_b, b, rel))
    yield from itertools.chain(*((news, olds) if new_first else (olds, news)))


def _files_below(open_: Open, entry: Any, rel: str) -> Iterator[tuple[str, Any]]:
    if entry is not None:
        yield from ((path, e) for path, e in traverse(open_, entry, rel) if e.type == FILE)
