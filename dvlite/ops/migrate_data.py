"""The data of a DVC project, brought into dvlite's cache for ``migrate-dvc``: what a ``.dvc``
file (or a dvc.lock entry) records is checked by DVC's own md5 against the workspace, and
taken from there when it matches (hashed by dvlite's workspace reader, as ``add`` does, so the
state database knows it afterwards), else file by file from DVC's cache (each object verified
by its md5 first). What neither holds is reported, never guessed."""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from dvlite.errors import MigrateError
from dvlite.objects.pack import TREE_KIND
from dvlite.objects.tree import DIR, FILE, Tree, TreeEntry
from dvlite.records.dvcfiles import DVC_DIR, DvcOut
from dvlite.records.repo import Repo
from dvlite.records.workspace import DirNode, hashed
from dvlite.safepath import rel_problem

CHUNK = 1 << 20  # DVC's LOCAL_CHUNK_SIZE: its dos2unix works chunk by chunk
_TEXT = bytes(range(32, 127)) + b"\n\r\t\f\b"
JOBS = 8


def _is_text(block: bytes) -> bool:
    """DVC 2's istextblock: no NUL, at most 30% bytes outside printable ASCII and whitespace."""
    if not block:
        return True
    if b"\x00" in block:
        return False
    return len(block.translate(None, _TEXT)) / len(block) <= 0.30


def file_md5s(path: str) -> tuple[str, str]:
    """(md5 of the bytes, DVC 2's md5 of them: dos2unix'd, chunk by chunk, for a text file)."""
    plain, legacy = hashlib.md5(), hashlib.md5()
    with open(path, "rb") as f:
        first = f.read(CHUNK)
        text = _is_text(first[:512])
        chunk = first
        while chunk:
            plain.update(chunk)
            legacy.update(chunk.replace(b"\r\n", b"\n") if text else chunk)
            chunk = f.read(CHUNK)
    return plain.hexdigest(), legacy.hexdigest()


def dir_md5(entries: list[tuple[str, str]]) -> str:
    """DVC's md5 of a folder: of the JSON of its files' (relpath, md5), sorted by path parts."""
    ordered = sorted(entries, key=lambda e: tuple(e[0].split("/")))
    listing = [{"md5": md5, "relpath": rel} for rel, md5 in ordered]
    return hashlib.md5(json.dumps(listing, sort_keys=True).encode()).hexdigest()


class Md5s:
    """DVC's md5 of workspace files and folders, each file read once, in threads."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[str, tuple[str, str] | None] = {}

    def files(self, rels: list[str]) -> dict[str, tuple[str, str] | None]:
        todo = [r for r in rels if r not in self._files]

        def one(rel: str) -> tuple[str, tuple[str, str] | None]:
            path = os.path.join(self.root, rel)
            if os.path.islink(path) or not os.path.isfile(path):
                return rel, None
            return rel, file_md5s(path)

        with ThreadPoolExecutor(JOBS) as pool:
            self._files.update(pool.map(one, todo))
        return {r: self._files[r] for r in rels}

    def under(self, rel: str) -> list[str]:
        """The files below the folder ``rel`` (repository-relative), as DVC lists them."""
        found = []
        for folder, dirs, names in os.walk(os.path.join(self.root, rel)):
            dirs[:] = [d for d in dirs if d not in (".git", DVC_DIR)]
            base = os.path.relpath(folder, self.root).replace(os.sep, "/")
            found += [f"{base}/{n}" for n in names]
        return found

    def matches(self, out: DvcOut) -> bool:
        """Whether the workspace holds exactly what ``out`` records."""
        path = os.path.join(self.root, out.path)
        if not out.is_dir:
            got = self.files([out.path])[out.path]
            return got is not None and out.md5 == got[1 if out.legacy else 0]
        if os.path.islink(path) or not os.path.isdir(path):
            return False
        files = self.under(out.path)
        sums = self.files(files)
        if any(v is None for v in sums.values()):
            return False
        which = 1 if out.legacy else 0
        entries = [(f[len(out.path) + 1 :], sums[f][which]) for f in files]  # type: ignore[index]
        return dir_md5(entries) == out.md5


class DvcCache:
    """DVC's cache: ``files/md5/<2>/<30>`` (DVC 3) or ``<2>/<30>`` (DVC 2), ``.dir`` listings."""

    def __init__(self, root: Path, configured: str | None) -> None:
        base = root / DVC_DIR
        self.dir = (base / configured) if configured else base / "cache"

    def path(self, md5: str, is_dir: bool = False) -> str | None:
        suffix = ".dir" if is_dir else ""
        for folder in (self.dir / "files" / "md5", self.dir):
            candidate = folder / md5[:2] / (md5[2:] + suffix)
            if candidate.is_file():
                return os.fspath(candidate)
        return None

    def verified(self, md5: str, legacy: bool) -> str | None:
        """The cached file of ``md5`` when its bytes hash to it."""
        path = self.path(md5)
        if path is None:
            return None
        sums = file_md5s(path)
        return path if md5 in (sums[0], sums[1] if legacy else sums[0]) else None

    def listing(self, out: DvcOut) -> list[tuple[str, str, bool]] | None:
        """The files of the folder ``out`` records: (relpath, md5, isexec), from its ``.dir``
        object (verified, every relpath checked); None when DVC's cache lacks it."""
        path = self.path(out.md5, is_dir=True)
        if path is None:
            return None
        data = Path(path).read_bytes()
        if hashlib.md5(data).hexdigest() != out.md5:
            raise MigrateError(f"DVC's cache holds a corrupt listing of {out.path} ({path})")
        try:
            raw = json.loads(data)
            found = [(e["relpath"], e["md5"], e.get("isexec") is True) for e in raw]
        except (ValueError, TypeError, KeyError):
            raise MigrateError(f"DVC's listing of {out.path} is malformed ({path})") from None
        for rel, md5, _ in found:
            if rel_problem(rel) is not None or not isinstance(md5, str) or len(md5) != 32:
                raise MigrateError(f"DVC's listing of {out.path} names {rel!r}, refused ({path})")
        return found


