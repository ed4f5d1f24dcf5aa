"""The state database: what the workspace held when dvlite last looked, so that nothing
unchanged is read again. A file's row is (folder, name) -> (inode, mtime_ns, size, oid); a
folder's row is its path -> (signature, tree oid, size, files), where the signature hashes
its files' stat fields and its sub-folders' oids: a folder whose signature is unchanged costs
one lookup, not one per file. It is only a cache: deleting it loses nothing but time."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any, NamedTuple

from dvlite.objects.database import Database

Row = tuple[str, int, int, int, str]  # path, inode, mtime_ns, size, oid
Stat = tuple[int, int, int, str]  # inode, mtime_ns, size, oid: a file's row, by name


class FolderRow(NamedTuple):
    signature: str
    oid: str
    size: int
    files: int


VERSION = 2  # of the tables below: a database of another version is started again
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS files (folder TEXT NOT NULL, name TEXT NOT NULL, "
    "inode INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL, "
    "oid TEXT NOT NULL, PRIMARY KEY (folder, name)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS folders (path TEXT PRIMARY KEY, signature TEXT NOT NULL, "
    "oid TEXT NOT NULL, size INTEGER NOT NULL, files INTEGER NOT NULL) WITHOUT ROWID",
)
_BELOW = "{col} = ? OR ({col} >= ? AND {col} < ?)"  # a path and those below it: '0' follows '/'


def _below(prefix: str) -> tuple[str, str, str]:
    return prefix, prefix + "/", prefix + "0"


def split(rel: str) -> tuple[str, str]:
    """A repository-relative path as (its folder, its name)."""
    folder, _, name = rel.rpartition("/")
    return folder, name


class State(Database):
    VERSION = VERSION
    SCHEMA = _SCHEMA

    KEEP = ("state",)

    def carry_over(self, db: sqlite3.Connection, kept: list[str]) -> None:
        """Version 1 (one table of rows by path) becomes version 2, its rows kept so that an
        upgrade re-hashes nothing."""
        if "state" in kept:
            rows = db.execute("SELECT path, inode, mtime_ns, size, oid FROM state")
            db.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
                ((*split(path), *rest) for path, *rest in rows),
            )
            db.execute("DROP TABLE state")

    def load(self, prefix: str) -> dict[str, Row]:
        """Every file row for ``prefix`` itself and for paths below it (``prefix/...``)."""
        folder, name = split(prefix)
        sql = "SELECT folder, name, inode, mtime_ns, size, oid FROM files WHERE "
        found = self.query(
            sql + f"(folder = ? AND name = ?) OR {_BELOW.format(col='folder')}",
            (folder, name, *_below(prefix)),
        )
        rows = ((f"{d}/{n}" if d else n, i, m, s, o) for d, n, i, m, s, o in found)
        return {row[0]: row for row in rows}

    def files_in(self, folder: str) -> dict[str, Stat]:
        """The rows of the files directly in ``folder``, by name."""
        found = self.query(
            "SELECT name, inode, mtime_ns, size, oid FROM files WHERE folder = ?", (folder,)
        )
        return {name: (i, m, s, o) for name, i, m, s, o in found}

    def folders(self, prefix: str) -> dict[str, FolderRow]:
        """The rows of the folder ``prefix`` and of every folder below it, by path."""
        found = self.query(
            "SELECT path, signature, oid, size, files FROM folders WHERE "
            + _BELOW.format(col="path"),
            _below(prefix),
        )
        return {path: FolderRow(*rest) for path, *rest in found}

    def save(self, rows: Iterable[Row], folders: Iterable[tuple[str, FolderRow]] = ()) -> None:
        """Record files (``rows``) and ``folders`` (path, row); a busy or read-only database
        is not an error, a damaged one is started again."""
        files = [(*split(path), *rest) for path, *rest in rows]
        dirs = [(path, *row) for path, row in folders]
        if files or dirs:
            self.write(lambda db: _insert(db, files, dirs))


def _insert(db: sqlite3.Connection, files: list[Any], dirs: list[Any]) -> None:
    db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)", files)
    db.executemany("INSERT OR REPLACE INTO folders VALUES (?, ?, ?, ?, ?)", dirs)
