"""``get`` and ``ls URL``: data another real git repository tracks, read through a bare
repository URL, its objects fetched from that repository's remote (a folder, and S3)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import git, ok, one_line_error
from remote_helpers import FolderStore
from share_helpers import DATA, Registry, make_registry

import dvlite as api
from dvlite.errors import SourceError
from dvlite.records.config import Config
from dvlite.records.repo import Repo
from dvlite.remote.foreign import source_remote


@pytest.fixture
def registry(tmp_path_factory: pytest.TempPathFactory, folder_store: FolderStore) -> Registry:
    return make_registry(tmp_path_factory.mktemp("src"), folder_store)


def _files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _flat(tree: dict[str, object], prefix: str = "") -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in tree.items():
        if isinstance(value, dict):
            found |= _flat(value, f"{prefix}{name}/")
        else:
            found[prefix + name] = str(value)
    return found


def test_get_a_folder_outside_any_repository(tmp_dir, dvlite, registry) -> None:
    r = ok(dvlite("get", registry.url, "data"))
    assert _files(tmp_dir / "data") == _flat(DATA)
    assert r.stdout.startswith("Wrote data to data (3 files, commit ")
    assert "objects fetched" in r.stdout
    assert not (tmp_dir / ".dvlite").exists()  # the temporary cache is gone, nothing tracked
    assert sorted(os.listdir(tmp_dir)) == ["data"]
    assert os.access(tmp_dir / "data" / "train" / "a.csv", os.W_OK)  # copies, not cache links


def test_get_inside_a_repository_uses_its_cache(repo, dvlite, registry) -> None:
    ok(dvlite("get", registry.url, "data", "-o", "first"))
    for path in registry.store.root.rglob("*"):  # the remote is gone: the cache has it all
        if path.is_file():
            path.chmod(0o644)
            path.unlink()
    r = ok(dvlite("get", registry.url, "data", "-o", "second", "--json"))
    assert json.loads(r.stdout)["fetched"] is None
    assert _files(repo.root / "second") == _flat(DATA)
    assert not (repo.root / "second.dvl").exists()  # get tracks nothing


def test_get_a_file_inside_a_folder_a_git_file_and_a_model(tmp_dir, dvlite, registry) -> None:
    ok(dvlite("get", registry.url, "data/train/b.csv"))
    assert (tmp_dir / "b.csv").read_text() == "x,y\n3,4\n"
    ok(dvlite("get", registry.url, "./data/test/", "-o", "sub"))
    assert _files(tmp_dir / "sub") == {"c.csv": "x,y\n5,6\n"}
    r = ok(dvlite("get", registry.url, "README.md"))
    assert (tmp_dir / "README.md").read_text() == "# registry\n"
    assert "objects fetched" not in r.stdout  # git's own file: no remote needed
    ok(dvlite("get", registry.url, "model.pkl.dvl", "-o", "m.pkl"))  # the pointer names it
    assert (tmp_dir / "m.pkl").read_text() == "weights-1"


def test_get_at_a_tag_a_commit_and_a_short_commit(tmp_dir, dvlite, registry) -> None:
    first = git(registry.work, "rev-parse", "HEAD").strip()
    second = registry.change("train/a.csv", "x,y\n9,9\n", "v2")
    ok(dvlite("get", registry.url, "data/train/a.csv", "-o", "now.csv"))
    ok(dvlite("get", registry.url, "data/train/a.csv", "--rev", "v1", "-o", "tag.csv"))
    ok(dvlite("get", registry.url, "data/train/a.csv", "--rev", first, "-o", "sha.csv"))
    r = ok(dvlite("get", registry.url, "data", "--rev", second[:8], "-o", "short", "--json"))
    assert (tmp_dir / "now.csv").read_text() == "x,y\n9,9\n"
    assert (tmp_dir / "tag.csv").read_text() == (tmp_dir / "sha.csv").read_text() == "x,y\n1,2\n"
    assert json.loads(r.stdout)["commit"] == second
    assert (tmp_dir / "short" / "train" / "a.csv").read_text() == "x,y\n9,9\n"


def test_get_refuses_to_overwrite_unless_forced(tmp_dir, dvlite, registry) -> None:
    tmp_dir.gen({"data": {"mine.txt": "keep"}})
    line = one_line_error(dvlite("get", registry.url, "data"))
    assert line == "Error: data already exists; use --force to replace it"
    assert (tmp_dir / "data" / "mine.txt").read_text() == "keep"
    ok(dvlite("get", registry.url, "data", "--force"))
    assert _files(tmp_dir / "data") == _flat(DATA)


def test_get_errors_are_one_line_each(tmp_dir, dvlite, registry) -> None:
    url = registry.url
    missing = tmp_dir.parent / "no-such-repo"
    cases = {
        (str(missing), "data"): f"Error: cannot read the git repository {missing}: no such "
        f"folder {missing}",
        (url, "data", "--rev", "nope"): f"Error: {url} has no revision 'nope' (no such branch, "
        "tag or commit)",
        (url, "nothing/here"): f"Error: nothing/here is not tracked in {url}, by dvlite or git",
        (url, "../../etc"): "Error: refusing the path '../../etc' in the source repository: it "
        "leads out of the repository",
        (url, "data/train/zzz.csv"): "Error: data/train/zzz.csv is not in data (tracked by "
        "data.dvl)",
    }
    for args, expected in cases.items():
        assert one_line_error(dvlite("get", *args)) == expected
    empty = tmp_dir.parent / "empty-dir"
    empty.mkdir()
    assert "cannot read the git repository" in one_line_error(dvlite("get", str(empty), "data"))
    assert os.listdir(tmp_dir) == []


def test_get_names_an_unreachable_source_remote(tmp_dir, dvlite, registry) -> None:
    root = registry.store.root
    root.rename(root.with_name("moved"))
    line = one_line_error(dvlite("get", registry.url, "data"))
    assert line.startswith(f"Error: cannot reach the remote of {registry.url}: remote 'store'")
    assert "does not exist" in line
    # --remote-url says where the data went
    ok(dvlite("get", registry.url, "data", "--remote-url", str(root.with_name("moved"))))
    assert _files(tmp_dir / "data") == _flat(DATA)


def test_get_of_data_never_pushed(tmp_dir, dvlite, registry) -> None:
    (registry.work / "data" / "new.csv").write_text("x\n")
    api.add("data", repo=registry.work)
    git(registry.work, "commit", "-qam", "not pushed")
    git(registry.work, "push", "-q", "origin", "main")
    line = one_line_error(dvlite("get", registry.url, "data"))
    assert line.startswith("Error: the remote of the source lacks objects of data: missing on ")
    assert line.endswith("; whoever publishes that repository must `dvlite push` them")
    assert not (tmp_dir / "data").exists()


def test_a_crafted_pointer_in_the_source_is_refused(tmp_dir, dvlite, registry) -> None:
    (registry.work / "evil.dvl").write_text(
        "version: 1\npath: ../../evil\nkind: file\noid: xxh128:" + "0" * 32 + "\nsize: 1\n"
    )
    git(registry.work, "add", "evil.dvl")
    git(registry.work, "commit", "-qm", "evil")
    git(registry.work, "push", "-q", "origin", "main")
    line = one_line_error(dvlite("get", registry.url, "data"))
    assert "malformed pointer file evil.dvl" in line and "'path' must be the name" in line
    assert os.listdir(tmp_dir) == []


def test_get_from_an_s3_remote(tmp_dir, dvlite, s3_store, tmp_path_factory) -> None:
    reg = make_registry(tmp_path_factory.mktemp("s3src"), s3_store)
    ok(dvlite("get", reg.url, "data"))
    assert _files(tmp_dir / "data") == _flat(DATA)


def test_get_from_the_api(tmp_dir, registry) -> None:
    result = api.get(registry.url, "data/train", rev="v1", out="train")
    assert result.kind == "dir" and result.files == 2 and result.path == "data/train"
    assert _files(tmp_dir / "train") == _flat(DATA["train"])  # type: ignore[arg-type]
    with pytest.raises(SourceError, match="has no revision"):
        api.get(registry.url, "data", rev="v9")


# -- ls URL ------------------------------------------------------------------------------------
def test_ls_of_another_repository(tmp_dir, dvlite, registry) -> None:
    r = ok(dvlite("ls", registry.url, "--json"))
    listed = {e["path"]: e for e in json.loads(r.stdout)}
    assert set(listed) == {"data/train/a.csv", "data/train/b.csv", "data/test/c.csv", "model.pkl"}
    assert listed["model.pkl"]["source"] == "model.pkl.dvl"
    r = ok(dvlite("ls", registry.url, "data/train"))
    assert [line.split()[-1] for line in r.stdout.splitlines()] == [
        "data/train/a.csv",
        "data/train/b.csv",
    ]
    line = one_line_error(dvlite("ls", registry.url, "nothing"))
    assert line == f"Error: nothing: nothing tracked there in {registry.url}"


def test_ls_url_without_the_remote_shows_folders_whole(tmp_dir, dvlite, registry) -> None:
    registry.store.root.rename(registry.store.root.with_name("gone"))
    r = ok(dvlite("ls", registry.url, "--json"))
    listed = {e["path"]: e for e in json.loads(r.stdout)}
    assert listed["data"]["kind"] == "dir"
    assert "files not listed: cannot reach the remote" in listed["data"]["note"]


def test_ls_keeps_its_local_meaning(repo, dvlite, registry) -> None:
    repo.root.joinpath("mine").mkdir()
    repo.root.joinpath("mine", "f.txt").write_text("local")
    ok(dvlite("add", "mine"))
    r = ok(dvlite("ls", "mine"))
    assert r.stdout.split()[-1] == "mine/f.txt"
    r = ok(dvlite("ls", "."))  # the repository root is a git repository, but this one
    assert "mine/f.txt" in r.stdout
    r = ok(dvlite("ls", registry.url))  # another git repository: a URL
    assert "data/train/a.csv" in r.stdout and "mine/f.txt" not in r.stdout


# -- the source's config is hostile input --------------------------------------------------------
CONFIG = b'[core]\nremote = s\n[remote "s"]\nurl = %s\n'


def test_a_network_source_cannot_name_a_folder_here(tmp_dir) -> None:
    for url in (b"/etc", b"file:///etc", b"../../somewhere"):
        with pytest.raises(SourceError, match="cannot send dvlite to a folder of this machine"):
            source_remote(CONFIG % url, "https://h/r", name=None, local=None, own=Config(None))
    cfg, base = source_remote(CONFIG % b"../st", "/src", name=None, local=tmp_dir, own=Config(None))
    assert (cfg.url, base) == ("../st", tmp_dir)  # a repository here: from its own folder


def test_other_kinds_of_url_and_bad_configs_are_refused(tmp_dir) -> None:
    own = Config(None)
    for url in (b"memory://x", b"simplecache::s3://b/p", b"ftp://h/p"):
        with pytest.raises(SourceError, match="of a kind dvlite does not follow"):
            source_remote(CONFIG % url, "u", name=None, local=tmp_dir, own=own)
    with pytest.raises(SourceError, match="malformed config"):
        source_remote(b"[core\n", "u", name=None, local=None, own=own)
    with pytest.raises(SourceError, match="names no default remote"):
        source_remote(b"[core]\n", "u", name=None, local=None, own=own)
    with pytest.raises(SourceError, match="has no remote named 'x'"):
        source_remote(CONFIG % b"s3://b/p", "u", name="x", local=None, own=own)
    with pytest.raises(SourceError, match="not a dvlite repository"):
        source_remote(None, "u", name=None, local=None, own=own)


def test_credentials_and_options_never_come_from_the_source(tmp_dir) -> None:
    text = CONFIG % b"s3://bucket/p" + (
        b"endpoint_url = http://127.0.0.1:9\nsecret_access_key = theirs\nprofile = prod\n"
        b"client_kwargs = {}\nregion = eu-west-1\n"
    )
    cfg, _ = source_remote(text, "u", name=None, local=None, own=Config(None))
    assert cfg.options == {"endpoint_url": "http://127.0.0.1:9", "region": "eu-west-1"}
    # the user's own remote of the same URL is used as configured: endpoint, credentials
    repo = api.init(tmp_dir, no_scm=True)
    api.remote_add("mine", "s3://bucket/p/", repo=tmp_dir)
    Repo(tmp_dir).config.set("remote.mine.secret_access_key", "mine", "local")
    cfg, _ = source_remote(text, "u", name=None, local=None, own=Repo(tmp_dir).config)
    assert cfg.name == "mine" and cfg.options["secret_access_key"] == "mine"
    assert "endpoint_url" not in cfg.options
    assert repo.root == tmp_dir


def test_get_keeps_the_executable_bit_inside_a_folder(tmp_dir, dvlite, registry) -> None:
    tools = registry.work / "tools"
    tools.mkdir()
    (tools / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (tools / "run.sh").chmod(0o755)
    (tools / "notes.txt").write_text("plain")
    api.add("tools", repo=registry.work)
    registry.commit("tools")
    ok(dvlite("get", registry.url, "tools"))
    assert os.access(tmp_dir / "tools" / "run.sh", os.X_OK)
    assert not os.access(tmp_dir / "tools" / "notes.txt", os.X_OK)
    assert os.access(tmp_dir / "tools" / "notes.txt", os.W_OK)
