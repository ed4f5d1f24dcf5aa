"""Each kind of remote as the tests see it: its URL and options, and direct access to the bytes it
keeps (to list, corrupt or delete them behind dvlite's back), as fsspec's ``tests/abstract``
fixture classes give. conftest.py has a fixture per kind and ``store``, run on folder and S3."""

from __future__ import annotations

import os
import uuid
from abc import ABC, abstractmethod
from pathlib import Path

import pytest
from helpers import invoke, ok

from dvlite.objects import packindex
from dvlite.objects.hashing import PREFIX, hex_of
from dvlite.objects.pack import Entry
from dvlite.objects.packindex import Location
from dvlite.remote.packed import index_key, pack_key

CREDENTIALS = {  # what the moto server accepts
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


# a test taking the ``fmt`` fixture (conftest.py) runs on a remote of each storage format
BOTH_FORMATS = pytest.mark.parametrize("fmt", [1, 2], indirect=True, ids=["f1", "f2"])


def make_bucket(endpoint: str, name: str) -> None:
    import boto3

    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=name)


def key_of(oid: str) -> str:
    """Where a remote keeps an object, relative to its root."""
    h = hex_of(oid)
    return f"objects/{h[:2]}/{h[2:]}"


class Store(ABC):
    """A remote's URL and options, and its stored bytes by key (relative to its root)."""

    url: str
    options: dict[str, str]
    missing_url: str  # a remote of the same kind whose root does not exist
    writes_tmp: bool  # writes under a temporary name, then renames (else: in place)

    @abstractmethod
    def keys(self) -> set[str]: ...

    @abstractmethod
    def read(self, key: str) -> bytes: ...

    @abstractmethod
    def write(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    def path(self, key: str) -> str:
        """The path the remote itself uses for ``key``."""
        raise NotImplementedError


class FolderStore(Store):
    writes_tmp = True

    def __init__(self, root: Path) -> None:
        root.mkdir(exist_ok=True)
        self.root = root
        self.url = str(root)
        self.options = {}
        self.missing_url = str(root.parent / "nowhere")

    def keys(self) -> set[str]:
        return {p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()}

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def write(self, key: str, data: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.chmod(0o644)  # objects are read-only
        path.write_bytes(data)

    def delete(self, key: str) -> None:
        (self.root / key).unlink()

    def path(self, key: str) -> str:
        return os.path.join(self.root, key)


class MemoryStore(Store):
    """fsspec's memory filesystem is one store for the whole process: a unique root each."""

    writes_tmp = False

    def __init__(self) -> None:
        import fsspec

        self.fs = fsspec.filesystem("memory")
        self.top = f"/t-{uuid.uuid4().hex}"
        self.root = f"{self.top}/store"
        self.fs.mkdir(self.root)
        self.url = f"memory:/{self.root}"
        self.options = {}
        self.missing_url = f"memory://t-{uuid.uuid4().hex}/store"

    def keys(self) -> set[str]:
        return {p[len(self.root) + 1 :] for p in self.fs.find(self.root)}

    def read(self, key: str) -> bytes:
        return bytes(self.fs.cat_file(f"{self.root}/{key}"))

    def write(self, key: str, data: bytes) -> None:
        self.fs.pipe_file(f"{self.root}/{key}", data)

    def delete(self, key: str) -> None:
        self.fs.rm_file(f"{self.root}/{key}")

    def clear(self) -> None:
        self.fs.rm(self.top, recursive=True)


class S3Store(Store):
    """The prefix ``store`` of a new bucket on the moto server at ``endpoint``."""

    writes_tmp = False

    def __init__(self, endpoint: str, create: bool = True) -> None:
        import boto3

        if create:
            make_bucket(endpoint, "bucket")
        self.client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        self.bucket, self.prefix = "bucket", "store"
        self.url = "s3://bucket/store"
        self.options = {"endpoint_url": endpoint}
        self.missing_url = "s3://no-such-bucket/store"

    def keys(self) -> set[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/"
        )
        return {
            o["Key"][len(self.prefix) + 1 :] for page in pages for o in page.get("Contents", [])
        }

    def read(self, key: str) -> bytes:
        body = self.client.get_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")["Body"]
        return bytes(body.read())

    def write(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}", Body=data)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")


def add_remote(store: Store, name: str = "store", format: int | None = None) -> None:
    """Make ``store`` the repository's default remote ``name``, through the CLI; ``format``
    pins its storage format (``remote add`` writes 2: packs and index files)."""
    ok(invoke("remote", "add", "-d", name, store.url))
    for key, value in store.options.items():
        ok(invoke("remote", "modify", name, key, value))
    if format is not None:
        ok(invoke("remote", "modify", name, "format", str(format)))


# -- where an object lies on a remote of either format -----------------------------------------
def index_keys(store: Store) -> list[str]:
    """The keys of a remote's index files."""
    keys = store.keys()
    return sorted(k for k in keys if k.startswith("index/") and k.endswith(".idx"))


def locations(store: Store) -> dict[str, Location]:
    """Where the live index files of a format-2 remote place each object (none on format 1)."""
    files = {key: packindex.decode(store.read(key)) for key in index_keys(store)}
    gone = {hex_of(old) for f in files.values() for old in f.supersedes}
    return {
        oid: loc
        for key, f in sorted(files.items())
        if key[len("index/") : -len(".idx")] not in gone
        for oid, loc in f.objects.items()
    }


def stored_oids(store: Store) -> set[str]:
    """The objects a remote of either format holds: whole under objects/, or indexed."""
    keys = store.keys()
    whole = {PREFIX + k[8:10] + k[11:] for k in keys if k.startswith("objects/")}
    return whole | set(locations(store))


def packed_at(store: Store, oid: str) -> Location | None:
    """Where an object lies inside a pack, or None when it is stored whole under objects/."""
    loc = locations(store).get(oid)
    return loc if loc is not None and loc.pack else None


def object_key(store: Store, oid: str) -> str:
    """The key holding an object's bytes: its pack, or objects/<2 hex>/<30 hex>."""
    loc = packed_at(store, oid)
    return pack_key(loc.pack) if loc else key_of(oid)


def object_url(store: Store, oid: str) -> str:
    """Where dvlite's messages say an object is: its pack and byte range, or its whole file."""
    loc = packed_at(store, oid)
    if loc is None:
        return f"{store.url}/{key_of(oid)}"
    return f"{store.url}/{pack_key(loc.pack)} (bytes {loc.offset}-{loc.end})"


def object_bytes(store: Store, oid: str) -> bytes:
    """An object's bytes as the remote keeps them (sliced from its pack, or its whole file)."""
    loc = packed_at(store, oid)
    if loc is None:
        return store.read(key_of(oid))
    return store.read(pack_key(loc.pack))[loc.offset : loc.end]


def corrupt_object(store: Store, oid: str) -> None:
    """Flip one byte of an object's bytes where the remote keeps them (its pack or its file)."""
    loc = packed_at(store, oid)
    key, at = (pack_key(loc.pack), loc.offset) if loc else (key_of(oid), 0)
    data = bytearray(store.read(key))
    data[at] ^= 0xFF
    store.write(key, bytes(data))


def lose_object(store: Store, oid: str) -> None:
    """Make the remote lose one object: delete its whole file, and on format 2 rewrite the
    index file naming it without it (the pack keeps its bytes, named by no index)."""
    keys = store.keys()
    if key_of(oid) in keys:
        store.delete(key_of(oid))
    for key in index_keys(store):
        old = packindex.decode(store.read(key))
        if oid not in old.objects:
            continue
        packs: dict[str, list[Entry]] = {}
        whole: dict[str, tuple[int, int]] = {}
        for o, loc in old.objects.items():
            if o == oid:
                continue
            if loc.pack:
                packs.setdefault(loc.pack, []).append(Entry(o, loc.kind, loc.offset, loc.length))
            else:
                whole[o] = (loc.kind, loc.length)
        index_id, data = packindex.encode(packs, whole, old.supersedes)
        store.delete(key)
        store.write(index_key(index_id), data)


def delete_pack_of(store: Store, oid: str) -> set[str]:
    """Delete the pack holding an object (its index file still names it); the objects that
    were in it."""
    loc = packed_at(store, oid)
    assert loc is not None, f"{oid} is in no pack"
    gone = {o for o, at in locations(store).items() if at.pack == loc.pack}
    store.delete(pack_key(loc.pack))
    return gone


def object_keys(keys: set[str]) -> set[str]:
    """The keys of a remote that hold objects: whole files, packs and index files."""
    return {k for k in keys if k.split("/", 1)[0] in ("objects", "packs", "index")}
