"""``import`` and ``update``: data from another real git repository tracked here by a pointer
with a ``source:`` block, moved to the source's newest version, shown by lineage."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from helpers import git, ok, one_line_error
from remote_helpers import FolderStore
from share_helpers import DATA, Registry, make_registry

import dvlite as api
from dvlite.records import pointer as pointers
from dvlite.records.repo import Repo


@pytest.fixture
def registry(tmp_path_factory: pytest.TempPathFactory, folder_store: FolderStore) -> Registry:
    return make_registry(tmp_path_factory.mktemp("src"), folder_store)


def _pointer(repo: Repo, rel: str) -> pointers.Pointer:
    return pointers.load(repo.root / f"{rel}.dvl")


def _staged(repo: Repo) -> set[str]:
    return set(git(repo.root, "diff", "--cached", "--name-only").split())


def test_import_tracks_the_data_and_records_its_source(repo, dvlite, registry) -> None:
    r = ok(dvlite("import", registry.url, "data/train", "--rev", "v1"))
    commit = git(registry.work, "rev-parse", "v1").strip()
    assert r.stdout.startswith(f"Imported train from {registry.url}:data/train@{commit[:12]}")
    assert (repo.root / "train" / "a.csv").read_text() == "x,y\n1,2\n"
    text = (repo.root / "train.dvl").read_text()
    assert text.endswith(
        f"files: 2\nsource:\n  repo: {registry.url}\n  rev: v1\n  commit: {commit}\n"
        "  path: data/train\n"
    )
    assert {"train.dvl", ".gitignore"} <= _staged(repo)
    assert "/train" in (repo.root / ".gitignore").read_text().splitlines()
    assert api.status() == []  # tracked as any data: clean


def test_a_teammate_pulls_imported_data_from_this_repositorys_remote(
    repo, dvlite, registry, tmp_path_factory, monkeypatch
) -> None:
    ok(dvlite("import", registry.url, "data"))
    ok(dvlite("remote", "add", "-d", "own", str(tmp_path_factory.mktemp("own") / "store")))
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "import")
    ok(dvlite("push"))
    clone = repo.root.parent / "teammate"
    git(repo.root.parent, "clone", "-q", str(repo.root), str(clone))
    monkeypatch.chdir(clone)
    ok(dvlite("pull"))  # no access to the source is needed
    assert (clone / "data" / "train" / "a.csv").read_text() == "x,y\n1,2\n"
    shutil.rmtree(clone / "data")  # and update works where the data was never checked out
    registry.change("train/a.csv", "x,y\n8,8\n", "v2")
    ok(dvlite("update", "--allow-local"))
    assert (clone / "data" / "train" / "a.csv").read_text() == "x,y\n8,8\n"


def test_a_pointer_without_source_keeps_its_bytes(repo, dvlite) -> None:
    (repo.root / "f.txt").write_text("plain")
    ok(dvlite("add", "f.txt"))
    text = (repo.root / "f.txt.dvl").read_text()
    assert "source" not in text and text.startswith("version: 1\npath: f.txt\nkind: file\n")
    assert pointers.loads(text, "f.txt.dvl", "f.txt").dumps() == text


def test_update_moves_to_the_newest_version_and_is_free_when_unchanged(
    repo, dvlite, registry
) -> None:
    ok(dvlite("import", registry.url, "data"))
    git(repo.root, "commit", "-qm", "import")
    r = ok(dvlite("update", "--allow-local"))
    assert r.stdout == f"data.dvl: up to date ({registry.url}:data@{_short(registry)})\n"
    new = registry.change("train/a.csv", "x,y\n7,7\n", "v2")
    r = ok(dvlite("update", "--allow-local", "data.dvl", "--json"))
    [result] = json.loads(r.stdout)
    assert result["status"] == "updated" and result["source"]["commit"] == new
    assert result["fetched"]["transferred"] >= 1
    assert (repo.root / "data" / "train" / "a.csv").read_text() == "x,y\n7,7\n"
    assert "rev" not in result["source"]  # the default branch, followed as it moves
    # a new commit that leaves the data as it is only rewrites the pointer's commit
    (registry.work / "other.txt").write_text("code change")
    moved = registry.commit("code only")
    r = ok(dvlite("update", "--allow-local", "data"))
    assert r.stdout.startswith("Source moved data from ") and "the data is the same" in r.stdout
    assert _pointer(repo, "data").source.commit == moved  # type: ignore[union-attr]


def test_update_to_another_rev_is_recorded(repo, dvlite, registry) -> None:
    registry.change("test/c.csv", "x,y\n0,0\n", "v2", tag="v2")
    ok(dvlite("import", registry.url, "data/test", "-o", "holdout", "--rev", "v2"))
    assert (repo.root / "holdout" / "c.csv").read_text() == "x,y\n0,0\n"
    ok(dvlite("update", "--allow-local", "--rev", "v1", "holdout.dvl"))
    assert (repo.root / "holdout" / "c.csv").read_text() == "x,y\n5,6\n"
    assert _pointer(repo, "holdout").source.rev == "v1"  # type: ignore[union-attr]
    registry.change("test/c.csv", "x,y\n1,1\n", "v3")
    r = ok(dvlite("update", "--allow-local"))  # pinned to the tag v1: nothing to do
    assert r.stdout.startswith("holdout.dvl: up to date")


def test_update_never_overwrites_unsaved_changes(repo, dvlite, registry) -> None:
    ok(dvlite("import", registry.url, "model.pkl"))
    os.chmod(repo.root / "model.pkl", 0o644)
    (repo.root / "model.pkl").write_text("edited here")
    (registry.work / "model.pkl").write_text("weights-2")
    api.add("model.pkl", repo=registry.work)
    registry.commit("v2")
    before = (repo.root / "model.pkl.dvl").read_bytes()
    r = dvlite("update", "--allow-local")
    assert one_line_error(r) == (
        "Error: model.pkl has changes its pointer does not record; update would overwrite "
        "them: `dvlite checkout --force model.pkl` drops them, then run update again"
    )
    assert (repo.root / "model.pkl").read_text() == "edited here"
    assert (repo.root / "model.pkl.dvl").read_bytes() == before


def test_lineage_shows_where_imported_data_came_from(repo, dvlite, registry) -> None:
    ok(dvlite("import", registry.url, "data", "--rev", "v1"))
    git(repo.root, "commit", "-qm", "import")
    node = json.loads(ok(dvlite("lineage", "data/train/a.csv", "--json")).stdout)
    assert node["kind"] == "data" and node["source"] == "data.dvl"
    assert node["imported"]["repo"] == registry.url and node["imported"]["rev"] == "v1"
    out = ok(dvlite("lineage", "data")).stdout
    assert f"imported from {registry.url}:data at " in out and "(v1)" in out


def test_import_of_a_file_git_tracks_there(repo, dvlite, registry) -> None:
    ok(dvlite("import", registry.url, "README.md", "-o", "docs/registry.md"))
    assert (repo.root / "docs" / "registry.md").read_text() == "# registry\n"
    p = _pointer(repo, "docs/registry.md")
    assert p.source is not None and p.source.path == "README.md"  # type: ignore[union-attr]
    (registry.work / "README.md").write_text("# registry, v2\n")
    registry.commit("docs")
    ok(dvlite("update", "--allow-local", "docs/registry.md.dvl"))
    assert (repo.root / "docs" / "registry.md").read_text() == "# registry, v2\n"


def test_a_relative_url_is_kept_from_the_repository_root(repo, dvlite, registry) -> None:
    sub = repo.root / "deep" / "er"
    sub.mkdir(parents=True)
    os.chdir(sub)
    relative = os.path.relpath(registry.bare, sub)
    ok(dvlite("import", relative, "model.pkl"))
    recorded = _pointer(repo, "deep/er/model.pkl").source.repo  # type: ignore[union-attr]
    assert recorded == os.path.relpath(registry.bare, repo.root)
    os.chdir(repo.root)
    ok(dvlite("update", "--allow-local", "deep/er/model.pkl.dvl"))


def test_import_and_update_errors(repo, dvlite, registry) -> None:
    (repo.root / "plain.txt").write_text("x")
    ok(dvlite("add", "plain.txt"))
    ok(dvlite("import", registry.url, "model.pkl"))
    cases = {
        ("import", registry.url, "model.pkl"): "Error: model.pkl.dvl already exists; `dvlite "
        "update model.pkl.dvl` moves an import to its source's newest version, --force replaces it",
        ("import", registry.url, "data", "--rev", "v7"): f"Error: {registry.url} has no revision "
        "'v7' (no such branch, tag or commit)",
        ("import", registry.url, "no/such"): f"Error: no/such is not tracked in {registry.url}, by "
        "dvlite or git",
        ("update", "plain.txt.dvl"): "Error: plain.txt.dvl was not imported (it has no source); "
        "`dvlite add` updates data added here",
        ("update", "model.pkl.dvl"): f"Error: model.pkl.dvl: its source {registry.url} is on this "
        "machine, and a committed pointer can name any file or repository here; check it, then "
        "run `dvlite update --allow-local`",
        ("update", "nothing.dvl"): "Error: nothing.dvl: no pointer file nothing.dvl",
        ("import", registry.url, "data", "-o", ".dvlite/x"): "Error: cannot import to .dvlite/x: "
        "choose a data path inside the repository",
    }
    for args, expected in cases.items():
        assert one_line_error(dvlite(*args)) == expected


def test_a_crafted_source_block_is_refused(repo, dvlite) -> None:
    base = "version: 1\npath: d\nkind: file\noid: xxh128:" + "0" * 32 + "\nsize: 1\nsource:\n"
    bad = {
        "  repo: r\n  commit: abc\n  path: d\n": "'commit' must be a full commit id",
        f"  repo: r\n  commit: {'a' * 40}\n  path: ../../etc\n": "leads out of the repository",
        f"  repo: --upload-pack=x\n  commit: {'a' * 40}\n  path: d\n": "starts with '-'",
        f"  repo: r\n  rev: -x\n  commit: {'a' * 40}\n  path: d\n": "'rev' starts with '-'",
        "  url: s3://b/k\n  size: -1\n": "'size' must be a whole number",
        "  url: s3://b/k\n  token: t\n": "unknown key 'token' in 'source'",
        "  other: 1\n": "'source' needs 'repo'",
    }
    for block, why in bad.items():
        (repo.root / "d.dvl").write_text(base + block)
        line = one_line_error(dvlite("update", "d.dvl"))
        assert line.startswith("Error: malformed pointer file d.dvl: ") and why in line, line


def test_import_from_the_api(repo, registry) -> None:
    result = api.import_data(registry.url, "data/train", out="t")
    assert result.status == "imported" and result.files == 2
    assert api.update(allow_local=True)[0].status == "unchanged"
    assert (repo.root / "t" / "b.csv").read_text() == DATA["train"]["b.csv"]  # type: ignore[index]


def _short(reg: Registry) -> str:
    return git(reg.work, "rev-parse", "HEAD").strip()[:12]
