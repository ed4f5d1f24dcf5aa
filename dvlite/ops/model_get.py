"""``dvlite model get``: the bytes of one registered version (by version, stage, stage tag or
latest), fetched from the remote (just that file's, or that folder's, objects: no clone of
the rest of the data), verified, and written where asked. The tag is checked against the
commit it names first: a tag whose oid is not the one its commit records is refused."""

from __future__ import annotations

import os
import posixpath
import shutil
from dataclasses import asdict, dataclass

from dvlite.errors import PathError, RegistryError
from dvlite.git import history
from dvlite.objects import fsutil, tree
from dvlite.objects.cache import Cache
from dvlite.objects.hashing import SMALL_FILE
from dvlite.objects.tree import DIR, TreeEntry
from dvlite.ops.registry import Model, Registry, Version, read
from dvlite.progress import Progress
from dvlite.records.compare import missing_objects
from dvlite.records.modeltag import LATEST, parse_semver, parse_tag_name
from dvlite.records.repo import Repo
from dvlite.remote import open_remote
from dvlite.safepath import Confined
from dvlite.transfer.fetch import Fetcher
from dvlite.transfer.result import TransferError, TransferResult
from dvlite.transfer.roots import Root

COPIES = ("reflink", "copy")  # what `get` writes: never a link into the cache


@dataclass(frozen=True)
class GetResult:
    name: str
    version: str
    tag: str  # the version's tag
    path: str  # where it was written
    oid: str
    size: int
    kind: str
    files: int
    fetched: TransferResult | None  # None: the cache had every object already
    warnings: list[str]  # registry tags that were skipped

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["fetched"] = self.fetched.to_dict() if self.fetched else None
        return d


def lookup(reg: Registry, spec: str) -> tuple[Model, Version]:
    """The version ``spec`` names: ``NAME@vX.Y.Z``, ``NAME@STAGE`` (or GTO's ``NAME#STAGE``),
    the stage tag ``NAME#STAGE#N`` (the version it assigned), ``NAME@latest`` or ``NAME``."""
    parsed = parse_tag_name(spec)
    if parsed is not None and parsed[0] == "stage":
        model = reg.model(parsed[1])
        a = next((a for a in model.history if a.tag == spec), None)
        if a is None:
            raise RegistryError(f"no valid stage tag {spec} (`dvlite model show {model.name}`)")
        return model, _found(model, a.version, spec)
    name, sep, part = spec.partition("#") if "#" in spec else spec.partition("@")
    model = reg.model(name)
    if not sep or part == LATEST:
        return model, model.latest
    if sep == "@" and parse_semver(part) is not None:
        return model, _found(model, part, spec)
    if part in model.stages:
        return model, _found(model, model.stages[part], spec)
    if part in reg.stages:
        raise RegistryError(f"no version of {name} is in {part} (`dvlite model promote`)")
    raise RegistryError(
        f"{spec}: {part!r} is neither a version (vX.Y.Z), a stage ({', '.join(reg.stages)}) "
        f"nor {LATEST}"
    )


def _found(model: Model, version: str, spec: str) -> Version:
    v = model.find(version)
    if v is None:
        known = ", ".join(x.version for x in model.versions)
        raise RegistryError(
            f"{spec}: {model.name} has no version {version} (its versions: {known})"
        )
    return v


