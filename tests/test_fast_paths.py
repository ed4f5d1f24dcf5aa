"""The shortcuts taken for speed keep the same results as the slow paths: in-memory copies of
small objects, bulk existence checks, pointer parsing without yaml, direct tree JSON."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from dvlite.objects.cache import Cache
from dvlite.objects.hashing import oid_of_bytes
from dvlite.objects.tree import DIR, FILE, Tree, TreeEntry
from dvlite.records import pointer as pointers
from dvlite.records.repo import Repo
from dvlite.safepath import name_problem


def _make_data(root: os.PathLike[str], files: int = 30) -> None:
    for i in range(files):
        folder = os.path.join(root, "data", f"part-{i % 3}")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"f{i}.bin"), "wb") as f:
            f.write(f"content {i}".encode() * (i + 1))


def test_checkout_of_small_files_restores_bytes_and_exec_bits(repo: Repo, dvlite) -> None:
    _make_data(repo.root)
    script = repo.root / "data" / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    assert dvlite("add", "data").exit_code == 0
    before = {p: p.read_bytes() for p in (repo.root / "data").rglob("*") if p.is_file()}

    os.rename(repo.root / "data", repo.root / "gone")
    result = dvlite("checkout", "--json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["added"]) == 31
    assert {p: p.read_bytes() for p in (repo.root / "data").rglob("*") if p.is_file()} == before
    assert script.stat().st_mode & stat.S_IXUSR
    assert not (repo.root / "data" / "part-0" / "f0.bin").stat().st_mode & stat.S_IXUSR
    assert dvlite("status").stdout == ""


def test_corrupt_small_object_is_not_checked_out(repo: Repo, dvlite) -> None:
    _make_data(repo.root, files=3)
    assert dvlite("add", "data").exit_code == 0
    victim = repo.root / "data" / "part-1" / "f1.bin"
    oid = oid_of_bytes(victim.read_bytes())
    obj = repo.cache.path(oid)
    os.chmod(obj, 0o644)
    with open(obj, "wb") as f:
        f.write(b"rotten")
    victim.unlink()

    result = dvlite("checkout")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: corrupt objects in the cache, not checked out: data/part-1/f1.bin"
    )
    assert not victim.exists()
    assert [p.name for p in victim.parent.iterdir()] == []


def test_status_reports_objects_missing_from_the_cache(repo: Repo, dvlite) -> None:
    _make_data(repo.root, files=40)  # enough under one prefix folder or not: both lookups run
    assert dvlite("add", "data").exit_code == 0
    gone = repo.root / "data" / "part-2" / "f5.bin"
    os.unlink(repo.cache.path(oid_of_bytes(gone.read_bytes())))

    result = dvlite("status", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [
        {"source": "data.dvl", "changes": [{"path": "data/part-2/f5.bin", "state": "not in cache"}]}
    ]


def test_status_reports_a_missing_sub_tree_once_and_files_in_tree_order(repo: Repo, dvlite) -> None:
    _make_data(repo.root, files=40)
    assert dvlite("add", "data").exit_code == 0
    pointer = pointers.load(repo.root / "data.dvl", "data.dvl")
    tree = repo.cache.load_tree(pointer.oid)
    os.unlink(repo.cache.path(tree.by_name["part-1"].oid))
    for gone in ("part-2/f5.bin", "part-0/f3.bin"):
        data = (repo.root / "data" / gone).read_bytes()
        os.unlink(repo.cache.path(oid_of_bytes(data)))
    expected = [
        {"path": "data/part-0/f3.bin", "state": "not in cache"},
        {"path": "data/part-1", "state": "not in cache"},
        {"path": "data/part-2/f5.bin", "state": "not in cache"},
    ]
    result = dvlite("status", "--json")
    assert json.loads(result.stdout) == [{"source": "data.dvl", "changes": expected}]
    (repo.root / "data" / "part-0" / "f0.bin").write_text("changed")  # trees differ now
    result = dvlite("status", "--json")
    changed = {"path": "data/part-0/f0.bin", "state": "modified"}
    assert json.loads(result.stdout) == [{"source": "data.dvl", "changes": [changed, *expected]}]


def test_existing_agrees_with_exists(tmp_path: os.PathLike[str]) -> None:
    cache = Cache(tmp_path)
    stored = [cache.add_bytes(f"object {i}".encode()) for i in range(600)]
    absent = [oid_of_bytes(f"absent {i}".encode()) for i in range(600)]
    assert cache.existing(stored + absent) == set(stored)
    assert cache.existing(absent[:3]) == set()


names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1).filter(
    lambda n: name_problem(n) is None  # every name a pointer may hold
)


@settings(max_examples=150, deadline=None)
@given(
    name=st.one_of(names, st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,12}", fullmatch=True)),
    kind=st.sampled_from([FILE, DIR]),
    size=st.integers(0, 2**63),
    files=st.integers(0, 10**9),
)
def test_pointer_parses_like_yaml(name: str, kind: str, size: int, files: int) -> None:
    p = pointers.Pointer(name, kind, "xxh128:" + "ab" * 16, size, files if kind == DIR else 1)
    text = p.dumps()
    readable = "\x85" not in name  # U+0085 is a YAML line break: written as an escape
    assert text == yaml.safe_dump(
        p.to_dict(), sort_keys=False, allow_unicode=readable, width=10_000
    )
    via_yaml = pointers.Pointer.from_dict(yaml.safe_load(text), "x.dvl")
    assert pointers.loads(text, "x.dvl", via_yaml.path) == via_yaml


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(names, st.sampled_from([FILE, DIR]), st.integers(0, 2**64), st.booleans()),
        max_size=6,
        unique_by=lambda t: t[0],
    )
)
def test_tree_bytes_are_canonical_json(raw: list[tuple[str, str, int, bool]]) -> None:
    tree = Tree.of(TreeEntry(n, k, "xxh128:" + "0f" * 16, s, x and k == FILE) for n, k, s, x in raw)
    expected = json.dumps(
        [e.to_dict() for e in tree.entries],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")
    assert tree.to_bytes() == expected
    assert Tree.from_bytes(tree.to_bytes()) == tree


def test_big_file_round_trip_through_the_kernel_copy(repo: Repo, dvlite) -> None:
    data = os.urandom((32 << 20) + 12345)  # over one kernel-copy chunk
    (repo.root / "model.bin").write_bytes(data)
    assert dvlite("add", "model.bin").exit_code == 0
    oid = pointers.load(repo.root / "model.bin.dvl").oid
    assert oid == oid_of_bytes(data)
    assert Path(repo.cache.path(oid)).read_bytes() == data

    (repo.root / "model.bin").unlink()
    assert dvlite("checkout").exit_code == 0
    assert (repo.root / "model.bin").read_bytes() == data

    os.chmod(repo.cache.path(oid), 0o644)
    with open(repo.cache.path(oid), "r+b") as f:
        f.write(b"rot")
    (repo.root / "model.bin").unlink()
    result = dvlite("checkout")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: corrupt objects in the cache, not checked out: model.bin"
    )
    assert not (repo.root / "model.bin").exists()
