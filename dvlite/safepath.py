"""The one check for paths and names from committed files or a remote (pointers, trees,
``dvlite.lock``, the run cache, ``dvlite.yaml``), before anything uses them.

Git's ``verify_path`` is the anchor: no ``.git`` in any spelling git refuses (``.GIT``,
``.git.``, ``git~1``, NTFS streams, HFS+ ignorable characters), no ``.``/``..``/empty parts, no
NUL, nothing absolute. dvlite adds ``.dvlite`` in the same spellings, NAME_MAX per name and a
depth limit, so every walk stays bounded on crafted trees. Each function returns why a value is
refused (a phrase to put after its name), or None.
"""

from __future__ import annotations

import os
import re

from dvlite.errors import PathError

MAX_DEPTH = 255  # components below the repository root (git's core.maxTreeDepth is 4096)
NAME_MAX = 255  # bytes in one name (ext4, xfs, btrfs, APFS)

# code points HFS+ ignores when it compares names (git's is_hfs_dotgit)
_HFS_IGNORED = dict.fromkeys(
    [*range(0x200C, 0x2010), *range(0x202A, 0x202F), *range(0x206A, 0x2070), 0xFEFF]
)
_RESERVED = (".git", "git~1", ".dvlite", "dvlite~1")
# an ASCII name that cannot spell a reserved one: checked with one match (trees hold thousands)
_PLAIN = re.compile(rf"[^./\x00\\:~][^/\x00\\:~]{{0,{NAME_MAX - 1}}}", re.ASCII)
is_plain = _PLAIN.fullmatch  # for an ASCII name: true means it passes name_problem
# the names of a folder joined by "/": true means every one of them is plain (one match)
is_plain_names = re.compile(rf"{_PLAIN.pattern}(?:/{_PLAIN.pattern})*", re.ASCII).fullmatch


def reserved(name: str) -> str | None:
    """The reserved folder ``name`` would be on some filesystem git protects against."""
    folded = name.translate(_HFS_IGNORED).lower()
    for part in folded.split("\\"):  # NTFS reads a backslash as a folder separator
        stem = part.split(":", 1)[0].rstrip(". ")  # NTFS drops streams and trailing dots/spaces
        if stem in _RESERVED:
            return ".dvlite" if "dvlite" in stem else ".git"
    return None


def name_problem(name: object) -> str | None:
    """Why ``name`` cannot be one file or folder name inside tracked data (None: it can)."""
    if type(name) is str and name.isascii() and is_plain(name):
        return None
    if not isinstance(name, str) or not name:
        return "is empty or not a string"
    if name in (".", ".."):
        return "is . or .."
    if "/" in name or "\x00" in name:
        return "contains '/' or a NUL byte"
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        return "is not valid UTF-8"
    if size > NAME_MAX:
        return f"is longer than {NAME_MAX} bytes"
    folder = reserved(name)
    if folder:
        return f"names {folder} (a folder dvlite never writes into)"
    return None


def rel_problem(rel: object) -> str | None:
    """Why ``rel`` cannot be a repository-relative POSIX path that dvlite writes (None: it can);
    it must already be normal (no ``a//b``, ``a/./b`` or trailing ``/``)."""
    if not isinstance(rel, str) or not rel:
        return "is empty or not a string"
    if rel.startswith("/") or os.path.isabs(rel):
        return "is absolute"
    parts = rel.split("/")
    if len(parts) > MAX_DEPTH:
        return f"is nested deeper than {MAX_DEPTH} folders"
    for part in parts:
        if part == "..":
            return "leads out of the repository"
        why = name_problem(part)
        if why:
            return f"has a part that {why}" if len(parts) > 1 else why
    return None


class Confined:
    """Where dvlite may write and delete in a workspace: ``target`` turns a repository-relative
    path into the absolute one to write, once the path is checked and no folder on the way (each
    resolved once) is a symlink, which could lead out of the repository, into .git or other data."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.path.realpath(root)
        self._folders: set[str] = {""}

    def target(self, rel: str, where: str = "") -> str:
        folder, _, name = rel.rpartition("/")
        known = folder in self._folders
        if known and name.isascii() and is_plain(name):  # the common case, once per file
            return f"{self.root}/{rel}"
        why = name_problem(name) if known else rel_problem(rel)
        if why is None and not known:
            resolved = os.path.realpath(os.path.join(self.root, folder))
            if resolved != os.path.join(self.root, folder):
                why = f"goes through a symlink (to {resolved})"
            else:
                self._folders.add(folder)
        if why is not None:
            source = f" (from {where})" if where else ""
            raise PathError(f"refusing to write {rel!r}{source}: the path {why}")
        return f"{self.root}/{rel}"
