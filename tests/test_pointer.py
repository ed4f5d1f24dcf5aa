import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dvlite.errors import PointerError
from dvlite.records import pointer as pointers
from dvlite.records.pointer import Pointer

OID = "xxh128:" + "0123456789abcdef" * 2
GOOD = f"version: 1\npath: data\nkind: dir\noid: {OID}\nsize: 6\nfiles: 2\n"


def test_dumps_exact_bytes_and_key_order() -> None:
    assert Pointer("data", "dir", OID, 6, 2).dumps() == GOOD
    assert (
        Pointer("m.pkl", "file", OID, 3).dumps()
        == f"version: 1\npath: m.pkl\nkind: file\noid: {OID}\nsize: 3\n"
    )
    assert Pointer("run.sh", "file", OID, 3, exec=True).dumps().endswith("size: 3\nexec: true\n")


def test_odd_names_are_quoted_and_read_back() -> None:
    for name in (
        "\x85z",
        "\u2028",
        "a\tb",
        "yes",
        "null",
        "1.5",
        "- x",
        "a: b",
        " lead",
        "trail ",
        "#x",
        "ünï",
        "'q'",
        '"d"',
        "{x}",
    ):
        text = Pointer(name, "file", OID, 1).dumps()
        assert pointers.loads(text, "p.dvl", name).path == name


