"""Reading the workspace one folder at a time: scan files and folders, hash what changed,
build trees (``Workspace``); ``records.compare`` compares the result with the records."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from dataclasses import dataclass
from operator import attrgetter
from stat import S_ISDIR, S_ISREG, S_IXUSR

import xxhash

from dvlite.errors import PathError
from dvlite.objects import tree
from dvlite.objects.cache import Cache
from dvlite.objects.fsutil import TMP_MARK, check_utf8_name, is_tmp_name, is_within
from dvlite.objects.hashing import PARALLEL_MIN_SIZE, hash_file, map_by_size, oid_of_bytes
from dvlite.objects.pack import TREE_KIND
from dvlite.objects.state import FolderRow, Row, State
from dvlite.objects.tree import DIR, FILE, TreeEntry, entry_json, tree_bytes
from dvlite.progress import FileBytes, Progress
from dvlite.records.ignore import Ignore
from dvlite.safepath import MAX_DEPTH, is_plain, is_plain_names, name_problem, reserved


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

    def walk_files(self) -> Iterator[FileNode]:
        yield self


@dataclass(slots=True)
class DirNode:
    """A workspace folder, hashed. Its children are read from the disk (and the state
    database) each time they are asked for, never kept: memory stays flat however many
    files lie below."""

    name: str
    path: str
    rel: str
    reader: Workspace
    oid: str = ""
    size: int = 0
    files: int = 0
    type = DIR

    @property
    def children(self) -> dict[str, Node]:
        return self.reader.open(self)

    def walk_files(self) -> Iterator[FileNode]:
        """Every file below, in tree order, one folder read at a time."""
        for _, node in tree.traverse(open_children, self, self.rel):
            if isinstance(node, FileNode):
                yield node


Node = FileNode | DirNode


def open_children(node: DirNode, _path: str) -> dict[str, Node]:
    """A folder's children, as the tree walker opens them."""
    return node.children


# -- reading the workspace ---------------------------------------------------------------------
def hashed(
    state: State,
    path: str,
    rel: str,
    link_roots: tuple[str, ...] = (),
    cache: Cache | None = None,
    ignore: Ignore | None = None,
) -> Node:
    """The file or folder at ``path`` (``rel`` in the repository) with its oid, read one
    folder at a time (see Workspace), leaving out what ``ignore`` (.dvliteignore) names."""
    return Workspace(state, link_roots, cache, ignore=ignore).read(path, rel)


