"""The state database: what the workspace held when dvlite last looked, so that nothing
unchanged is read again. A file's row is (folder, name) -> (inode, mtime_ns, size, oid); a
folder's row is its path -> (signature, tree oid, size, files), where the signature hashes
its files' stat fields and its sub-folders' oids: a folder whose signature is unchanged costs
one lookup, not one per file. It is only a cache: deleting it loses nothing but time."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

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


def _upgrade(db: sqlite3.Connection) -> None:
    """Version 1 (one table of rows by path) becomes version 2, its rows kept so that an
    upgrade re-hashes nothing; any other layout is started again."""
    db.execute("BEGIN IMMEDIATE")
    tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        if table != "state":
            db.execute(f'DROP TABLE "{table}"')
    for statement in _SCHEMA:
        db.execute(statement)
    if "state" in tables:
        old = db.execute("SELECT path, inode, mtime_ns, size, oid FROM state")
        db.executemany(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
            ((*split(path), *rest) for path, *rest in old),
        )
        db.execute("DROP TABLE state")
    db.execute(f"PRAGMA user_version = {VERSION}")
    db.execute("COMMIT")


class State:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = self._open(self.path)
            except (OSError, sqlite3.OperationalError):
                # cannot be written here (read-only checkout, ...): remember for this run only
                self._db = self._open(":memory:")
            except sqlite3.DatabaseError:
                self._db = self._rebuild()
        return self._db

    def _rebuild(self) -> sqlite3.Connection:
        """A damaged cache database is simply started again, with its journal files."""
        with contextlib.suppress(sqlite3.Error):
            self.close()
        try:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{self.path}{suffix}")
            self._db = self._open(self.path)
        except (OSError, sqlite3.Error):
            self._db = self._open(":memory:")
        return self._db

    @staticmethod
    def _open(path: Path | str) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=OFF")
        if db.execute("PRAGMA user_version").fetchone()[0] != VERSION:
            _upgrade(db)
        for statement in _SCHEMA:
            db.execute(statement)
        return db

    def _query(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        try:
            return self._conn().execute(sql, args).fetchall()
        except sqlite3.OperationalError:
            return []
        except sqlite3.DatabaseError:  # damaged: forget everything, re-hash once
            self._rebuild()
            return []

    def load(self, prefix: str) -> dict[str, Row]:
        """Every file row for ``prefix`` itself and for paths below it (``prefix/...``)."""
        folder, name = split(prefix)
        sql = "SELECT folder, name, inode, mtime_ns, size, oid FROM files WHERE "
        found = self._query(
            sql + f"(folder = ? AND name = ?) OR {_BELOW.format(col='folder')}",
            (folder, name, *_below(prefix)),
        )
        rows = ((f"{d}/{n}" if d else n, i, m, s, o) for d, n, i, m, s, o in found)
        return {row[0]: row for row in rows}

    def files_in(self, folder: str) -> dict[str, Stat]:
        """The rows of the files directly in ``folder``, by name."""
        found = self._query(
            "SELECT name, inode, mtime_ns, size, oid FROM files WHERE folder = ?", (folder,)
        )
        return {name: (i, m, s, o) for name, i, m, s, o in found}

    def folders(self, prefix: str) -> dict[str, FolderRow]:
        """The rows of the folder ``prefix`` and of every folder below it, by path."""
        found = self._query(
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
        try:
            self._save(files, dirs)
        except sqlite3.OperationalError:
            pass
        except sqlite3.DatabaseError:
            self._rebuild()
            with contextlib.suppress(sqlite3.Error):
                self._save(files, dirs)

    def _save(self, files: list[tuple[Any, ...]], dirs: list[tuple[Any, ...]]) -> None:
        if not files and not dirs:
            return
        db = self._conn()
        try:
            db.execute("BEGIN")
            db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)", files)
            db.executemany("INSERT OR REPLACE INTO folders VALUES (?, ?, ?, ?, ?)", dirs)
            db.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
