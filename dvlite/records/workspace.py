"""Reading the workspace: scan files and folders, hash what changed, build trees, and
compare a workspace folder with a stored tree."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from stat import S_ISDIR, S_ISREG, S_IXUSR
from typing import TypeVar

from dvlite.errors import PathError
from dvlite.objects import tree
from dvlite.objects.cache import Cache
from dvlite.objects.fsutil import TMP_MARK, check_utf8_name, is_tmp_name, is_within
from dvlite.objects.hashing import hash_file, oid_of_bytes
from dvlite.objects.pack import TREE_KIND
from dvlite.objects.state import Row, State
from dvlite.objects.tree import DIR, FILE, TreeEntry, entry_json, tree_bytes
from dvlite.progress import FileBytes, Progress
from dvlite.safepath import MAX_DEPTH, is_plain, name_problem, reserved

# Files at least this big are hashed in a thread pool; smaller ones in one thread, where the
# cost is syscalls and the GIL, and threads only add contention (measured: docs/benchmarks.md).
PARALLEL_MIN_SIZE = 4 << 20
HASH_THREADS = min(4, os.cpu_count() or 1)
T = TypeVar("T")
R = TypeVar("R")


@dataclass(slots=True)
class FileNode:
    name: str
    path: str  # absolute
    rel: str  # repository-relative
    size: int
    ino: int
    mtime_ns: int
    exec: bool
    oid: str = ""
    type = FILE  # read as a TreeEntry's is, by the tree walker

    def to_entry(self) -> TreeEntry:
        return TreeEntry(self.name, FILE, self.oid, self.size, self.exec)

    def walk_files(self) -> list[FileNode]:
        return [self]


@dataclass(slots=True)
class DirNode:
    name: str
    path: str
    rel: str
    children: dict[str, FileNode | DirNode] = field(default_factory=dict)
    oid: str = ""
    size: int = 0
    files: int = 0
    type = DIR

    def walk_files(self) -> list[FileNode]:
        """Every file below, in no particular order."""
        found: list[FileNode] = []
        stack = [self]
        while stack:
            for child in stack.pop().children.values():
                if isinstance(child, DirNode):
                    stack.append(child)
                else:
                    found.append(child)
        return found


Node = FileNode | DirNode


# -- scanning ---------------------------------------------------------------------------------
def scan(path: str, rel: str, allowed_link_roots: tuple[str, ...] = ()) -> Node:
    """Stat ``path`` (a file or a folder, recursively) without reading any file. A symlink into
    the data itself or into ``allowed_link_roots`` (the cache, for symlinked checkouts) is
    followed; any other, a symlinked folder, a loop or a special file is a PathError."""
    name = os.path.basename(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise PathError(f"{rel}: no such file or directory") from None
    except OSError as exc:
        raise _stat_error(rel, exc) from None
    if S_ISDIR(st.st_mode):
        if os.path.islink(path):
            raise PathError(f"{rel} is a symlink to a folder; add the folder it points to instead")
        node = DirNode(name, path, rel)
        _scan_dir(node, (os.path.realpath(path), *allowed_link_roots))
        return node
    if not S_ISREG(st.st_mode):
        raise PathError(f"{rel} is not a regular file or folder")
    if os.path.islink(path):
        _check_link(path, rel, allowed_link_roots)
    mode = st.st_mode
    return FileNode(name, path, rel, st.st_size, st.st_ino, st.st_mtime_ns, bool(mode & S_IXUSR))


def _stat_error(rel: str, exc: OSError) -> PathError:
    if exc.errno == errno.ELOOP:
        return PathError(f"{rel} is a symlink loop")
    return PathError(f"cannot read {rel}: {exc.strerror}")


def _check_link(path: str, rel: str, roots: tuple[str, ...]) -> None:
    target = os.path.realpath(path)
    if not any(is_within(target, root) for root in roots):
        raise PathError(
            f"{rel} is a symlink to {target}, outside the data; "
            "copy the file in or add its target instead"
        )


_name = attrgetter("name")


def _scan_dir(node: DirNode, roots: tuple[str, ...]) -> None:
    if node.rel.count("/") >= MAX_DEPTH:
        raise PathError(
            f"{node.rel.split('/', 1)[0]}: folders nested deeper than {MAX_DEPTH} levels; "
            "dvlite tracks at most that many (see docs/security.md)"
        )
    try:
        entries = sorted(os.scandir(node.path), key=_name)  # children in tree order
    except OSError as exc:
        raise _stat_error(node.rel, exc) from None
    prefix = node.rel + "/" if node.rel else ""
    children = node.children
    for entry in entries:  # runs for every file on every status: kept lean
        name = entry.name
        if TMP_MARK in name and is_tmp_name(name):
            continue  # a temporary file of dvlite's (being written, or left by a killed run)
        rel = prefix + name
        if not (name.isascii() and is_plain(name)):
            check_utf8_name(rel)
            if reserved(name):
                continue  # a nested repository's .git (or .dvlite): never tracked, as in git
            if (why := name_problem(name)) is not None:
                raise PathError(f"{rel}: the name {why}; rename it")
        try:
            st = entry.stat()  # a symlink's target
            if entry.is_symlink():
                if S_ISDIR(st.st_mode):
                    raise PathError(
                        f"{rel} is a symlink to a folder; dvlite does not follow folder links"
                    )
                _check_link(entry.path, rel, roots)
        except OSError as exc:
            raise _stat_error(rel, exc) from None
        mode = st.st_mode
        if S_ISREG(mode):
            children[name] = FileNode(
                name, entry.path, rel, st.st_size, st.st_ino, st.st_mtime_ns, bool(mode & S_IXUSR)
            )
        elif S_ISDIR(mode):
            children[name] = child = DirNode(name, entry.path, rel)
            _scan_dir(child, roots)
        else:
            raise PathError(f"{rel} is not a regular file or folder (socket, pipe or device)")


# -- hashing and building ----------------------------------------------------------------------
def build(
    node: Node, state: State, cache: Cache | None = None, progress: Progress | None = None
) -> None:
    """Fill in the oid of every file and folder under ``node``: unchanged files from the state
    database, the rest read once (and with ``cache``, stored by that same read); folders
    become trees (stored with ``cache``)."""
    files = node.walk_files()
    known = state.load(node.rel)
    todo: list[FileNode] = []
    unchanged: list[FileNode] = []
    for f in files:
        row = known.get(f.rel)
        if row is not None and row[1] == f.ino and row[2] == f.mtime_ns and row[3] == f.size:
            f.oid = row[4]
            unchanged.append(f)
        else:
            todo.append(f)
    if cache is not None and unchanged:  # re-store files whose object has gone since
        present = cache.existing({f.oid for f in unchanged})
        todo += [f for f in unchanged if f.oid not in present]
        unchanged = [f for f in unchanged if f.oid in present]
    if progress:
        progress.start(len(files), sum(f.size for f in files))
        if unchanged:
            progress.advance(len(unchanged), sum(f.size for f in unchanged))
    advance = progress.advance if progress else None
    store = cache.add_file if cache is not None else None

    def digest(f: FileNode) -> FileNode:
        counted = FileBytes(advance) if advance else None  # a big file's bytes as read, then it
        on_bytes = counted.on_bytes if counted and f.size >= PARALLEL_MIN_SIZE else None
        f.oid = store(f.path, f.size, on_bytes) if store else hash_file(f.path, on_bytes)[0]
        if counted:
            counted.finish(f.size)
        return f

    fresh: list[Row] = []
    with cache.packing() if cache is not None else contextlib.nullcontext():
        try:
            for f in map_by_size(digest, todo, attrgetter("size")):
                fresh.append((f.rel, f.ino, f.mtime_ns, f.size, f.oid))
        except FileNotFoundError as exc:
            raise PathError(f"{exc.filename} disappeared while it was being read") from None
        finally:
            if fresh:
                state.save(fresh)
        if isinstance(node, DirNode):
            _build_trees(node, cache)


def map_by_size(work: Callable[[T], R], items: list[T], size: Callable[[T], int]) -> Iterator[R]:
    """``work`` on each of ``items``: those of PARALLEL_MIN_SIZE bytes or more in HASH_THREADS
    threads, meanwhile the others one by one in this thread (their results come first)."""
    big = [i for i in items if size(i) >= PARALLEL_MIN_SIZE]
    if not big:
        yield from map(work, items)
        return
    from concurrent.futures import ThreadPoolExecutor  # only for big files: costs to import

    with ThreadPoolExecutor(HASH_THREADS) as pool:
        results = pool.map(work, big)
        yield from (work(i) for i in items if size(i) < PARALLEL_MIN_SIZE)
        yield from results


def _build_trees(node: DirNode, cache: Cache | None) -> None:
    """Each folder's tree object, written straight from the nodes (no Tree in between:
    this runs for every folder on every status)."""
    size = files = 0
    entries: list[str] = []
    for name, child in node.children.items():  # in name order (scan sorts them)
        if isinstance(child, DirNode):
            _build_trees(child, cache)
            files += child.files
            entries.append(entry_json(name, DIR, child.oid, child.size))
        else:
            files += 1
            entries.append(entry_json(name, FILE, child.oid, child.size, child.exec))
        size += child.size
    data = tree_bytes(entries)
    node.oid = cache.add_bytes(data, kind=TREE_KIND) if cache is not None else oid_of_bytes(data)
    node.size, node.files = size, files


# -- comparing ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Delta:
    """One file that differs: ``stored`` is the tree's entry, ``work`` the workspace file."""

    rel: str
    stored: TreeEntry | None
    work: FileNode | None


