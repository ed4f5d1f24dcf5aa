"""The SQLite files dvlite keeps only to save time (the state database, the packs' table):
each is opened lazily, and one that cannot be written (a read-only checkout) is kept in memory
for the run, one of another version is converted or started again, and a damaged one is
started again. Deleting any of them loses nothing but time."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


class Database:
    """A connection to ``path``, made on first use. Subclasses set ``VERSION`` and ``SCHEMA``
    and may override ``upgrade``, which runs when the file's ``user_version`` differs."""

    VERSION = 0
    SCHEMA: Sequence[str] = ()
    KEEP: Sequence[str] = ()  # tables of another version that ``carry_over`` reads

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        self._guard = threading.RLock()  # one connection, shared by a run's threads

    def connection(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = self._open(self.path)
            except (OSError, sqlite3.OperationalError):
                self._db = self._open(":memory:")  # cannot be written here: for this run only
            except sqlite3.DatabaseError:
                self._db = self.rebuild()
        return self._db

    def rebuild(self) -> sqlite3.Connection:
        """A damaged database is simply started again, with its journal files."""
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

    def _open(self, path: Path | str) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=OFF")
        if db.execute("PRAGMA user_version").fetchone()[0] != self.VERSION:
            self.upgrade(db)
        for statement in self.SCHEMA:
            db.execute(statement)
        return db

    def upgrade(self, db: sqlite3.Connection) -> None:
        """Another version's tables are dropped and made again, but for those in ``KEEP``,
        which ``carry_over`` reads into the new ones (and drops)."""
        db.execute("BEGIN IMMEDIATE")
        tables = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        kept = [table for (table,) in tables if table in self.KEEP]
        for (table,) in tables:
            if table not in kept:
                db.execute(f'DROP TABLE "{table}"')
        for statement in self.SCHEMA:
            db.execute(statement)
        self.carry_over(db, kept)
        db.execute(f"PRAGMA user_version = {self.VERSION}")
        db.execute("COMMIT")

    def carry_over(self, db: sqlite3.Connection, kept: list[str]) -> None:
        """Convert the rows of the tables ``kept`` of another version (none by default)."""

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        """The rows ``sql`` selects; none when the database is busy or damaged (the latter
        is started again)."""
        try:
            with self._guard:
                return self.connection().execute(sql, args).fetchall()
        except sqlite3.OperationalError:
            return []
        except sqlite3.DatabaseError:
            self.rebuild()
            return []

    def write(self, work: Callable[[sqlite3.Connection], object]) -> bool:
        """Run ``work`` in one transaction: False when the database is busy or read-only (not
        an error), or damaged (it is started again and ``work`` tried once more)."""
        with self._guard:
            for attempt in (1, 2):
                db = self.connection()
                try:
                    db.execute("BEGIN IMMEDIATE")
                    try:
                        work(db)
                        db.execute("COMMIT")
                        return True
                    except BaseException:
                        with contextlib.suppress(sqlite3.Error):
                            db.execute("ROLLBACK")
                        raise
                except sqlite3.OperationalError:
                    return False
                except sqlite3.DatabaseError:
                    if attempt == 2:
                        return False
                    self.rebuild()
        return False

    def in_memory(self) -> None:
        """Go on in memory, for this run (the file could not be written)."""
        with self._guard:
            self.close()
            self._db = self._open(":memory:")

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
