"""What this clone has verified on each remote (``.dvlite/tmp/remotes/``), and ``cached_below``.
After a push that left nothing missing, every object below its roots is on the remote; only a
gc of the remote removes objects, and each gc first writes a new mark (``gc/``). So while the
remote's marks are those a record was made under, push asks nothing about its objects (a no-op
push of 20k files is one listing of ``gc/``); ``status --remote`` voids it on finding a gap."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from dvlite.objects import fsutil, tree
from dvlite.objects.hashing import is_oid
from dvlite.objects.tree import DIR, FILE, TreeEntry
from dvlite.records.repo import Repo
from dvlite.remote import Remote


def synced_path(repo: Repo, remote: Remote) -> Path:
    key = hashlib.sha256(f"{remote.protocol}://{remote.root}".encode()).hexdigest()[:16]
    return repo.tmp_dir / "remotes" / f"{key}.json"


KEEP = 1000  # verified roots remembered per remote (the newest)


def _epoch(marks: frozenset[str]) -> str:
    return ",".join(sorted(marks))


Verified = dict[str, str]  # root oid -> its kind (file or dir)


def load_verified(repo: Repo, remote: Remote, marks: frozenset[str]) -> Verified:
    """The roots whose every object was on the remote when its gc marks were ``marks``
    (none when they were others, or the record is unreadable)."""
    try:
        data = json.loads(synced_path(repo, remote).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    roots = data.get("verified") if isinstance(data, dict) else None
    if not isinstance(roots, dict) or data.get("epoch") != _epoch(marks):
        return {}
    return {o: k for o, k in roots.items() if is_oid(o) and k in (FILE, DIR)}


def save_verified(repo: Repo, remote: Remote, marks: frozenset[str], roots: Verified) -> None:
    """Record ``roots`` (their every object now on the remote) under the marks ``marks``."""
    if roots:
        _write(repo, remote, marks, {**roots, **load_verified(repo, remote, marks)})


def void_verified(repo: Repo, remote: Remote) -> None:
    """Forget what was verified on the remote (something was found missing there)."""
    _write(repo, remote, frozenset(), {})


def _write(repo: Repo, remote: Remote, marks: frozenset[str], roots: Verified) -> None:
    path = synced_path(repo, remote)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"epoch": _epoch(marks), "verified": dict(list(roots.items())[:KEEP])}
    fsutil.atomic_write(path, json.dumps(data).encode(), fsync=False)


def cached_below(repo: Repo, roots: Verified) -> Verified:
    """Every object at and below ``roots`` (oid -> kind), as far as the cache can tell."""
    found = dict(roots)
    seen: set[str] = set()
    for oid, kind in roots.items():
        if kind == DIR:
            root = TreeEntry(oid, DIR, oid, 0)
            load = repo.cache.load_tree
            found.update(tree.reachable(load, root, seen=seen, on_missing=tree.skip_missing))
    return found
