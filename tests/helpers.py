"""Small helpers shared by the core tests (no mocks: real files, real git)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import xxhash


def oid(data: bytes) -> str:
    return "xxh128:" + xxhash.xxh3_128_hexdigest(data)


def tree_bytes(entries: list[dict[str, object]]) -> bytes:
    """A tree object built by hand, exactly as design.md §1 describes it."""
    ordered = sorted(entries, key=lambda e: str(e["name"]))
    return json.dumps(ordered, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (following nothing) -> its bytes; folders as b'<dir>'."""
    found: dict[str, bytes] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", ".dvlite")]
        for d in dirs:
            found[os.path.relpath(os.path.join(folder, d), root)] = b"<dir>"
        for f in files:
            path = os.path.join(folder, f)
            rel = os.path.relpath(path, root)
            found[rel] = (
                b"<link>" + os.readlink(path).encode()
                if os.path.islink(path)
                else Path(path).read_bytes()
            )
    return found


def object_path(cache_dir: Path, oid_: str) -> Path:
    h = oid_.split(":", 1)[1]
    return cache_dir / "objects" / h[:2] / h[2:]


def cache_objects(cache_dir: Path) -> dict[str, bytes]:
    """Every object file in the cache: its name as an oid -> its bytes."""
    objects = {}
    base = cache_dir / "objects"
    if base.is_dir():
        for prefix in sorted(base.iterdir()):
            for f in sorted(prefix.iterdir()):
                objects["xxh128:" + prefix.name + f.name] = f.read_bytes()
    return objects


def assert_cache_sound(cache_dir: Path) -> None:
    """No object whose bytes do not hash to its name."""
    for name, data in cache_objects(cache_dir).items():
        assert oid(data) == name, f"partial or corrupt object {name}"
