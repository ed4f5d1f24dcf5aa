"""One line of a ``.dvliteignore`` (gitignore's syntax, as git's ``wildmatch`` reads it) turned
into regular expressions: ``*`` and ``?`` never cross a ``/``, ``**`` does, ``[...]`` is a
class (``!`` or ``^`` negates it), a backslash escapes the next character. The expressions are
linear in the name's length whatever the pattern (a middle ``*`` is matched as an atomic
group, as ``fnmatch.translate`` does), so a hostile ignore file cannot stall a scan."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

# one character of a name: never the separator, nor the NUL that joins names for a search
ONE = "[^/\\x00]"
_counter = itertools.count()  # group names, unique in every expression that combines patterns

NAME, AT, DEEP = "name", "at", "deep"  # the last part at any depth; at one depth; with **


@dataclass(frozen=True, eq=False, slots=True)
class Pattern:
    """One pattern line. ``kind``: NAME matches a name in any folder below ``base``; AT a name
    in the folders whose path (below ``base``) matches ``folders``; DEEP a whole path below
    ``base`` (``regex`` is then for that path, otherwise for the name)."""

    source: str  # the .dvliteignore file, repository-relative
    line: int
    text: str  # the line as written
    base: str  # the folder of that file ("" for the root)
    negate: bool
    dir_only: bool
    kind: str
    regex: str
    folders: tuple[re.Pattern[str], ...] = ()
    literal: str | None = None  # the one name it matches, when it has no wildcard
    hint: str = ""  # text every name it matches holds (its longest run without wildcards)

    @property
    def compiled(self) -> re.Pattern[str]:
        return _compiled(self.regex)


_cache: dict[str, re.Pattern[str]] = {}


def _compiled(regex: str) -> re.Pattern[str]:
    found = _cache.get(regex)
    if found is None:
        found = _cache[regex] = re.compile(regex, re.DOTALL)
    return found


def parse(text: str, source: str, line: int, base: str) -> Pattern | None:
    """The pattern of one line (None for a blank line or a comment)."""
    body = text.rstrip("\r")
    if not body or body.startswith("#"):
        return None
    body = _strip_trailing_spaces(body)
    negate = body.startswith("!")
    if negate:
        body = body[1:]
    dir_only = body.endswith("/") and not body.endswith("\\/")
    if dir_only:
        body = body[:-1]
    if not body or body == "/":
        return None
    folders: tuple[re.Pattern[str], ...] = ()
    if "/" not in body:
        kind, parts = NAME, [body]
    else:
        parts = body.removeprefix("/").split("/")
        if "**" in parts:
            return Pattern(source, line, text, base, negate, dir_only, DEEP, _deep(parts))
        kind, folders = AT, tuple(_compiled(segment(p)) for p in parts[:-1])
    name = parts[-1]
    literal = None if any(c in name for c in "*?[\\") else name
    regex, hint = segment(name), _hint(name)
    return Pattern(source, line, text, base, negate, dir_only, kind, regex, folders, literal, hint)


def _hint(glob: str) -> str:
    """The longest run of ``glob`` without wildcards: any name it matches contains it."""
    runs = [""]
    i = 0
    while i < len(glob):
        c = glob[i]
        if c in "*?[":
            runs.append("")
            i = _bracket(glob, i)[1] if c == "[" else i + 1
            continue
        if c == "\\" and i + 1 < len(glob):
            i += 1
        runs[-1] += glob[i]
        i += 1
    return max(runs, key=len)


def _strip_trailing_spaces(body: str) -> str:
    """Trailing spaces are dropped unless a backslash escapes them (``foo\\ `` keeps one)."""
    stripped = body.rstrip(" ")
    if stripped != body and stripped.endswith("\\") and not stripped.endswith("\\\\"):
        return stripped + " "
    return stripped


def _deep(parts: list[str]) -> str:
    """A path pattern with ``**`` parts: leading ``**/`` is any folders (or none), ``/**/`` is
    one or more folders' worth of nothing to many, trailing ``/**`` is everything inside."""
    out = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            out.append("[^\\x00]+" if last else f"(?:{ONE}+/)*")
        else:
            out.append(segment(part) + ("" if last else "/"))
    return "".join(out)


def segment(glob: str) -> str:
    """A regular expression for one name (no ``/``) matched by ``glob``."""
    chunks: list[list[str]] = [[]]  # the parts between stars
    i = 0
    while i < len(glob):
        c = glob[i]
        if c == "*":
            if chunks[-1] or len(chunks) == 1:
                chunks.append([])  # consecutive stars are one star
        elif c == "?":
            chunks[-1].append(ONE)
        elif c == "[":
            atom, i = _bracket(glob, i)
            chunks[-1].append(atom)
            continue
        elif c == "\\" and i + 1 < len(glob):
            i += 1
            chunks[-1].append(re.escape(glob[i]))
        else:
            chunks[-1].append(re.escape(c))
        i += 1
    if len(chunks) == 1:
        return "".join(chunks[0])
    out = "".join(chunks[0])
    for middle in chunks[1:-1]:  # the leftmost match of each is the right one: atomic
        group = f"g{next(_counter)}"
        out += f"(?=(?P<{group}>{ONE}*?{''.join(middle)}))(?P={group})"
    return out + f"{ONE}*" + "".join(chunks[-1])


def _bracket(glob: str, start: int) -> tuple[str, int]:
    """The class that starts at ``glob[start]`` ('['), and the index after it; a pattern with
    an unclosed '[' matches nothing (as in git)."""
    i = start + 1
    negate = i < len(glob) and glob[i] in "!^"
    if negate:
        i += 1
    members: list[str] = []
    first = True
    while i < len(glob) and (glob[i] != "]" or first):
        c = glob[i]
        if c == "\\" and i + 1 < len(glob):
            i += 1
            c = glob[i]
        if i + 2 < len(glob) and glob[i + 1] == "-" and glob[i + 2] != "]":
            high = glob[i + 2]
            if high == "\\" and i + 3 < len(glob):
                high, i = glob[i + 3], i + 1
            if c <= high:
                members.append(f"{_class_char(c)}-{_class_char(high)}")
            i += 3
        else:
            members.append(_class_char(c))
            i += 1
        first = False
    if i >= len(glob):
        return "(?!)", len(glob)
    body = "".join(members)
    return (f"[^{body}/\\x00]" if negate else f"(?![/\\x00])[{body}]"), i + 1


def _class_char(c: str) -> str:
    return "\\" + c if c in "\\]^-[" else c
