"""Tracked data: what a pointer file (or, later, a lock entry) says a path should hold."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dvlite import pointer as pointers
from dvlite.errors import PathError
from dvlite.pointer import Pointer
from dvlite.repo import Repo
from dvlite.tree import TreeEntry
from dvlite.workspace import Node, build, scan


@dataclass(frozen=True, slots=True)
class Tracked:
    source: str  # repository-relative path of the pointer file that records it
    rel: str  # repository-relative path of the data
    pointer: Pointer

    @property
    def entry(self) -> TreeEntry:
        p = self.pointer
        return TreeEntry(os.path.basename(self.rel), p.kind, p.oid, p.size)


def load(repo: Repo, pointer_rel: str) -> Tracked:
    p = pointers.load(repo.abspath(pointer_rel), pointer_rel)
    return Tracked(pointer_rel, pointer_rel[: -len(pointers.SUFFIX)], p)


def collect(repo: Repo, targets: Iterable[str | Path] | None = None) -> list[Tracked]:
    """The tracked items named by ``targets`` (pointer files, data paths or folders holding
    pointers), or every one in the repository when there are none."""
    if not targets:
        return [load(repo, rel) for rel in sorted(repo.iter_pointers())]
    found: dict[str, Tracked] = {}
    for target in targets:
        rel = repo.rel(target)
        absolute = repo.abspath(rel)
        if pointers.is_pointer(rel) and absolute.is_file():
            rels = [rel]
        elif os.path.isfile(repo.abspath(rel + pointers.SUFFIX)):
            rels = [rel + pointers.SUFFIX]
        elif absolute.is_dir():
            rels = sorted(repo.iter_pointers(rel))
            if not rels:
                raise PathError(f"{target}: no tracked data in this folder")
        else:
            owner = repo.tracking_pointer(rel)
            hint = f" (it is inside {owner[: -len(pointers.SUFFIX)]}, tracked by {owner})" if owner else ""
            raise PathError(f"{target} is not tracked by dvlite{hint}")
        for r in rels:
            found.setdefault(r, load(repo, r))
    return list(found.values())


def workspace_node(repo: Repo, item: Tracked) -> Node | None:
    """The workspace side of ``item``, hashed (through the state database); None if absent."""
    path = repo.abspath(item.rel)
    if not os.path.lexists(path):
        return None
    node = scan(os.fspath(path), item.rel, (os.path.realpath(repo.cache_dir),))
    build(node, repo.state)
    return node
