"""Filesystem primitives: atomic writes, temporary names, links."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gc
import itertools
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from dvlite.errors import PathError

TMP_MARK = ".dvlite-tmp-"
# the whole name of a temporary file: the mark, the owner's pid, a random token, a counter.
# It is not derived from the destination, so it fits NAME_MAX (at most 12 + 10 + 1 + 8 + 20
# bytes) beside a 255-byte name, and a user's file that merely contains the mark is not it.
# Earlier versions put ``.<dest name>`` in front: those are still recognised, and cleaned.
_TMP_NAME = re.compile(r"(?:\..+)?\.dvlite-tmp-([0-9]{1,10})-[0-9a-f]{8}[0-9]+")
JOURNAL = "writing-"  # in .dvlite/tmp/: the folders a run writes temporary files into
_JOURNAL_NAME = re.compile(r"writing-([0-9]+)(?:-.*)?", re.DOTALL)
TMP_GRACE = 3600.0  # seconds: a remote's temporary file older than this is a killed push's
_TOKEN = os.urandom(4).hex()  # one random draw per process; a counter makes each name unique
_COUNTER = itertools.count()
_IOV_MAX = 1024  # pieces one writev may take (Linux's IOV_MAX)
_FICLONE = 0x40049409  # linux/fs.h: _IOW(0x94, 9, int)
_NO_REFLINK = (errno.EOPNOTSUPP, errno.ENOTTY, errno.EXDEV, errno.EINVAL, errno.ENOSYS)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while tens of thousands of nodes and rows are made: it
    would otherwise run over all of them again and again (~10% of a status of 20k files).
    They hold no reference cycles, so reference counting alone frees them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def tmp_name(dest: str | Path) -> str:
    """A unique temporary name beside ``dest`` (same filesystem, so rename is atomic), short
    and of a fixed shape whatever ``dest`` is called (``.dvlite-tmp-<pid>-<token><n>``)."""
    folder, sep, _ = os.fspath(dest).rpartition(os.sep)
    return tmp_in(folder or sep)  # ("/name": the root)


def tmp_in(folder: str) -> str:
    name = f"{TMP_MARK}{os.getpid()}-{_TOKEN}{next(_COUNTER)}"  # (not os.path: once a file)
    return f"{folder.rstrip(os.sep)}{os.sep}{name}" if folder else name


def is_tmp_name(name: str) -> bool:
    """Whether ``name`` is exactly a temporary name dvlite makes (or made in earlier versions)."""
    return TMP_MARK in name and _TMP_NAME.fullmatch(name) is not None


def write_all(fd: int, data: bytes | memoryview) -> None:
    """Write every byte of ``data`` (os.write may write fewer)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def pwrite_all(fd: int, data: bytes | memoryview, offset: int) -> None:
    """Write every byte of ``data`` at ``offset`` (os.pwrite may write fewer)."""
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view, offset = view[n:], offset + n


def _write_pieces(fd: int, pieces: list[bytes]) -> None:
    for at in range(0, len(pieces), _IOV_MAX):
        group = pieces[at : at + _IOV_MAX]
        written = os.writev(fd, group)
        if written < sum(map(len, group)):  # a short write: the rest of the group in one
            write_all(fd, memoryview(b"".join(group))[written:])


def write_new(
    path: str, data: bytes | list[bytes], mode: int = 0o666, *, fsync: bool = False
) -> None:
    """Write ``data`` (bytes, or a list of pieces written one after another) to a new file
    (never over one that exists)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        if isinstance(data, list):
            _write_pieces(fd, data)
        else:
            write_all(fd, data)
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: str | Path, data: bytes, *, fsync: bool = True, mode: int = 0o666, tmp: str = ""
) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never a mix;
    through ``tmp`` (a temporary name on the same filesystem), else one beside ``path``."""
    tmp = tmp or tmp_name(path)
    try:
        write_new(tmp, data, mode, fsync=fsync)
        os.replace(tmp, path)
    except BaseException:
        discard(tmp)
        raise


def write_if_changed(path: str | Path, data: bytes) -> bool:
    """``atomic_write`` unless the file already holds exactly ``data``; True when written."""
    with contextlib.suppress(OSError), open(path, "rb") as f:
        if f.read() == data:
            return False
    atomic_write(path, data)
    return True


