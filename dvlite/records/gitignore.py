"""Keep tracked data out of git: one anchored line per data path in the .gitignore beside it."""

from __future__ import annotations

from pathlib import Path

from dvlite.objects import fsutil


def entry_for(name: str) -> str:
    """The .gitignore line that matches exactly ``name`` in the same folder."""
    escaped = "".join("\\" + c if c in "*?[]\\!#" else c for c in name)
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return "/" + escaped


def add(folder: Path, name: str) -> bool:
    """Ignore ``folder/name``; returns True when the .gitignore changed."""
    return _update(folder, name, ignored=True)


def remove(folder: Path, name: str) -> bool:
    """Stop ignoring ``folder/name`` (a .gitignore left empty is deleted); True when changed."""
    return _update(folder, name, ignored=False)


def _update(folder: Path, name: str, *, ignored: bool) -> bool:
    path = folder / ".gitignore"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    entry = entry_for(name)
    if (entry in lines) == ignored:  # already as asked
        return False
    lines = [*lines, entry] if ignored else [line for line in lines if line != entry]
    if lines:
        fsutil.atomic_write(path, ("\n".join(lines) + "\n").encode("utf-8"), fsync=False)
    else:
        path.unlink()
    return True
