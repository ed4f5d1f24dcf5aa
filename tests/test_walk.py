"""The one tree walker (dvlite.objects.tree), on trees held in memory as a remote's bytes are."""

from __future__ import annotations

import pytest

from dvlite.errors import CacheError, InvalidTreeError, PathError
from dvlite.objects import tree
from dvlite.objects.hashing import oid_of_bytes
from dvlite.objects.tree import DIR, FILE, Tree, TreeEntry
from dvlite.safepath import MAX_DEPTH


class Store(dict[str, bytes]):
    """Tree objects by oid; ``load`` reads one and counts the reads."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []

    def put(self, entries: dict[str, TreeEntry | bytes]) -> TreeEntry:
        """A folder of ``entries`` (bytes: a file of those bytes), stored as a tree."""
        t = Tree.of(
            TreeEntry(name, FILE, oid_of_bytes(e), len(e))
            if isinstance(e, bytes)
            else TreeEntry(name, e.type, e.oid, e.size)
            for name, e in entries.items()
        )
        self[t.oid] = t.to_bytes()
        return TreeEntry("", DIR, t.oid, t.size)

    def load(self, oid: str) -> Tree:
        self.reads.append(oid)
        if oid not in self:
            raise CacheError(f"object {oid} is not in the cache")
        return Tree.from_bytes(self[oid], oid)


@pytest.fixture
def store() -> Store:
    return Store()


def _data(store: Store) -> TreeEntry:
    """data/{a, sub/{b, c}, z}"""
    sub = store.put({"c": b"c", "b": b"b"})
    return store.put({"z": b"z", "sub": sub, "a": b"a"})


def test_walk_is_depth_first_in_name_order(store: Store) -> None:
    root = _data(store)
    walked = [(path, e.type) for path, e in tree.walk(store.load, root, "data")]
    assert walked == [
        ("data", DIR),
        ("data/a", FILE),
        ("data/sub", DIR),
        ("data/sub/b", FILE),
        ("data/sub/c", FILE),
        ("data/z", FILE),
    ]
    assert [path for path, _ in tree.files(store.load, root, "data")] == [
        "data/a",
        "data/sub/b",
        "data/sub/c",
        "data/z",
    ]
    assert set(tree.reachable(store.load, root)) == {
        p.oid for _, p in tree.walk(store.load, root, "")
    }


def test_a_missing_tree_raises_or_is_told_and_left_out(store: Store) -> None:
    root = _data(store)
    sub = Tree.from_bytes(store[root.oid]).by_name["sub"]
    del store[sub.oid]
    with pytest.raises(CacheError):
        list(tree.walk(store.load, root, "data"))
    lost: list[str] = []
    walked = tree.files(store.load, root, "data", on_missing=lambda p, e, exc: lost.append(p))
    assert [p for p, _ in walked] == ["data/a", "data/z"]
    assert lost == ["data/sub"]


def test_a_crafted_tree_is_refused_naming_its_pointer(store: Store) -> None:
    bad = b'[{"name":".git","oid":"' + oid_of_bytes(b"x").encode() + b'","size":1,"type":"file"}]'
    store[oid_of_bytes(bad)] = bad
    root = store.put({"sub": TreeEntry("sub", DIR, oid_of_bytes(bad), 1)})
    with pytest.raises(InvalidTreeError):
        Tree.from_bytes(bad, oid_of_bytes(bad))
    with pytest.raises(PathError, match=r"^data\.dvl: refusing data/sub: it is not a tree"):
        list(tree.walk(store.load, root, "data", source="data.dvl", on_missing=tree.skip_missing))


def test_the_walk_stops_at_the_depth_limit(store: Store) -> None:
    entry = store.put({"f": b"f"})
    for _ in range(MAX_DEPTH + 1):
        entry = store.put({"d": entry})
    with pytest.raises(PathError, match=f"deeper than {MAX_DEPTH} levels"):
        list(tree.walk(store.load, entry, "data", source="data.dvl"))


def test_seen_trees_are_entered_once(store: Store) -> None:
    same = store.put({"f": b"f"})
    root = store.put({"one": same, "two": same})
    seen: set[str] = set()
    assert [p for p, _ in tree.walk(store.load, root, "d", seen=seen)] == ["d", "d/one", "d/one/f"]
    assert list(tree.walk(store.load, root, "d", seen=seen)) == []


def test_diff_skips_equal_subtrees_unread(store: Store) -> None:
    kept = store.put({"x": b"x"})
    old = store.put({"kept": kept, "a": b"a", "gone": b"g"})
    new = store.put({"kept": kept, "a": b"a2", "b": b"b"})
    store.reads.clear()
    changes = [
        (p, o is not None, n is not None) for p, o, n in tree.diff(store.load, old, new, "d")
    ]
    assert changes == [("d/a", True, True), ("d/b", False, True), ("d/gone", True, False)]
    assert kept.oid not in store.reads


def test_lookup_finds_a_path_and_the_trees_above_it(store: Store) -> None:
    root = _data(store)
    sub = Tree.from_bytes(store[root.oid]).by_name["sub"]
    found, above = tree.lookup(store.load, root, "data", "data/sub/b")
    assert found is not None and (found.name, found.type) == ("b", FILE)
    assert above == [root.oid, sub.oid]
    assert tree.lookup(store.load, root, "data", "data/a/b")[0] is None  # a is a file
    assert tree.lookup(store.load, root, "data", "data/nope")[0] is None


def test_walk_levels_gives_each_level_before_reading_it(store: Store) -> None:
    root = _data(store)
    levels: list[list[str]] = []
    walked = tree.walk_levels(
        store.load,
        [("data", root, "data.dvl")],
        before=lambda level: levels.append([p for p, _, _ in level]),
    )
    assert [p for p, _, _ in walked] == [
        "data",
        "data/a",
        "data/sub",
        "data/z",
        "data/sub/b",
        "data/sub/c",
    ]
    assert levels == [["data"], ["data/a", "data/sub", "data/z"], ["data/sub/b", "data/sub/c"]]


def test_waves_put_each_tree_after_the_ones_below_it() -> None:
    children = {"top": ["mid", "f"], "mid": ["low"], "low": [], "other": []}
    assert tree.waves(["top", "mid", "low", "other"], children.__getitem__) == [
        ["low", "other"],
        ["mid"],
        ["top"],
    ]