class Workspace:
    """Hashes workspace files and folders, one folder at a time, so that memory does not
    grow with the number of files. A file whose stat fields match its row in the state
    database is not read; a folder whose signature (its files' stat fields, its sub-folders'
    oids) matches its row is not even looked up file by file. With ``cache``, every object
    is stored too (a folder's row is trusted only when the cache holds its tree complete).
    With ``ignore``, what .dvliteignore names is left out (so the signature holds only the
    names kept: a changed ignore file changes it).

    A symlink into the data itself or into ``link_roots`` (the cache, for symlinked
    checkouts) is followed; any other, a symlinked folder, a loop or a special file is a
    PathError."""

    SAVE_EVERY = 20_000  # rows written at a time

    def __init__(
        self,
        state: State,
        link_roots: tuple[str, ...] = (),
        cache: Cache | None = None,
        progress: Progress | None = None,
        watch: str | None = None,
        ignore: Ignore | None = None,
    ) -> None:
        self.state, self.ignore = state, ignore
        self.link_roots = link_roots
        self.cache = cache
        self.progress = progress
        self.folders: dict[str, FolderRow] = {}  # path -> row, read once, updated as hashed
        self.complete: set[str] = set()  # trees the cache holds with everything below them
        self.watch = watch
        self.watched: list[str] = []  # the files whose names end with ``watch``
        self._rows: list[Row] = []
        self._dirs: list[tuple[str, FolderRow]] = []
        self._roots: tuple[str, ...] = link_roots
        self._fresh: list[str] = []  # the trees written in this run

    def read(self, path: str, rel: str) -> Node:
        """The file or folder at ``path``, hashed (and stored with ``cache``)."""
        name = os.path.basename(path)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise PathError(f"{rel}: no such file or directory") from None
        except OSError as exc:
            raise _stat_error(rel, exc) from None
        if not (S_ISDIR(st.st_mode) or S_ISREG(st.st_mode)):
            raise PathError(f"{rel} is not a regular file or folder")
        if os.path.islink(path):
            if S_ISDIR(st.st_mode):
                raise PathError(
                    f"{rel} is a symlink to a folder; add the folder it points to instead"
                )
            _check_link(path, rel, self.link_roots)
        node: Node
        try:
            with self.cache.packing() if self.cache is not None else contextlib.nullcontext():
                if S_ISREG(st.st_mode):
                    x = bool(st.st_mode & S_IXUSR)
                    node = FileNode(name, path, rel, st.st_size, st.st_ino, st.st_mtime_ns, x)
                    self._hash_files(rel.rpartition("/")[0], [node])
                else:
                    node = self._read_dir(path, rel)
        finally:
            self._flush()
        if self.cache is not None and isinstance(node, DirNode):  # once every object is written
            self.cache.mark_complete([*self._fresh, *self.complete], None)
        return node

    def _read_dir(self, path: str, rel: str) -> DirNode:
        self._roots = (os.path.realpath(path), *self.link_roots)
        self.folders = self.state.folders(rel)
        if self.cache is not None:
            self.complete = self.cache.complete_trees()[1]
        node = DirNode(os.path.basename(path), path, rel, self)
        self._hash_dir(node)
        return node

    def _hash_dir(self, node: DirNode) -> None:
        """Fill in ``node``'s oid, size and file count: its sub-folders first, depth-first."""
        scanned, signed = self._scan(node)
        dirs = []
        for child in scanned:
            if type(child) is DirNode:
                self._hash_dir(child)
                dirs.append(f"{child.name}//{child.oid}")
        signature = xxhash.xxh3_128_hexdigest(f"{signed}\n{'/'.join(dirs)}".encode())
        row = self.folders.get(node.rel)
        if (
            row is not None
            and row.signature == signature
            and (self.cache is None or row.oid in self.complete)
        ):
            node.oid, node.size, node.files = row.oid, row.size, row.files
            if self.progress:
                sizes = [c[1] for c in scanned if type(c) is tuple]
                if sizes:
                    self.progress.start(len(sizes), sum(sizes))
                    self.progress.advance(len(sizes), sum(sizes))
            return
        level = _nodes(node, scanned)
        files = [c for c in level if isinstance(c, FileNode)]
        old = row.oid if row is not None and row.oid in self.complete else None
        self._hash_files(node.rel, files, old)
        _tree_of(node, level, self.cache)
        self.folders[node.rel] = row = FolderRow(signature, node.oid, node.size, node.files)
        self._dirs.append((node.rel, row))
        self._fresh.append(node.oid)

    def open(self, node: DirNode) -> dict[str, Node]:
        """The children of a folder this reader has hashed, by name, in tree order; their
        oids from the rows that hashing left (a file changed since is hashed again)."""
        level = _nodes(node, self._scan(node)[0])
        self._hash_files(node.rel, [c for c in level if isinstance(c, FileNode)])
        for child in level:
            if isinstance(child, DirNode):
                row = self.folders.get(child.rel)
                if row is None:  # made since: hashed now
                    self._hash_dir(child)
                else:
                    child.oid, child.size, child.files = row.oid, row.size, row.files
        self._flush()
        return {child.name: child for child in level}

    def _scan(self, node: DirNode) -> tuple[list[Scanned | DirNode], str]:
        """A folder's files (stat'ed; tuples, made nodes only if the folder changed) and
        sub-folders (not yet hashed), in tree order; and its files' part of the signature
        (names and stat fields). Files are stat'ed relative to the folder (``fstatat``), which
        spares the kernel a walk of the whole path for each."""
        if node.rel.count("/") >= MAX_DEPTH:
            raise PathError(
                f"{node.rel.split('/', 1)[0]}: folders nested deeper than {MAX_DEPTH} levels; "
                "dvlite tracks at most that many (see docs/security.md)"
            )
        prefix = node.rel + "/" if node.rel else ""
        level: list[Scanned | DirNode] = []
        signed: list[str] = []
        watch = self.watch
        try:
            fd = os.open(node.path, _DIR_FLAGS)
        except OSError as exc:
            raise _stat_error(node.rel, exc) from None
        try:
            try:
                entries = sorted(os.scandir(fd), key=_name)  # in tree order
            except OSError as exc:
                raise _stat_error(node.rel, exc) from None
            joined = "/".join([e.name for e in entries])
            if self.ignore is not None and (kept := self.ignore.kept(node.rel, entries, joined)):
                entries, joined = kept  # .dvliteignore: ignored names are never looked at
            # every name plain ASCII, none a temporary file: one match for the whole folder
            plain = joined.isascii() and TMP_MARK not in joined and is_plain_names(joined)
            for entry in entries:  # runs for every file on every status: kept lean
                name = entry.name
                if not plain and self._skip(name, prefix + name):
                    continue
                try:
                    st = entry.stat()  # a symlink's target
                    if entry.is_symlink():
                        if S_ISDIR(st.st_mode):
                            raise PathError(
                                f"{prefix + name} is a symlink to a folder; dvlite does not "
                                "follow folder links"
                            )
                        _check_link(f"{node.path}/{name}", prefix + name, self._roots)
                except OSError as exc:
                    raise _stat_error(prefix + name, exc) from None
                mode = st.st_mode
                if S_ISREG(mode):
                    x = mode & S_IXUSR != 0
                    size, ino, mtime = st.st_size, st.st_ino, st.st_mtime_ns
                    level.append((name, size, ino, mtime, x))
                    signed.append(f"{name}/{ino}/{mtime}/{size}/{x}")
                    if watch is not None and name.endswith(watch):
                        self.watched.append(prefix + name)
                elif S_ISDIR(mode):
                    level.append(DirNode(name, f"{node.path}/{name}", prefix + name, self))
                else:
                    raise PathError(
                        f"{prefix + name} is not a regular file or folder (socket, pipe or device)"
                    )
        finally:
            os.close(fd)
        return level, "\0".join(signed)

    @staticmethod
    def _skip(name: str, rel: str) -> bool:
        """Whether a name that is not plain ASCII is left out (a temporary file of dvlite's, a
        nested repository's .git); PathError for one that cannot be tracked."""
        if TMP_MARK in name and is_tmp_name(name):
            return True  # being written, or left by a killed run
        if not (name.isascii() and is_plain(name)):
            check_utf8_name(rel)
            if reserved(name):
                return True  # never tracked, as in git
            if (why := name_problem(name)) is not None:
                raise PathError(f"{rel}: the name {why}; rename it")
        return False

    def _hash_files(self, folder: str, files: list[FileNode], old_tree: str | None = None) -> None:
        """The oids of ``files`` (all in ``folder``): unchanged ones from their rows, the rest
        read once (and with ``cache``, stored by that same read). With ``cache``, an unchanged
        file whose object has gone since is stored again; those of ``old_tree`` (the folder's
        tree when last hashed, complete in the cache) need no lookup."""
        if not files:
            return
        known = self.state.files_in(folder)
        todo: list[FileNode] = []
        unchanged: list[FileNode] = []
        for f in files:
            row = known.get(f.name)
            if row is not None and row[0] == f.ino and row[1] == f.mtime_ns and row[2] == f.size:
                f.oid = row[3]
                unchanged.append(f)
            else:
                todo.append(f)
        cache, progress = self.cache, self.progress
        if cache is not None and unchanged:
            stored = {e.oid for e in cache.load_tree(old_tree)} if old_tree else set()
            maybe = {f.oid for f in unchanged if f.oid not in stored}
            present = stored | cache.existing(maybe) if maybe else stored
            todo += [f for f in unchanged if f.oid not in present]
            unchanged = [f for f in unchanged if f.oid in present]
        if progress:
            progress.start(len(files), sum(f.size for f in files))
            if unchanged:
                progress.advance(len(unchanged), sum(f.size for f in unchanged))
        advance = progress.advance if progress else None
        store = cache.add_file if cache is not None else None

        def digest(f: FileNode) -> FileNode:
            counted = FileBytes(advance) if advance else None  # a big file's bytes as read
            on_bytes = counted.on_bytes if counted and f.size >= PARALLEL_MIN_SIZE else None
            f.oid = store(f.path, f.size, on_bytes) if store else hash_file(f.path, on_bytes)[0]
            if counted:
                counted.finish(f.size)
            return f

        try:
            for f in map_by_size(digest, todo, attrgetter("size")):
                self._rows.append((f.rel, f.ino, f.mtime_ns, f.size, f.oid))
        except FileNotFoundError as exc:
            raise PathError(f"{exc.filename} disappeared while it was being read") from None
        if len(self._rows) >= self.SAVE_EVERY:
            self._flush()

    def _flush(self) -> None:
        if self._rows or self._dirs:
            self.state.save(self._rows, self._dirs)
            self._rows, self._dirs = [], []


