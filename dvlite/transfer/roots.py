"""Where a transfer starts (``roots``), and reading trees the cache may lack."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dvlite.errors import CacheError, CorruptObjectError, PathError
from dvlite.git import history
from dvlite.git.history import Revisions
from dvlite.objects import tree
from dvlite.objects.tree import DIR, FILE, Tree, TreeEntry
from dvlite.records.repo import Repo
from dvlite.records.tracked import Tracked, collect, load
from dvlite.remote import Remote


@dataclass(frozen=True, slots=True)
class Root:
    """Where a transfer starts: a tracked item, or a subtree inside a tracked directory."""

    rel: str  # the data path
    entry: TreeEntry
    source: str  # the pointer (or lock) that records it
    above: tuple[str, ...] = ()  # trees on the path down to a subtree (fetched, never pushed)
    rev: str = ""  # the git revision it was read at; "" for the workspace


def roots(
    repo: Repo,
    targets: Iterable[str | Path] | None = None,
    *,
    revisions: Revisions = Revisions(),
    load_tree: tree.Load | None = None,
) -> list[Root]:
    """Where a transfer starts: the workspace's tracked data (or ``targets`` in it) and the
    data tracked at each of ``revisions``; ``load_tree`` reads the trees above a subtree."""
    load_tree = load_tree or repo.cache.load_tree
    targets = list(targets or ())
    found: dict[tuple[str, str], Root] = {}

    def keep(root: Root | None) -> None:
        if root is not None:
            found.setdefault((root.rel, root.entry.oid), root)

    for target in targets:
        try:
            items = collect(repo, [target])
        except PathError:
            rel = repo.rel(target)
            if (owner := repo.tracking_pointer(rel)) is None:
                raise
            item = load(repo, owner)
            if (sub := _subtree(item, rel, load_tree)) is None:
                raise PathError(f"{rel} is not in {item.rel} (tracked by {item.source})") from None
            keep(sub)
            continue
        for item in items:
            keep(_root(item))
    if not targets:
        for item in collect(repo):
            keep(_root(item))
    if revisions:
        wanted = [repo.rel(t) for t in targets]
        for rev in revisions.commits(repo):
            for item in history.tracked_at(repo, rev):
                for rel in wanted or [""]:  # "": all of it
                    if rel in ("", item.rel, item.source) or item.rel.startswith(rel + "/"):
                        keep(_root(item, rev))
                    elif rel.startswith(item.rel + "/"):
                        keep(_subtree(item, rel, load_tree, rev))
    return list(found.values())


def _root(item: Tracked, rev: str = "") -> Root:
    return Root(item.rel, item.entry, item.source, rev=rev)


def _subtree(item: Tracked, rel: str, load_tree: tree.Load, rev: str = "") -> Root | None:
    """A path inside a tracked directory, with the trees above it (None: nothing there)."""
    entry, above = tree.lookup(load_tree, item.entry, item.rel, rel, source=item.source)
    return None if entry is None else Root(rel, entry, item.source, tuple(above), rev)


def entry_of(repo: Repo, oid: str) -> TreeEntry:
    """An entry for a bare oid: a tree when the cache holds it as one, else a file."""
    kind = FILE if cached_tree(repo, oid) is None else DIR
    return TreeEntry(oid.split(":")[-1], kind, oid, 0)


# how every tree object starts (canonical JSON: sorted keys, "exec" only when true)
_TREE_START = (b"[]", b'[{"exec":', b'[{"name":')


def cached_tree(repo: Repo, oid: str) -> Tree | None:
    """The tree ``oid`` when the cache holds that object and it is one (an object that cannot
    start like a tree is not read further than its first bytes)."""
    try:
        with open(repo.cache.path(oid), "rb") as f:
            head = f.read(len(_TREE_START[-1]))
    except FileNotFoundError:  # a packed object is small: read it whole
        head = repo.cache.packed_bytes(oid) or b""
    except OSError:
        return None
    try:
        return repo.cache.load_tree(oid) if head.startswith(_TREE_START) else None
    except (OSError, CacheError):
        return None


def tree_reader(repo: Repo, remote: Remote) -> tree.Load:
    """Trees from the cache, or read (verified) from the remote without storing them."""
    read: dict[str, Tree] = {}

    def load(oid: str) -> Tree:
        if repo.cache.exists(oid):
            return repo.cache.load_tree(oid)
        if oid not in read:
            try:
                data = remote.read(oid)
            except (FileNotFoundError, CorruptObjectError):
                raise CacheError(
                    f"tree {oid} is neither in the cache nor on {remote.label}"
                ) from None
            read[oid] = Tree.from_bytes(data, oid)
        return read[oid]

    return load
