"""The object store: ``objects/<2 hex>/<30 hex>`` below a root, each a read-only file (the
cache is one, a folder remote another). Every object is written to a temporary name, checked
against its id and renamed into place: none ever sits under its final name incomplete or wrong.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

from dvlite.errors import CorruptObjectError
from dvlite.objects import fsutil
from dvlite.objects.copying import OBJECT_MODE, copy_hashing
from dvlite.objects.hashing import PREFIX, hash_file, hex_of, oid_of_bytes
from dvlite.progress import OnBytes

_HEAD = re.compile("[0-9a-f]{2}")
_TAIL = re.compile("[0-9a-f]{30}")
_LIST_MIN = 8  # look up this many oids under one prefix folder by listing it


def fanout_keys(base: str | os.PathLike[str], prefixes: Iterable[str] | None = None) -> list[str]:
    """The keys ``<2 hex><30 hex>`` of the files two levels below ``base`` (only under
    ``prefixes`` when given), sorted; temporary files and other names are left out."""
    if prefixes is None:
        prefixes = []
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            prefixes = [p for p in os.listdir(base) if _HEAD.fullmatch(p)]
    keys: list[str] = []
    for prefix in prefixes:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            names = os.listdir(os.path.join(base, prefix))
            keys += [prefix + name for name in names if _TAIL.fullmatch(name)]
    return sorted(keys)


def check(oid: str, actual: str, where: str) -> None:
    """CorruptObjectError naming ``where`` unless the bytes read there hash to ``oid``."""
    if actual != oid:
        raise CorruptObjectError(oid, where, actual)


def verified(data: bytes, oid: str, where: str) -> bytes:
    """``data``, once checked to hash to ``oid`` (else CorruptObjectError naming ``where``)."""
    check(oid, oid_of_bytes(data), where)
    return data


class ObjectStore:
    """The objects below ``root``. Temporary files go to ``tmp_dir``, or beside their object
    when it is None (a remote folder, where nothing else of ours lives)."""

    def __init__(self, root: str | os.PathLike[str], tmp_dir: str | None = None) -> None:
        self.root = Path(root)
        self.objects_dir = os.path.join(self.root, "objects")
        self.tmp_dir = tmp_dir
        self._made: set[str] = set()  # folders known to exist
        self._no_reflink = False  # a reflink failed once: copy from then on

    def path(self, oid: str) -> str:
        h = hex_of(oid)
        return f"{self.objects_dir}/{h[:2]}/{h[2:]}"

    def exists(self, oid: str) -> bool:
        return os.path.exists(self.path(oid))

    def existing(self, oids: Iterable[str]) -> set[str]:
        """The subset of ``oids`` the store holds: one listing per folder that many of them
        share, a stat for the rest (20k stats cost three times what 256 listings do)."""
        at = len(PREFIX)
        by_prefix: dict[str, list[str]] = {}
        for oid in oids:
            by_prefix.setdefault(oid[at : at + 2], []).append(oid)
        present: set[str] = set()
        for prefix, group in by_prefix.items():
            if len(group) < _LIST_MIN:
                present.update(oid for oid in group if self.exists(oid))
                continue
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                names = set(os.listdir(os.path.join(self.objects_dir, prefix)))
                present.update(oid for oid in group if oid[at + 2 :] in names)
        return present

    def iter_oids(self) -> list[str]:
        return [PREFIX + key for key in fanout_keys(self.objects_dir)]

    # -- writing: a temporary file, verified, renamed --------------------------------------
    def new_tmp(self, dest: str = "") -> str:
        """A fresh temporary path in ``tmp_dir``, else beside ``dest`` (an object's path)."""
        folder = self.tmp_dir or os.path.dirname(dest)
        self._mkdir(folder)
        return fsutil.tmp_in(folder)

    def _mkdir(self, folder: str) -> None:
        if folder not in self._made:
            os.makedirs(folder, exist_ok=True)
            self._made.add(folder)

    def _place(self, tmp: str, dest: str) -> None:
        self._mkdir(os.path.dirname(dest))
        os.replace(tmp, dest)

    def _commit(self, tmp: str, dest: str) -> None:
        """Move a verified temporary file to ``dest``, or drop it if the object is there."""
        if os.path.exists(dest):
            os.unlink(tmp)
        else:
            self._place(tmp, dest)

    def add_bytes(self, data: bytes, oid: str | None = None) -> str:
        oid = oid or oid_of_bytes(data)
        dest = self.path(oid)
        if not os.path.exists(dest):
            tmp = self.new_tmp(dest)
            try:
                fsutil.write_new(tmp, data, OBJECT_MODE)
                self._place(tmp, dest)
            except BaseException:
                fsutil.discard(tmp)
                raise
        return oid

    def add_verified_bytes(self, data: bytes, oid: str, where: str) -> None:
        """Store bytes read at ``where`` as ``oid`` only if they hash to it."""
        self.add_bytes(verified(data, oid, where), oid)

    def add_verified(self, tmp: str, oid: str, where: str) -> None:
        """Install ``tmp`` (from ``new_tmp``) as ``oid``: CorruptObjectError (and no ``tmp``) if
        its bytes hash to another."""
        try:
            check(oid, hash_file(tmp)[0], where)
            os.chmod(tmp, OBJECT_MODE)
            self._commit(tmp, self.path(oid))
        except BaseException:
            fsutil.discard(tmp)
            raise

    def import_file(
        self, src: str, oid: str | None = None, *, where: str = "", on_bytes: OnBytes | None = None
    ) -> tuple[str, int]:
        """Copy (or reflink) ``src`` in, hashing it in the same read; returns its oid and size.
        Given ``oid``, other bytes store nothing and raise CorruptObjectError naming ``where``."""
        tmp = self.new_tmp(self.path(oid) if oid else "")
        try:
            actual = self.clone(src, tmp, OBJECT_MODE, on_bytes)
            actual = actual or copy_hashing(src, tmp, on_bytes=on_bytes)
            if oid:
                check(oid, actual, where)
            size = os.path.getsize(tmp)
            self._commit(tmp, self.path(actual))
        except BaseException:
            fsutil.discard(tmp)
            raise
        return actual, size

    def clone(self, src: str, tmp: str, mode: int, on_bytes: OnBytes | None) -> str | None:
        """Reflink ``src`` to the new file ``tmp`` and return the oid of the clone; None where the
        filesystem cannot (a store tries once: a failure costs a file made and removed)."""
        if self._no_reflink or not fsutil.reflink(src, tmp):
            self._no_reflink = True
            return None
        oid = hash_file(tmp, on_bytes)[0]
        os.chmod(tmp, mode)
        return oid

    # -- reading ------------------------------------------------------------------------
    def read_bytes(self, oid: str, where: str | None = None) -> bytes:
        """The object's bytes, checked against its id (a mismatch names ``where``, or the path)."""
        path = self.path(oid)
        with open(path, "rb") as f:
            data = f.read()
        check(oid, oid_of_bytes(data), where or path)
        return data

    def verify(self, oid: str, on_bytes: OnBytes | None = None) -> str | None:
        """The oid the object's bytes really hash to (None if it is missing)."""
        try:
            return hash_file(self.path(oid), on_bytes)[0]
        except FileNotFoundError:
            return None
