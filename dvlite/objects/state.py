"""The state database: path -> (inode, mtime_ns, size, oid), so unchanged files are never
re-hashed. It is only a cache: deleting it loses nothing but time."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable
from operator import itemgetter
from pathlib import Path

Row = tuple[str, int, int, int, str]  # path, inode, mtime_ns, size, oid

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS state (path TEXT PRIMARY KEY, inode INTEGER NOT NULL, "
    "mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL, oid TEXT NOT NULL) WITHOUT ROWID"
)
_SELECT = (  # a path and those below it: '0' sorts right after '/'
    "SELECT path, inode, mtime_ns, size, oid FROM state WHERE path = ? OR (path >= ? AND path < ?)"
)


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
        db.execute(_SCHEMA)
        return db

    def load(self, prefix: str) -> dict[str, Row]:
        """Every row for ``prefix`` itself and for paths below it (``prefix/...``)."""
        try:
            found = self._conn().execute(_SELECT, (prefix, prefix + "/", prefix + "0")).fetchall()
        except sqlite3.OperationalError:
            return {}
        except sqlite3.DatabaseError:  # damaged: forget everything, re-hash once
            self._rebuild()
            return {}
        return dict(zip(map(itemgetter(0), found), found, strict=True))  # the rows, not copies

    def save(self, rows: Iterable[Row]) -> None:
        rows = list(rows)
        try:
            self._save(rows)
        except sqlite3.OperationalError:  # a busy or read-only cache is not an error
            pass
        except sqlite3.DatabaseError:
            self._rebuild()
            with contextlib.suppress(sqlite3.Error):
                self._save(rows)

    def _save(self, rows: list[Row]) -> None:
        db = self._conn()
        try:
            db.execute("BEGIN")
            db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?, ?, ?, ?)", rows)
            db.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