def reflink(src: str | Path, dst: str | Path) -> bool:
    """Clone ``src`` to a new file ``dst`` sharing its blocks; False where unsupported."""
    with open(src, "rb") as s:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            fcntl.ioctl(fd, _FICLONE, s.fileno())
        except OSError as exc:
            os.close(fd)
            os.unlink(dst)
            if exc.errno in _NO_REFLINK:
                return False
            raise
        os.close(fd)
    return True


def _orphans(folder: str | Path, pattern: re.Pattern[str]) -> list[str]:
    """The names in ``folder`` that ``pattern`` matches whose pid (group 1) no longer runs."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    found = []
    for name in names:
        m = pattern.fullmatch(name)
        if m is None:
            continue
        try:
            os.kill(int(m[1]), 0)
        except ProcessLookupError:
            found.append(name)
        except (PermissionError, OverflowError):  # another user's process, or no pid of ours
            pass
    return found


def stale_tmp(folder: str | Path) -> list[str]:
    """The temporary files in ``folder`` left by a dvlite run killed while writing."""
    return _orphans(folder, _TMP_NAME)


def clean_stale_tmp(folder: str | Path) -> int:
    """Remove the ``stale_tmp`` files of ``folder``; returns how many were removed."""
    removed = 0
    for name in stale_tmp(folder):
        with contextlib.suppress(OSError):
            remove(os.path.join(folder, name))
            removed += 1
    return removed


@contextlib.contextmanager
def journal(tmp_dir: str | Path, folders: Iterable[str]) -> Iterator[None]:
    """Record ``folders`` (repository-relative) under ``tmp_dir`` while a run writes temporary
    files into them: a killed run leaves the record, and the next cleans them (``clean_journals``).
    One small write per checkout; no folder is listed unless a run was killed."""
    os.makedirs(tmp_dir, exist_ok=True)
    path = os.path.join(tmp_dir, f"{JOURNAL}{os.getpid()}-{_TOKEN}{next(_COUNTER)}")
    write_new(path, "\0".join(folders).encode("utf-8", "surrogateescape"))
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def clean_journals(tmp_dir: str | Path, resolve: Callable[[str], str]) -> int:
    """Remove the temporary files that killed runs left in the folders their journals name
    (``resolve`` makes a recorded folder a checked absolute path); returns how many."""
    removed = 0
    for name in _orphans(tmp_dir, _JOURNAL_NAME):
        path = os.path.join(tmp_dir, name)
        try:
            with open(path, "rb") as f:
                folders = f.read().decode("utf-8", "surrogateescape").split("\0")
        except OSError:
            continue
        for rel in folders:
            try:
                folder = resolve(rel)
            except Exception:  # a folder that is no longer safe to touch: leave it
                continue
            removed += clean_stale_tmp(folder)
        with contextlib.suppress(OSError):
            os.unlink(path)
    return removed


def check_utf8_name(rel: str) -> None:
    """PathError for a file name that is not valid UTF-8 (trees and pointers store UTF-8)."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(rel).decode("utf-8", "backslashreplace")
        raise PathError(f"{shown}: the file name is not valid UTF-8; rename it") from None


def discard(path: str) -> None:
    """Remove a temporary file on the way out of a failure, if it is there at all."""
    with contextlib.suppress(OSError):
        remove(path)


def remove(path: str | Path) -> None:
    """Remove a file or link, making a read-only one writable first where needed."""
    try:
        os.unlink(path)
    except PermissionError:
        os.chmod(path, 0o644)
        os.unlink(path)


def remove_tree(path: str | Path) -> None:
    """Remove a file, a link, or a folder and everything in it, read-only folders and files
    (linked from the cache) too; a link is removed, never followed (its target keeps its mode)."""
    if not os.path.isdir(path) or os.path.islink(path):
        remove(path)
        return

    def writable(func: Callable[[str], object], p: str, _exc: object) -> None:
        os.chmod(os.path.dirname(p), 0o700)
        if not os.path.islink(p):
            os.chmod(p, 0o700 if os.path.isdir(p) else 0o600)
        func(p)

    shutil.rmtree(path, onerror=writable)


def is_within(path: str | Path, root: str | Path) -> bool:
    path, root = os.fspath(path), os.fspath(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)
