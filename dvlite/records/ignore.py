"""``.dvliteignore``: what dvlite never hashes, adds, pushes or reports. The syntax is
gitignore's (``records.wildmatch``); a ``.dvliteignore`` may be in any folder and applies
below it, a deeper one after a higher one, the last matching line winning; nothing inside an
ignored folder can be re-included (as in git).

The workspace scan asks ``Ignore.kept`` once per folder. A folder where no pattern can apply
costs a dictionary lookup; where some can, one regular-expression search over the folder's
joined names finds the few names any pattern matches, and only those are looked at one by
one. A scan without any ``.dvliteignore`` costs nothing per file."""

from __future__ import annotations

import os
import re
from bisect import bisect_left
from operator import attrgetter
from typing import Protocol, TypeVar

from dvlite.errors import PathError
from dvlite.records.wildmatch import AT, DEEP, NAME, Pattern, parse

IGNORE_FILE = ".dvliteignore"
MAX_SIZE = 1 << 20  # bytes of one ignore file
TEMPLATE = """\
# Files and folders dvlite never hashes, adds, pushes or reports (gitignore's syntax).
# A .dvliteignore may sit in any folder; `dvlite check-ignore PATH` says which line matches.
.DS_Store
Thumbs.db
__pycache__/
.ipynb_checkpoints/
"""


class Entry(Protocol):
    """What the scan hands in: an ``os.DirEntry``."""

    @property
    def name(self) -> str: ...

    def is_dir(self) -> bool: ...


E = TypeVar("E", bound=Entry)
_name = attrgetter("name")


def _is_dir(entry: Entry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


Chain = tuple[Pattern, ...]
# names without wildcards; texts one of which a name that the others match holds (none:
# no such text); the search for those names; the search for whole paths
Searches = tuple[tuple[str, ...], tuple[str, ...], re.Pattern[str] | None, re.Pattern[str] | None]


class Ignore:
    """The ignore rules of one repository, read as the folders they apply to are scanned
    (once per run: a Repo holds one). ``dropped``: every path a scan has left out so far."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.fspath(root)
        self.dropped: set[str] = set()
        self._chains: dict[str, Chain] = {}
        self._rules: dict[str, Rules | None] = {}
        self._searches: dict[tuple[int, ...], Searches] = {}

    # -- the scan -----------------------------------------------------------------------------
    def kept(self, rel: str, entries: list[E], joined: str) -> tuple[list[E], str] | None:
        """The entries of folder ``rel`` (sorted by name) that are not ignored, and their
        names joined by "/", when some are ignored (None when none is: the scan goes on with
        what it has). Only the names a pattern matches are looked at one by one."""
        rules = self.rules(rel, joined)
        if rules is None:
            return None
        names = rules.candidates(joined)
        if not names:
            return None
        kept = list(entries)
        at = [bisect_left(entries, n, key=_name) for n in sorted(names)]
        out = [
            i
            for i, n in zip(at, sorted(names), strict=True)
            if rules.ignored(n, _is_dir(entries[i]))
        ]
        if not out:
            return None
        prefix = rel + "/" if rel else ""
        self.dropped.update(prefix + entries[i].name for i in out)
        for i in reversed(out):
            del kept[i]
        return kept, "/".join(map(_name, kept))

    def rules(self, rel: str, joined: str | None = None) -> Rules | None:
        """The patterns that can apply to names in folder ``rel`` (None when none can).
        ``joined``: the folder's names, when the caller has listed it (to see whether it has
        its own ignore file without asking the disk)."""
        chain = self.chain(rel, joined)
        found = None
        if chain:
            parts = rel.split("/") if rel else []
            useful = [p for p in chain if _applies(p, parts)]
            if any(not p.negate for p in useful):  # (only negations: nothing here is ignored)
                found = Rules(self, rel, tuple(useful))
        self._rules[rel] = found
        return found

    def chain(self, rel: str, joined: str | None = None) -> Chain:
        """Every pattern of the ignore files in the root and the folders down to ``rel``."""
        found = self._chains.get(rel)
        if found is not None:
            return found
        above = self.chain(rel.rpartition("/")[0]) if rel else ()
        own = self._read(rel) if joined is None or _lists(joined, IGNORE_FILE) else ()
        found = self._chains[rel] = above + own if own else above
        return found

    def _read(self, folder: str) -> Chain:
        source = f"{folder}/{IGNORE_FILE}" if folder else IGNORE_FILE
        path = os.path.join(self.root, source)
        try:
            if os.path.islink(path) or not os.path.isfile(path):
                return ()  # a symlinked ignore file is not followed (as git does)
            if os.path.getsize(path) > MAX_SIZE:
                raise PathError(f"{source} is larger than {MAX_SIZE >> 20} MiB; shorten it")
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
        except UnicodeDecodeError:
            raise PathError(f"{source} is not valid UTF-8; fix or delete it") from None
        except OSError as exc:
            raise PathError(f"cannot read {source}: {exc.strerror}") from None
        patterns = (parse(text, source, n, folder) for n, text in enumerate(lines, 1))
        return tuple(p for p in patterns if p is not None)

    # -- one path -----------------------------------------------------------------------------
    def covers(self, rel: str) -> bool:
        """Whether a scan has left out ``rel`` or a folder above it."""
        dropped = self.dropped
        while rel:
            if rel in dropped:
                return True
            rel = rel.rpartition("/")[0]
        return False

    def ignores(self, rel: str, is_dir: bool = False) -> bool:
        """Whether ``rel`` (repository-relative) or a folder above it is ignored."""
        found = self.match(rel, is_dir)
        return found is not None and not found.negate

    def match(self, rel: str, is_dir: bool) -> Pattern | None:
        """The pattern that decides ``rel`` (repository-relative): one that ignores it or a
        folder above it, or a negation that re-includes it; None when no pattern matches."""
        parts = rel.split("/")
        for i, name in enumerate(parts):
            folder = "/".join(parts[:i])
            rules = self._rules[folder] if folder in self._rules else self.rules(folder)
            last = i == len(parts) - 1
            found = rules.decide(name, is_dir or not last) if rules is not None else None
            if found is not None and (last or not found.negate):
                return found
        return None

    def search(self, key: tuple[int, ...], useful: Chain) -> Searches:
        """How to find the names a set of patterns matches (made once per set): the names
        of those without wildcards, one search for the others' names, one for whole paths."""
        found = self._searches.get(key)
        if found is None:
            positive = [p for p in useful if not p.negate]
            literals = tuple({p.literal for p in positive if p.literal is not None})
            wild = [p for p in positive if p.kind != DEEP and p.literal is None]
            hints = tuple(p.hint for p in wild) if all(p.hint for p in wild) else ()
            names = _joined_search([p.regex for p in wild], "/")
            paths = _joined_search([p.regex for p in positive if p.kind == DEEP], "\\x00")
            found = (literals, hints, names, paths)
            self._searches[key] = found
        return found