@dataclass(frozen=True)
class Brought:
    entry: TreeEntry
    files: int
    note: str = ""  # how it was brought, when not simply from the workspace


def bring(repo: Repo, md5s: Md5s, dvc_cache: DvcCache, out: DvcOut) -> Brought:
    """The object of ``out`` in dvlite's cache; MigrateError (the reason) when neither the
    workspace nor DVC's cache holds what it records."""
    name = posixpath.basename(out.path)
    path = os.fspath(repo.abspath(out.path))
    if md5s.matches(out):
        link_roots = (os.path.realpath(repo.cache_dir),)
        node = hashed(repo.state, path, out.path, link_roots, repo.cache, repo.ignore)
        files = node.files if isinstance(node, DirNode) else 1
        executable = not isinstance(node, DirNode) and node.exec
        return Brought(TreeEntry(name, node.type, node.oid, node.size, executable), files)
    note = (
        "the workspace does not hold what DVC recorded: converted from DVC's cache; "
        f"`dvlite checkout {out.path}` puts it back"
    )
    if not out.is_dir:
        cached = dvc_cache.verified(out.md5, out.legacy)
        if cached is None:
            raise MigrateError(_absent(out))
        oid, size = repo.cache.import_file(cached)
        return Brought(TreeEntry(name, FILE, oid, size, out.isexec), 1, note)
    listing = dvc_cache.listing(out)
    if listing is None:
        raise MigrateError(_absent(out))
    return Brought(_build(repo, md5s, dvc_cache, out, listing), len(listing), note)


def _absent(out: DvcOut) -> str:
    return (
        f"neither the workspace nor DVC's cache holds the {'folder' if out.is_dir else 'file'} "
        f"it records (md5 {out.md5}); `dvc pull` it, then migrate again"
    )


def _build(
    repo: Repo, md5s: Md5s, dvc_cache: DvcCache, out: DvcOut, listing: list[tuple[str, str, bool]]
) -> TreeEntry:
    """The folder ``listing`` names, each file from the workspace where it matches, else from
    DVC's cache, stored with its trees in dvlite's cache."""
    here = md5s.files([f"{out.path}/{rel}" for rel, _, _ in listing])
    which = 1 if out.legacy else 0

    def store(item: tuple[str, str, bool]) -> tuple[str, TreeEntry]:
        rel, md5, isexec = item
        path = os.path.join(repo.root, out.path, rel)
        sums = here[f"{out.path}/{rel}"]
        src = (
            path if sums is not None and sums[which] == md5 else dvc_cache.verified(md5, out.legacy)
        )
        if src is None:
            raise MigrateError(
                f"{out.path}/{rel} (md5 {md5}) is neither in the workspace nor in DVC's cache; "
                "`dvc pull` it, then migrate again"
            )
        executable = os.access(src, os.X_OK) if src == path else isexec
        oid, size = repo.cache.import_file(src)
        return rel, TreeEntry(posixpath.basename(rel), FILE, oid, size, executable)

    with ThreadPoolExecutor(JOBS) as pool:
        stored = list(pool.map(store, listing))
    folders: dict[str, list[TreeEntry]] = {"": []}
    for rel, entry in stored:
        parent = posixpath.dirname(rel)
        while parent not in folders:
            folders[parent] = []
            parent = posixpath.dirname(parent)
        folders[posixpath.dirname(rel)].append(entry)
    for folder in sorted(folders, key=lambda f: -f.count("/") if f else 1):
        if not folder:
            continue
        tree = Tree.of(folders[folder])
        repo.cache.add_bytes(tree.to_bytes(), kind=TREE_KIND)
        parent = posixpath.dirname(folder)
        folders[parent].append(TreeEntry(posixpath.basename(folder), DIR, tree.oid, tree.size))
    root = Tree.of(folders[""])
    repo.cache.add_bytes(root.to_bytes(), kind=TREE_KIND)
    return TreeEntry(posixpath.basename(out.path), DIR, root.oid, root.size)