MALFORMED = {
    "empty file": ("", "expected a YAML mapping"),
    "a list": ("- version: 1\n", "expected a YAML mapping"),
    "a scalar": ("hello\n", "expected a YAML mapping"),
    "bad yaml": ("version: [1\n", "not valid YAML (line 2)"),
    "tab yaml": ("version: 1\n\tpath: x\n", "not valid YAML"),
    "two documents": (GOOD + "---\n" + GOOD, "not valid YAML"),
    "wrong version": (
        GOOD.replace("version: 1", "version: 2"),
        "unsupported version 2 (this dvlite reads version 1)",
    ),
    "no version": (GOOD.replace("version: 1\n", ""), "unsupported version None"),
    "bad oid": (
        GOOD.replace(OID, "md5:abc"),
        "'oid' must look like xxh128:<32 hex digits>, not 'md5:abc'",
    ),
    "oid with a line break": (
        GOOD.replace(OID, f'"{OID}\\n"'),
        "'oid' must look like xxh128:<32 hex digits>, not",
    ),
    "upper oid": (
        GOOD.replace(OID, OID.upper().replace("XXH128", "xxh128")),
        "'oid' must look like",
    ),
    "negative size": (
        GOOD.replace("size: 6", "size: -1"),
        "'size' must be a whole number of bytes, not -1",
    ),
    "float size": (
        GOOD.replace("size: 6", "size: 1.5"),
        "'size' must be a whole number of bytes, not 1.5",
    ),
    "bool size": (
        GOOD.replace("size: 6", "size: true"),
        "'size' must be a whole number of bytes, not True",
    ),
    "string files": (
        GOOD.replace("files: 2", "files: two"),
        "'files' must be a whole number, not 'two'",
    ),
    "unknown key": (GOOD + "extra: 1\n", "unknown key 'extra'"),
    "mixed unknown keys": (GOOD + "1: a\nzz: b\n", "unknown key '1'"),
    "bad kind": (GOOD.replace("kind: dir", "kind: link"), "'kind' must be file or dir, not 'link'"),
    "path mismatch": (
        GOOD.replace("path: data", "path: other"),
        "'path' is 'other' but the file is named for 'data'; rename one of them",
    ),
    "path with slash": (
        GOOD.replace("path: data", "path: a/data"),
        "'path' must be the name of the data beside the pointer",
    ),
    "path dotdot": (
        GOOD.replace("path: data", "path: '..'"),
        "'path' must be the name of the data beside the pointer",
    ),
    "exec on dir": (GOOD + "exec: true\n", "'exec' may only be true, for a file"),
    "exec not bool": (
        GOOD.replace("kind: dir", "kind: file").replace("files: 2\n", "exec: 1\n"),
        "'exec' may only be true",
    ),
    "binary": ("\x00\x01\x02", "not valid YAML"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_pointer_text(case) -> None:
    text, why = MALFORMED[case]
    with pytest.raises(PointerError) as info:
        pointers.loads(text, "data.dvl", "data")
    assert str(info.value).startswith("malformed pointer file data.dvl: ")
    assert why in str(info.value)


@pytest.mark.parametrize(
    "case",
    [
        "empty file",
        "a list",
        "wrong version",
        "bad oid",
        "negative size",
        "unknown key",
        "path mismatch",
        "bad yaml",
        "mixed unknown keys",
    ],
)
def test_malformed_pointer_through_the_cli(repo, dvlite, case) -> None:
    text, why = MALFORMED[case]
    (repo.root / "data.dvl").write_text(text)
    for args in (("status",), ("checkout",), ("status", "data"), ("fsck",)):
        result = dvlite(*args)
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.startswith("Error: malformed pointer file data.dvl: "), result.stderr
        assert why in result.stderr
        assert result.stderr.count("\n") == 1


def test_non_utf8_pointer(repo, dvlite) -> None:
    (repo.root / "data.dvl").write_bytes(b"version: 1\npath: \xff\n")
    result = dvlite("status")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot read pointer file data.dvl: ")
    assert result.stderr.count("\n") == 1


def test_pointer_that_is_a_folder_is_skipped(repo, dvlite) -> None:
    (repo.root / "odd.dvl").mkdir()
    assert dvlite("status").exit_code == 0


names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20).filter(
    lambda s: "/" not in s and "\0" not in s and s not in (".", "..")
)
oids = st.text("0123456789abcdef", min_size=32, max_size=32).map(lambda h: "xxh128:" + h)
counts = st.integers(min_value=0, max_value=2**63)


@settings(max_examples=25, deadline=None)
@given(
    name=names,
    kind=st.sampled_from(["file", "dir"]),
    oid=oids,
    size=counts,
    files=counts,
    exe=st.booleans(),
)
def test_pointer_round_trip(name, kind, oid, size, files, exe) -> None:
    p = Pointer(name, kind, oid, size, files if kind == "dir" else 1, exe and kind == "file")
    text = p.dumps()
    assert pointers.loads(text, "x.dvl", name) == p
    assert Pointer.from_dict(p.to_dict(), "x.dvl") == p
    assert Pointer(name, kind, oid, size, p.files, p.exec).dumps() == text  # byte-identical


plain_names = st.one_of(
    st.text("abcXYZ_019.-", min_size=1, max_size=12),
    st.sampled_from(["yes", "No", "TRUE", "off", "On", "null", "NULL", "y", "n", "_", "e1", "inf"]),
).filter(lambda s: s not in (".", ".."))


@settings(max_examples=200, deadline=None)
@given(name=plain_names, kind=st.sampled_from(["file", "dir"]), size=counts, exe=st.booleans())
def test_pointers_read_and_written_without_yaml_are_what_yaml_makes(name, kind, size, exe) -> None:
    import yaml

    p = Pointer(name, kind, OID, size, 3 if kind == "dir" else 1, exe and kind == "file")
    text = p.dumps()
    assert text == yaml.safe_dump(p.to_dict(), sort_keys=False, allow_unicode=True, width=10_000)
    fast = pointers._canonical(text)
    assert fast is None or fast == yaml.safe_load(text)
    assert pointers.loads(text, "x.dvl", name) == p


def test_pointers_are_found_outside_tracked_data_tool_folders_and_symlinks(repo) -> None:
    root = repo.root
    for rel in ["a.dvl", "sub/b.dvl", "sub/deep/c.dvl", "data/in.dvl", "node_modules/d.dvl"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x")
    (root / "data.dvl").write_text("x")  # data/ is tracked: its insides are data
    (root / "link").symlink_to(root / "sub", target_is_directory=True)
    (root / "broken.dvl").symlink_to(root / "nowhere")
    found = ["a.dvl", "data.dvl", "sub/b.dvl", "sub/deep/c.dvl"]
    assert sorted(repo.iter_pointers()) == found
    assert sorted(repo.iter_pointers("sub")) == found[2:]
    assert list(repo.iter_pointers("a.dvl")) == list(repo.iter_pointers("missing")) == []
