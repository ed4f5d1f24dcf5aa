"""The root last synced with each remote (``.dvlite/tmp/remotes/``), recorded by fetch; and
``reachable``, every object below a tree as far as the cache can tell.

The record says what was there once, not what is there now: a gc of the remote (from any
clone) may since have removed some of it, so push never takes it as proof that anything is on
the remote; it looks for every object itself.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from dvlite import fsutil
from dvlite.errors import CacheError
from dvlite.remote import Remote
from dvlite.repo import Repo
from dvlite.tree import DIR


def synced_path(repo: Repo, remote: Remote) -> Path:
    key = hashlib.sha256(f"{remote.protocol}://{remote.root}".encode()).hexdigest()[:16]
    return repo.tmp_dir / "remotes" / f"{key}.json"


def load_synced(repo: Repo, remote: Remote) -> dict[str, str]:
    try:
        data = json.loads(synced_path(repo, remote).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return (
        {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}
        if isinstance(data, dict)
        else {}
    )


def save_synced(repo: Repo, remote: Remote, updates: dict[str, str]) -> None:
    if not updates:
        return
    synced = load_synced(repo, remote)
    synced.update(updates)
    path = synced_path(repo, remote)
    path.parent.mkdir(parents=True, exist_ok=True)
    fsutil.atomic_write(path, json.dumps(synced, sort_keys=True).encode(), fsync=False)


def reachable(repo: Repo, oid: str, into: set[str]) -> None:
    """Every object below the tree ``oid`` that the cache can tell about."""
    stack = [oid]
    while stack:
        tree_oid = stack.pop()
        if tree_oid in into:
            continue
        into.add(tree_oid)
        try:
            tree = repo.cache.load_tree(tree_oid)
        except CacheError:
            continue
        for child in tree:
            if child.type == DIR:
                stack.append(child.oid)
            else:
                into.add(child.oid)
