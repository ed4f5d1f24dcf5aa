import json
import os
import shutil

import pytest
import xxhash
from helpers import TmpDir, snapshot
from helpers import oid as oid_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dvlite.errors import CacheError
from dvlite.objects.hashing import CHUNK, hash_file, hasher, oid_from_hasher, oid_of_bytes
from dvlite.objects.tree import Tree, TreeEntry
from dvlite.safepath import name_problem

OID = "xxh128:" + "ab" * 16


def test_tree_bytes_are_canonical() -> None:
    tree = Tree.of(
        [
            TreeEntry("b", "file", OID, 2),
            TreeEntry("a", "dir", OID, 5),
            TreeEntry("é", "file", OID, 1, True),
        ]
    )
    expected = (
        f'[{{"name":"a","oid":"{OID}","size":5,"type":"dir"}},'
        f'{{"name":"b","oid":"{OID}","size":2,"type":"file"}},'
        f'{{"exec":true,"name":"é","oid":"{OID}","size":1,"type":"file"}}]'
    ).encode()
    assert tree.to_bytes() == expected
    assert tree.oid == "xxh128:" + xxhash.xxh3_128_hexdigest(expected)
    assert tree.size == 8


@pytest.mark.parametrize(
    "data",
    [
        b"{}",
        b"not json",
        b"\xff",
        b'[{"name":"a"}]',
        b'[{"name":"../x","type":"file","oid":"' + OID.encode() + b'","size":1}]',
        b'[{"name":"a/b","type":"file","oid":"' + OID.encode() + b'","size":1}]',
        b"[1]",
    ],
)
def test_bad_tree_bytes(data) -> None:
    with pytest.raises(CacheError, match="is not a valid tree"):
        Tree.from_bytes(data, OID)


# every name a tree may hold (safepath refuses ".git", NUL and the like: tested in test_untrusted)
names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12).filter(
    lambda s: name_problem(s) is None
)
entries = st.builds(
    TreeEntry,
    name=names,
    type=st.sampled_from(["file", "dir"]),
    oid=st.text("0123456789abcdef", min_size=32, max_size=32).map(lambda h: "xxh128:" + h),
    size=st.integers(min_value=0, max_value=2**53),
    exec=st.booleans(),
).map(lambda e: TreeEntry(e.name, e.type, e.oid, e.size, e.exec and e.type == "file"))


@settings(max_examples=25, deadline=None)
@given(st.lists(entries, max_size=8, unique_by=lambda e: e.name))
def test_tree_round_trip(items) -> None:
    tree = Tree.of(items)
    data = tree.to_bytes()
    back = Tree.from_bytes(data, tree.oid)
    assert back == tree
    assert back.to_bytes() == data
    assert back.oid == tree.oid == oid_of(data)
    assert Tree.of(reversed(items)).oid == tree.oid  # order of input never matters
    assert json.loads(data) == [e.to_dict() for e in sorted(items, key=lambda e: e.name)]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=5000), cuts=st.lists(st.integers(0, 5000), max_size=5))
def test_hash_of_split_reads_equals_hash_of_whole(tmp_path, data, cuts) -> None:
    h = hasher()
    last = 0
    for cut in sorted({min(c, len(data)) for c in cuts}):
        h.update(data[last:cut])
        last = cut
    h.update(data[last:])
    assert oid_from_hasher(h) == oid_of_bytes(data) == oid_of(data)
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert hash_file(path) == (oid_of_bytes(data), len(data))


def test_hash_file_across_chunk_boundaries(tmp_path) -> None:
    data = os.urandom(CHUNK * 2 + 17)
    path = tmp_path / "big"
    path.write_bytes(data)
    assert hash_file(path) == (oid_of(data), len(data))


file_names = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\"),
    min_size=1,
    max_size=8,
).filter(lambda s: name_problem(s) is None and not s.endswith(".dvl") and ".dvlite-tmp-" not in s)
trees = st.recursive(
    st.binary(max_size=64),
    lambda children: st.dictionaries(file_names, children, min_size=1, max_size=4),
    max_leaves=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.dictionaries(file_names, trees, min_size=1, max_size=4))
def test_add_then_checkout_restores_generated_trees(repo, dvlite, content) -> None:
    root = TmpDir(repo.root)
    data = root / "data"
    if data.exists():
        shutil.rmtree(data)
    for p in root.glob("data*"):
        p.unlink()
    data.mkdir()
    TmpDir(data).gen(content)
    before = snapshot(data)
    result = dvlite("add", "--no-stage", "data")
    assert result.exit_code == 0, result.output
    assert dvlite("status").stdout == ""
    shutil.rmtree(data)
    result = dvlite("checkout")
    assert result.exit_code == 0, result.output
    assert snapshot(data) == before
    assert dvlite("status").stdout == ""
