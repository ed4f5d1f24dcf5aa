"""Where each packed object of the cache lies (``.dvlite/cache/packs.db``): object -> pack,
kind, offset, length, looked up on disk instead of held in memory (a million packed files
would be ~400 MB as a dict). The packs' own footers stay the truth: ``sync`` compares the
table's list of packs (name, size, mtime, inode) with the folder and reads the footer of
each pack it does not know, so a pack written by a killed run, or one removed by hand, is
caught up with on the next open. A pack is written once, so an unchanged stat is an
unchanged pack."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator

from dvlite.objects.database import Database
from dvlite.objects.pack import Entry, FormatError, digest_of, oid_of_digest

Stat = tuple[int, int, int]  # size, mtime_ns, inode
ReadFooter = Callable[[str], list[Entry]]
Footer = tuple[Stat, list[Entry]]  # what a pack holds, and its stat when read
_BATCH = 500  # objects looked up in one query (SQLite allows 999 parameters at least)


class PackDb(Database):
    """The table of the packs in ``folder``, kept at ``path``; packs are named in it by their
    path below ``folder``, so that a repository moved elsewhere keeps its table."""

    VERSION = 1
    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS packs (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, "
        "size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS entries (oid BLOB NOT NULL, pack INTEGER NOT NULL, "
        "kind INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL, "
        "PRIMARY KEY (oid, pack)) WITHOUT ROWID",
        "CREATE INDEX IF NOT EXISTS entries_of_pack ON entries (pack)",
    )

    def __init__(self, path: str, folder: str) -> None:
        super().__init__(path)
        self.folder = folder

    def _name(self, path: str) -> str:
        return os.path.relpath(path, self.folder).replace(os.sep, "/")

    def sync(self, paths: Iterable[str], read_footer: ReadFooter) -> None:
        """Make the table list exactly the packs at ``paths``: rows of packs gone or changed
        are dropped, packs not listed are read (``read_footer``) and added. A pack whose
        footer cannot be read is left out: its objects count as absent, and fsck says so."""
        on_disk: dict[str, Stat] = {}
        for path in paths:
            try:
                on_disk[self._name(path)] = _stat(os.stat(path))
            except OSError:
                continue
        rows = self.query("SELECT name, size, mtime_ns, inode FROM packs")
        known = {name: (size, mtime, inode) for name, size, mtime, inode in rows}
        stale = [name for name, stat in known.items() if on_disk.get(name) != stat]
        new = {name: stat for name, stat in on_disk.items() if known.get(name) != stat}
        if not stale and not new:
            return
        if not self.write(lambda db: self._replace(db, stale, self._footers(new, read_footer))):
            self.in_memory()  # no lookup may miss a pack: all of them are read, for this run
            self.write(lambda db: self._replace(db, [], self._footers(on_disk, read_footer)))

    def _footers(self, packs: dict[str, Stat], read_footer: ReadFooter) -> dict[str, Footer]:
        read = {}
        for name, stat in packs.items():
            try:
                read[name] = (stat, read_footer(os.path.join(self.folder, name)))
            except (OSError, FormatError):
                continue
        return read

    def record(self, path: str, st: os.stat_result, entries: list[Entry]) -> bool:
        """A pack this run has just written (False: the table could not take it)."""
        name = self._name(path)
        return self.write(lambda db: self._replace(db, [name], {name: (_stat(st), entries)}))

    def forget(self, paths: Iterable[str]) -> bool:
        """Packs this run has removed (False: the table could not take it)."""
        names = [self._name(p) for p in paths]
        return self.write(lambda db: self._replace(db, names, {}))

    @staticmethod
    def _replace(db: sqlite3.Connection, gone: list[str], added: dict[str, Footer]) -> None:
        """Drop the rows of the packs ``gone`` and add those of ``added``, in key order (a
        third quicker to insert than in the hashes' random order)."""
        for name in [*gone, *added]:
            found = db.execute("SELECT id FROM packs WHERE name = ?", (name,)).fetchall()
            for (pack_id,) in found:
                db.execute("DELETE FROM entries WHERE pack = ?", (pack_id,))
                db.execute("DELETE FROM packs WHERE id = ?", (pack_id,))
        for name, (stat, entries) in added.items():
            row = db.execute("INSERT INTO packs VALUES (NULL, ?, ?, ?, ?)", (name, *stat))
            pack_id = row.lastrowid
            rows = sorted((digest_of(e.oid), pack_id, e.kind, e.offset, e.length) for e in entries)
            db.executemany("INSERT OR IGNORE INTO entries VALUES (?, ?, ?, ?, ?)", rows)

    def find(self, oid: str) -> tuple[str, Entry] | None:
        """The pack holding ``oid`` and its entry there (the first pack, if several do)."""
        found = self.query(
            "SELECT packs.name, kind, offset, length FROM entries JOIN packs ON packs.id = pack "
            "WHERE oid = ? LIMIT 1",
            (digest_of(oid),),
        )
        if not found:
            return None
        name, kind, offset, length = found[0]
        return os.path.join(self.folder, name), Entry(oid, kind, offset, length)

    def locate(self, oids: Iterable[str]) -> Iterator[tuple[str, Entry]]:
        """``find`` for many objects, a few hundred to a query (~1.6 µs an object, not ~8):
        (the pack's path, the entry) of each one found, an object in two packs twice."""
        digests = [digest_of(oid) for oid in oids]
        paths: dict[str, str] = {}  # a pack's name -> its path, joined once
        for at in range(0, len(digests), _BATCH):
            batch = digests[at : at + _BATCH]
            rows = self.query(
                "SELECT oid, packs.name, kind, offset, length FROM entries "
                f"JOIN packs ON packs.id = pack WHERE oid IN ({','.join('?' * len(batch))})",
                batch,
            )
            for digest, name, kind, offset, length in rows:
                path = paths.get(name) or paths.setdefault(name, os.path.join(self.folder, name))
                yield path, Entry(oid_of_digest(digest), kind, offset, length)

    def oids(self) -> Iterator[str]:
        for (digest,) in self.query("SELECT DISTINCT oid FROM entries"):
            yield oid_of_digest(digest)

    def packs_of(self, oids: Iterable[str]) -> set[str]:
        """The packs that hold any of ``oids``."""
        return {path for path, _ in self.locate(oids)}


def _stat(st: os.stat_result) -> Stat:
    return st.st_size, st.st_mtime_ns, st.st_ino