def compare(
    cache: Cache,
    stored: TreeEntry | None,
    work: Node | None,
    rel: str,
    missing: list[str] | None = None,
    source: str = "",
) -> Iterator[Delta]:
    """Every file that differs between a stored entry and the workspace, equal subtrees
    skipped. A stored tree the cache lacks raises CacheError, or with ``missing`` given is
    listed there and left as the workspace has it."""
    lost = None if missing is None else (lambda path, _e, _exc: missing.append(path))
    changes = tree.diff(
        cache.load_tree, stored, work, rel, source=source, on_missing=lost, children=_open_node
    )
    return (Delta(path, s, w) for path, s, w in changes)


def _open_node(node: DirNode, _path: str) -> dict[str, Node]:
    return node.children  # in name order, as scan made them


def missing_objects(
    cache: Cache, entry: TreeEntry, rel: str, work: Node | None = None, source: str = ""
) -> Iterator[str]:
    """Paths under ``entry`` whose objects the cache lacks (a missing tree counts as one), in
    tree order, looked up in bulk. ``work``, the built workspace node, stands in for the stored
    folders it equals: those are not read back from the cache."""
    equal: dict[str, DirNode] = {}  # path -> the workspace folder equal to its stored tree
    lost: set[str] = set()

    def stand_in(path: str, e: TreeEntry) -> bool:
        node = work  # the workspace node at path, if any
        for name in path[len(rel) + 1 :].split("/") if path != rel else ():
            node = node.children.get(name) if isinstance(node, DirNode) else None
        if isinstance(node, DirNode) and node.oid == e.oid:
            equal[path] = node
        return path in equal

    def lose(path: str, *_: object) -> None:
        lost.add(path)

    prune = stand_in if work is not None else None
    walked = [*tree.walk(cache.load_tree, entry, rel, source=source, on_missing=lose, prune=prune)]
    oids = {e.oid for _, e in walked}  # trees too: a cheap check, and a lost one is listed
    for node in equal.values():
        _add_oids(node, oids)
    present = cache.existing(oids)
    complete = len(present) == len(oids)
    if complete and not lost:
        return

    def lacks(_: str, node: Node) -> bool:
        return node.oid not in present

    for path, e in walked:
        if path in equal:  # its tree, or else each object below it, that the cache lacks
            if not complete:
                below = tree.traverse(_open_node, equal[path], path, prune=lacks)
                yield from (p for p, node in below if lacks(p, node))
        elif path in lost or (e.type == FILE and e.oid not in present):
            yield path


_oid_of = attrgetter("oid")


def _add_oids(node: DirNode, oids: set[str]) -> None:
    """The oids of a workspace folder's tree and of everything below it."""
    oids.add(node.oid)
    oids.update(map(_oid_of, node.children.values()))  # files and sub-trees, in C
    for child in node.children.values():
        if type(child) is DirNode:
            _add_oids(child, oids)