def _lists(joined: str, name: str) -> bool:
    """Whether ``name`` is one of the "/"-joined names."""
    if name not in joined:
        return False
    return f"/{name}/" in f"/{joined}/"


def _applies(p: Pattern, parts: list[str]) -> bool:
    """Whether ``p`` can match a name in the folder whose path is ``parts`` (the pattern's
    base is that folder or above it, as the chain guarantees)."""
    if p.kind != AT:
        return True
    depth = len(p.base.split("/")) if p.base else 0
    below = parts[depth:]
    if len(below) != len(p.folders):
        return False
    return all(r.fullmatch(part) for r, part in zip(p.folders, below, strict=True))


def _joined_search(regexes: list[str], sep: str) -> re.Pattern[str] | None:
    """One search that finds every whole item, in a text of items each led by ``sep`` (no
    regex matches one), that any of ``regexes`` matches; each match starts with that ``sep``
    (starting on a literal lets the engine skip to it: 20x faster than a lookbehind)."""
    if not regexes:
        return None
    either = "|".join(f"(?:{r})" for r in regexes)
    return re.compile(f"{sep}(?:{either})(?={sep}|$)", re.DOTALL)


class Rules:
    """The patterns that can apply in one folder, last one deciding."""

    def __init__(self, owner: Ignore, rel: str, useful: Chain) -> None:
        self.rel, self.useful = rel, useful
        searches = owner.search(tuple(id(p) for p in useful), useful)
        self._literals, self._hints, self._names, self._paths = searches

    def _below(self, p: Pattern) -> str:
        """The folder's path below the pattern's base, with a trailing "/" ("" at the base)."""
        below = self.rel[len(p.base) + 1 :] if p.base else self.rel
        return below + "/" if below else ""

    def candidates(self, joined: str) -> set[str]:
        """The names (of the "/"-joined ones) that some pattern matches: a superset of those
        ignored, found with a substring test per name without wildcards and at most two
        searches for the others."""
        found = {name for name in self._literals if name in joined}  # a substring, at least
        if found:
            found = {name for name in found if f"/{name}/" in f"/{joined}/"}
        hinted = not self._hints or any(h in joined for h in self._hints)
        if self._names is not None and hinted:
            found.update(m.group()[1:] for m in self._names.finditer("/" + joined))
        if self._paths is not None:
            for below in {self._below(p) for p in self.useful if p.kind == DEEP}:
                text = "\x00" + below + joined.replace("/", "\x00" + below)
                found.update(m.group()[1 + len(below) :] for m in self._paths.finditer(text))
        return found

    def decide(self, name: str, is_dir: bool) -> Pattern | None:
        """The last pattern that matches ``name`` here (a negation when it is re-included)."""
        for p in reversed(self.useful):
            if p.dir_only and not is_dir:
                continue
            target = self._below(p) + name if p.kind == DEEP else name
            if p.compiled.fullmatch(target):
                return p
        return None

    def ignored(self, name: str, is_dir: bool) -> bool:
        found = self.decide(name, is_dir)
        return found is not None and not found.negate


__all__ = ["IGNORE_FILE", "NAME", "TEMPLATE", "Ignore", "Pattern", "Rules"]
