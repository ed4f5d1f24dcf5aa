"""``dvlite check-ignore``: which ``.dvliteignore`` line decides each path (``records.ignore``)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from dvlite.errors import PathError
from dvlite.records.repo import Repo


@dataclass(frozen=True, slots=True)
class IgnoreMatch:
    """A path as given, whether it is ignored, and the line that decides it (a ``!`` line
    when it is re-included; none when no line matches)."""

    path: str
    ignored: bool
    source: str | None = None
    line: int | None = None
    pattern: str | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def check_ignore(repo: Repo, paths: Iterable[str | Path]) -> list[IgnoreMatch]:
    """How ``.dvliteignore`` files decide each of ``paths`` (a path need not exist; one that
    ends with "/" or is a folder is matched as a folder)."""
    found = []
    for path in paths:
        text = os.fspath(path)
        rel = repo.rel(text)
        if not rel:
            raise PathError(f"{text} is the repository root, which nothing can ignore")
        is_dir = text.endswith(("/", os.sep)) or os.path.isdir(repo.abspath(rel))
        match = repo.ignore.match(rel, is_dir)
        if match is None:
            found.append(IgnoreMatch(text, False))
        else:
            found.append(IgnoreMatch(text, not match.negate, match.source, match.line, match.text))
    return found