def _tree_of(node: DirNode, level: list[Node], cache: Cache | None) -> None:
    """A folder's tree object, written straight from its hashed children (no Tree in
    between: this runs for every changed folder)."""
    size = files = 0
    entries: list[str] = []
    for child in level:  # in name order
        if isinstance(child, DirNode):
            files += child.files
            entries.append(entry_json(child.name, DIR, child.oid, child.size))
        else:
            files += 1
            entries.append(entry_json(child.name, FILE, child.oid, child.size, child.exec))
        size += child.size
    data = tree_bytes(entries)
    node.oid = cache.add_bytes(data, kind=TREE_KIND) if cache is not None else oid_of_bytes(data)
    node.size, node.files = size, files


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
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
Scanned = tuple[str, int, int, int, bool]  # a file as scanned: name, size, ino, mtime_ns, exec


def _nodes(folder: DirNode, scanned: list[Scanned | DirNode]) -> list[Node]:
    """A changed folder's children as nodes (its files get their paths only now)."""
    path, prefix = folder.path, folder.rel + "/" if folder.rel else ""
    return [
        c
        if isinstance(c, DirNode)
        else FileNode(c[0], f"{path}/{c[0]}", prefix + c[0], c[1], c[2], c[3], c[4])
        for c in scanned
    ]
