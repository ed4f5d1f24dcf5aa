"""``dvlite ls``: the tracked files at a revision (or in the workspace's pointers), with size
and oid, looking inside tracked folders."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from dvlite.errors import CacheError, CorruptObjectError, DvliteError, PathError, SourceError
from dvlite.git import clone, history
from dvlite.objects import tree
from dvlite.objects.tree import DIR, Tree, TreeEntry
from dvlite.ops.get import Where, open_remote, source_path
from dvlite.records.config import Config
from dvlite.records.repo import Repo
from dvlite.records.tracked import Tracked


@dataclass(frozen=True, slots=True)
class LsEntry:
    path: str
    kind: str  # "file", or "dir" for a folder whose tree is not in the cache
    oid: str
    size: int
    source: str  # the pointer file (or lock) that tracks it
    in_cache: bool = True
    note: str = ""  # ls URL: why a folder's files are not listed

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        if not self.note:
            del d["note"]
        return d


def ls(repo: Repo, path: str | None = None, rev: str | None = None) -> list[LsEntry]:
    """Every tracked file at ``rev`` (default: the workspace's pointers) under ``path``; a folder
    whose tree the cache lacks is one entry (kind ``dir``, ``in_cache`` false)."""
    prefix = repo.rel(path) if path else ""
    items = history.tracked_at(repo, rev or history.WORKSPACE)
    found: list[LsEntry] = []
    for item in sorted(items, key=lambda t: t.rel):
        if prefix and not (_under(item.rel, prefix) or _under(prefix, item.rel)):
            continue
        for rel, entry, cached in _walk(repo, item):
            if not prefix or _under(rel, prefix) or (not cached and _under(prefix, rel)):
                found.append(LsEntry(rel, entry.type, entry.oid, entry.size, item.source, cached))
    if prefix and not found:
        where = f" at {rev}" if rev else ""
        raise PathError(f"{path}: nothing tracked there{where}")
    found.sort(key=lambda e: e.path)
    return found


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + "/")


def _walk(
    repo: Repo | None, item: Tracked, load: tree.Load | None = None
) -> list[tuple[str, TreeEntry, bool]]:
    """The files of ``item``, each with whether the cache has it; a folder it lacks, whole.
    ``load`` reads the trees (default: the cache's)."""
    gone: list[tuple[str, TreeEntry, bool]] = []
    has = repo.cache.exists if repo is not None else lambda _oid: False
    walked = tree.files(
        load or repo.cache.load_tree,  # type: ignore[union-attr]
        item.entry,
        item.rel,
        source=item.source,
        on_missing=lambda path, e, _exc: gone.append((path, e, False)),
    )
    return [(path, e, has(e.oid)) for path, e in walked] + gone


def ls_url(
    url: str,
    path: str | None = None,
    rev: str | None = None,
    *,
    where: Where | None = None,
    repo: Repo | None = None,
) -> list[LsEntry]:
    """What the repository at ``url`` tracks at ``rev`` (its default branch) under ``path``,
    inside tracked folders too where its remote (or this repository's cache) has their trees;
    a folder whose files cannot be listed is one entry with a ``note`` saying why."""
    prefix = source_path(path) if path else ""
    with clone.fetched(url, rev) as src:
        label = f"{url}@{rev or src.commit[:12]}"
        items = history.tracked_at_commits(src.repo, [src.commit], [label])[0]
        chosen = [i for i in items if not prefix or _under(i.rel, prefix) or _under(prefix, i.rel)]
        load, note = _tree_reader(src, where, repo, any(i.pointer.kind == DIR for i in chosen))
        found = []
        for item in sorted(chosen, key=lambda t: t.rel):
            for rel, entry, cached in _walk(repo, item, load):
                if not prefix or _under(rel, prefix) or (entry.type == DIR and _under(prefix, rel)):
                    missing = note or "its tree is not on the source's remote"
                    shown = missing if entry.type == DIR else ""
                    found.append(
                        LsEntry(rel, entry.type, entry.oid, entry.size, item.source, cached, shown)
                    )
    if prefix and not found:
        raise SourceError(f"{path}: nothing tracked there in {url}{f' at {rev}' if rev else ''}")
    return sorted(found, key=lambda e: e.path)


def _tree_reader(
    src: clone.Source, where: Where | None, repo: Repo | None, needed: bool
) -> tuple[tree.Load, str]:
    """Trees from this repository's cache, else read (verified) from the source's remote;
    and, when that remote cannot be used, why (the note of each folder left whole)."""
    cache = repo.cache if repo is not None else None
    remote = None
    note = ""
    if needed:
        try:
            remote = open_remote(src, where, repo.config if repo is not None else Config(None))
        except DvliteError as exc:
            note = f"files not listed: {exc}"

    def load(oid: str) -> Tree:
        if cache is not None and cache.exists(oid):
            return cache.load_tree(oid)
        if remote is None:
            raise CacheError(note)
        try:
            return Tree.from_bytes(remote.read(oid), oid)
        except (FileNotFoundError, CorruptObjectError):
            raise CacheError(f"tree {oid} is not on {remote.label}") from None

    return load, note