def get(
    repo: Repo,
    spec: str,
    *,
    out: str | None = None,
    remote: str | None = None,
    jobs: int | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> GetResult:
    """Write the version ``spec`` names at ``out`` (default: its file name, in the current
    folder), fetching what the cache lacks of it; ``force`` replaces what is at ``out``."""
    reg = read(repo)
    model, v = lookup(reg, spec)
    dest = os.path.abspath(out or posixpath.basename(v.path))
    if os.path.lexists(dest) and not force:
        shown = out or os.path.basename(dest)
        raise PathError(f"{shown} already exists; use --force to replace it")
    entry = TreeEntry(posixpath.basename(v.path), v.kind, v.oid, v.size, _checked_exec(repo, v))
    fetched = None
    with repo.lock():
        if not in_cache(repo, entry, v.path):
            fetcher = Fetcher(repo, open_remote(repo, remote, jobs=jobs))
            fetched = fetcher.run([Root(v.path, entry, v.tag)], progress)
            if fetched.failed:
                raise TransferError("fetch", fetched)
        write_copy(repo, entry, v.path, dest)
    return GetResult(
        model.name, v.version, v.tag, dest, v.oid, v.size, v.kind, v.files, fetched, reg.warnings
    )


def _checked_exec(repo: Repo, v: Version) -> bool:
    """Whether the model file is executable, as its commit records it; RegistryError when
    that commit records another object at the tag's path (a tag that does not match)."""
    item = next((i for i in history.tracked_at(repo, v.commit) if i.rel == v.path), None)
    commit = v.commit[:12]
    if item is None:
        raise RegistryError(
            f"tag {v.tag}: commit {commit} does not track {v.path}; the tag does not match "
            "its commit, refusing it"
        )
    p = item.pointer
    if (p.oid, p.kind, p.size) != (v.oid, v.kind, v.size):
        raise RegistryError(
            f"tag {v.tag} records {v.oid} for {v.path}, but commit {commit} records {p.oid}; "
            "the tag does not match its commit, refusing it"
        )
    return p.exec


def in_cache(repo: Repo, entry: TreeEntry, rel: str) -> bool:
    if entry.type != DIR:
        return repo.cache.exists(entry.oid)
    return next(missing_objects(repo.cache, entry, rel), None) is None


def write_copy(repo: Repo, entry: TreeEntry, rel: str, dest: str) -> None:
    """Write ``entry`` at ``dest`` through the cache's one writer of files (every object
    verified on its way out), as copies: the result outlives the cache. Built under a
    temporary name beside ``dest`` and renamed into place, so nothing is half written."""
    cache = Cache(repo.cache_dir, COPIES)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    tmp = fsutil.tmp_name(dest)
    try:
        if entry.type != DIR:
            cache.install(entry.oid, tmp, executable=entry.exec, size=entry.size)
        else:
            os.mkdir(tmp)
            confined = Confined(tmp)
            files: list[tuple[str, TreeEntry]] = []
            for path, e in tree.walk(repo.cache.load_tree, entry, rel, source=rel):  # read once
                if path == rel:
                    continue
                target = confined.target(path[len(rel) + 1 :], rel)
                if e.type == DIR:
                    os.mkdir(target)
                else:
                    files.append((target, e))
            _write_files(cache, files)
        put_in_place(tmp, dest, entry.type == DIR)
    except BaseException:
        discard_path(tmp)
        raise


def _write_files(cache: Cache, files: list[tuple[str, TreeEntry]]) -> None:
    """The files of a folder being built under a temporary name (renamed into place whole):
    a small one is written straight to its name (no temporary file of its own), its bytes
    verified on the way out, read from the cache's packs where they are (looked up all at
    once, not one query each); a big one through ``Cache.install``."""
    cache.existing([e.oid for _, e in files])  # where each packed one is, for the reads
    for target, e in files:
        if e.size > SMALL_FILE:
            cache.install(e.oid, target, executable=e.exec, size=e.size)
            continue
        data = cache.packed_bytes(e.oid) if cache.packs.located(e.oid) else None
        if data is None:
            data = cache.read_bytes(e.oid)
        fsutil.write_new(target, data, 0o777 if e.exec else 0o666)


def put_in_place(tmp: str, dest: str, is_dir: bool) -> None:
    """Rename ``tmp`` to ``dest``; what was at ``dest`` (replaced with --force) goes after."""
    if not is_dir and not (os.path.isdir(dest) and not os.path.islink(dest)):
        os.replace(tmp, dest)  # a file over a file: atomic
        return
    old = None
    if os.path.lexists(dest):
        old = fsutil.tmp_name(dest)
        os.rename(dest, old)
    try:
        os.rename(tmp, dest)
    except OSError:
        if old is not None:
            os.rename(old, dest)
        raise
    if old is not None:
        discard_path(old)


def discard_path(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        fsutil.discard(path)
