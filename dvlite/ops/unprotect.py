"""``dvlite unprotect``: make workspace files that share their bytes with the cache (the
``hardlink`` and ``symlink`` link types) into writable copies, so that editing them cannot
touch the cache's objects."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from dvlite.errors import PathError
from dvlite.objects import fsutil
from dvlite.records.repo import Repo
from dvlite.records.tracked import collect


def unprotect(repo: Repo, targets: Iterable[str | Path]) -> list[str]:
    """Replace every linked file under ``targets`` (pointers, data paths, paths inside a
    tracked folder) with a writable copy; returns their paths. Copies are left alone."""
    done: list[str] = []
    with repo.lock():
        objects = os.path.join(os.fspath(repo.cache_dir), "objects") + os.sep
        for rel in _data_paths(repo, targets):
            for file_rel in _files(repo, rel):
                dest = repo.confined.target(file_rel)
                if _linked(dest, objects):
                    _copy_over(dest)
                    done.append(file_rel)
    return done


def make_private(repo: Repo, rel: str) -> None:
    """Every file at or under ``rel`` that shares its bytes with the cache becomes a writable
    copy (repro, before a stage writes into an output it persists)."""
    objects = os.path.join(os.fspath(repo.cache_dir), "objects") + os.sep
    for file_rel in _files(repo, rel):
        dest = repo.confined.target(file_rel)
        if _linked(dest, objects):
            _copy_over(dest)


def _data_paths(repo: Repo, targets: Iterable[str | Path]) -> list[str]:
    found: dict[str, None] = {}
    for target in targets:
        rel = repo.rel(target)
        if repo.tracking_pointer(rel) and not os.path.lexists(repo.abspath(rel + ".dvl")):
            found[rel] = None  # inside a tracked folder
            continue
        for item in collect(repo, [target]):
            found[item.rel] = None
    if not found:
        raise PathError("nothing to unprotect: name tracked data")
    return list(found)


def _files(repo: Repo, rel: str) -> Iterator[str]:
    top = repo.confined.target(rel)
    if not os.path.isdir(top) or os.path.islink(top):
        if os.path.lexists(top):
            yield rel
        return
    for folder, dirs, names in os.walk(top):
        dirs.sort()
        base = os.path.relpath(folder, repo.root).replace(os.sep, "/")
        for name in sorted(names):
            if not fsutil.is_tmp_name(name):
                yield f"{base}/{name}"


def _linked(path: str, objects: str) -> bool:
    """A symlink into the cache, or a file with other hard links (a cache object's)."""
    if os.path.islink(path):
        return os.path.realpath(path).startswith(objects) or os.readlink(path).startswith(objects)
    return os.lstat(path).st_nlink > 1


def _copy_over(dest: str) -> None:
    """Replace ``dest`` with a writable copy of what it holds (atomically: a temporary file
    beside it, renamed over it)."""
    mode = os.stat(dest).st_mode
    tmp = fsutil.tmp_name(dest)
    try:
        shutil.copyfile(dest, tmp)
        os.chmod(tmp, 0o755 if mode & 0o111 else 0o644)
        os.replace(tmp, dest)
    except BaseException:
        fsutil.discard(tmp)
        raise
