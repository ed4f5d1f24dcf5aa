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


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


def add(folder: Path, name: str) -> bool:
    """Ignore ``folder/name``; returns True when the .gitignore changed."""
    path = folder / ".gitignore"
    lines = _lines(path)
    entry = entry_for(name)
    if entry in lines:
        return False
    lines.append(entry)
    fsutil.atomic_write(path, ("\n".join(lines) + "\n").encode("utf-8"), fsync=False)
    return True


def remove(folder: Path, name: str) -> bool:
    path = folder / ".gitignore"
    lines = _lines(path)
    entry = entry_for(name)
    if entry not in lines:
        return False
    kept = [line for line in lines if line != entry]
    if kept:
        fsutil.atomic_write(path, ("\n".join(kept) + "\n").encode("utf-8"), fsync=False)
    else:
        path.unlink()
    return True
