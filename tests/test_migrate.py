"""``migrate-dvc`` on projects made by the real DVC (``.venv-bench/bin/dvc``): pointers, the
pipeline, the lock, remotes and ignore patterns converted; the data re-hashed from the
workspace or from DVC's cache; what cannot be converted reported with its file and reason."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from helpers import git, ok, one_line_error, snapshot
from migrate_helpers import FILES, copy_project, make_project, run_dvc

import dvlite as api
from dvlite.errors import MigrateError
from dvlite.ops.migrate_data import dir_md5, file_md5s
from dvlite.records import pointer as pointers
from dvlite.records.dvcfiles import parse_config, parse_dvc_file


@pytest.fixture(scope="module")
def template(dvc: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("dvc")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t.invalid"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return make_project(dvc, base / "project", base / "remote")
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def project(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = copy_project(template, tmp_path / "project")
    monkeypatch.chdir(root)
    return root


def _lines(out: str) -> list[str]:
    return [" ".join(line.split()) for line in out.splitlines()]


def test_a_dvc_project_converts_whole(project: Path, dvlite) -> None:
    r = ok(dvlite("migrate-dvc"))
    assert _lines(r.stdout) == [
        "Wrote .dvlite/ dvlite init",
        f"Wrote .dvlite/config remote store: {_dvc_remote(project)}/dvlite",
        "Wrote .dvlite/config remote cloud: s3://bucket/dvc/dvlite",
        "Wrote .dvlite/config.local remote cloud: secret_access_key",
        "Wrote .dvliteignore 1 patterns from .dvcignore",
        "Wrote data.dvl from data.dvc",
        "Wrote tool.sh.dvl from tool.sh.dvc",
        "Wrote dvlite.yaml from dvc.yaml (3 stages)",
        "Wrote dvlite.lock stage prepare (its outputs stored in the cache)",
        "Wrote dvlite.lock stage train (its outputs stored in the cache)",
        "Wrote dvlite.lock stage evaluate@1 (its outputs stored in the cache)",
        "Wrote dvlite.lock stage evaluate@2 (its outputs stored in the cache)",
        "Next: review the changes (git status), then `dvlite status` and git commit.",
    ]
    # the data is what dvlite itself records for it, and the pipeline is up to date
    assert pointers.load(project / "tool.sh.dvl").exec is True
    data = pointers.load(project / "data.dvl")
    assert (data.kind, data.files, data.size) == ("dir", 3, 27)
    assert [s.source for s in api.status()] == ["dvlite.lock"]  # only: not committed yet
    assert all(not p.reason for p in api.repro(dry=True).plan)
    # remotes: no credential in a committed file; dvlite's objects beside DVC's
    committed = (project / ".dvlite" / "config").read_text()
    assert "S3CRET" not in committed and "endpoint_url = http://127.0.0.1:9" in committed
    local = project / ".dvlite" / "config.local"
    assert "secret_access_key = S3CRET" in local.read_text()
    assert stat.S_IMODE(local.stat().st_mode) == 0o600
    assert "*.tmp" in (project / ".dvliteignore").read_text().splitlines()
    staged = set(git(project, "diff", "--cached", "--name-only").split())
    assert {"data.dvl", "tool.sh.dvl", "dvlite.yaml", "dvlite.lock", ".dvlite/config"} <= staged
    assert (project / "dvc.yaml").exists() and (project / "data.dvc").exists()  # DVC's stay
    git(project, "commit", "-qm", "dvlite")
    ok(dvlite("push"))
    assert (Path(_dvc_remote(project)) / "dvlite" / "index").is_dir()
    assert (Path(_dvc_remote(project)) / "files" / "md5").is_dir()  # DVC's, beside it


def _dvc_remote(project: Path) -> str:
    """The folder remote DVC pushed to (the template project's)."""
    config = parse_config((project / ".dvc" / "config").read_text(), ".dvc/config")
    return config['remote "store"']["url"]


def test_data_missing_here_comes_from_dvcs_cache(project: Path, dvlite) -> None:
    (project / "data" / "raw" / "a.csv").unlink()
    (project / "data" / "notes.txt").write_text("edited")
    os.unlink(project / "tool.sh")
    r = ok(dvlite("migrate-dvc"))
    out = _lines(r.stdout)
    assert "Wrote data.dvl from data.dvc; the workspace does not hold what DVC recorded: " \
        "converted from DVC's cache; `dvlite checkout data` puts it back" in out  # fmt: skip
    assert any(
        line.startswith("Note dvc.lock:prepare: left for `dvlite repro`: dep data is")
        for line in out
    )
    ok(dvlite("checkout", "--force"))
    assert (project / "data" / "raw" / "a.csv").read_text() == "x,y\n1,2\n"
    assert (project / "data" / "notes.txt").read_bytes() == b"dos\r\nline\r\n"
    assert (project / "tool.sh").read_text() == FILES["tool.sh"]
    assert os.access(project / "tool.sh", os.X_OK)


def test_what_cannot_convert_is_reported_with_the_reason(project: Path, dvlite, dvc) -> None:
    (project / "odd.dvc").write_text("outs:\n- path: odd\n  md5: " + "0" * 32 + "\nfoo: 1\n")
    (project / "ext.dvc").write_text("outs:\n- path: /mnt/data\n  md5: " + "1" * 32 + "\n")
    (project / "gone.dvc").write_text("outs:\n- path: gone.bin\n  md5: " + "2a" * 16 + "\n")
    r = dvlite("migrate-dvc")
    out = _lines(r.stdout)
    assert "Not converted ext.dvc: not converted: /mnt/data is an external output (outside the " \
        "repository); dvlite tracks data inside the repository only" in out  # fmt: skip
    assert "Not converted odd.dvc: not converted: unknown key 'foo'" in out
    gone = "Not converted gone.dvc: not converted: neither the workspace nor DVC's cache holds "
    gone += f"the file it records (md5 {'2a' * 16}); `dvc pull` it, then migrate again"
    assert gone in out
    assert one_line_error(r) == (
        "Error: 3 things could not be converted (listed above, with the reasons); the rest was"
    )
    assert (project / "data.dvl").exists()  # the rest was


def test_dry_writes_nothing(project: Path, dvlite) -> None:
    before = snapshot(project)
    r = ok(dvlite("migrate-dvc", "--dry", "--json"))
    plan = json.loads(r.stdout)
    assert plan["dry"] is True and not plan["skipped"]
    assert {s["path"] for s in plan["done"]} >= {"data.dvl", "dvlite.yaml", "dvlite.lock"}
    assert snapshot(project) == before


def test_remove_dvc_once_everything_converted(project: Path, dvlite) -> None:
    r = ok(dvlite("migrate-dvc", "--remove-dvc"))
    assert "Removed dvc.yaml" in _lines(r.stdout)
    for gone in ("dvc.yaml", "dvc.lock", "data.dvc", "tool.sh.dvc", ".dvcignore", ".dvc/config"):
        assert not (project / gone).exists(), gone
    assert (project / ".dvc" / "cache").is_dir()  # old revisions' data stays here
    tracked = git(project, "ls-files").split()
    assert "dvc.yaml" not in tracked and "data.dvc" not in tracked
    assert ok(dvlite("repro", "--dry")).stdout.count("up to date") == 4


def test_remove_dvc_keeps_everything_when_something_did_not_convert(project: Path, dvlite) -> None:
    (project / "odd.dvc").write_text("outs: []\n")
    r = dvlite("migrate-dvc", "--remove-dvc")
    assert r.exit_code == 1
    assert "Not converted .dvc: DVC's files stay: not everything was converted (see above)" in (
        _lines(r.stdout)
    )
    assert (project / "dvc.yaml").exists() and (project / ".dvc" / "config").exists()


def test_pipeline_parts_dvlite_does_not_take(project: Path, dvlite) -> None:
    (project / "dvc.yaml").write_text(
        "plots:\n  - metrics.json\nstages:\n"
        "  a:\n    cmd: echo a\n    frozen: true\n    params:\n      - other.yaml:\n"
        "    outs:\n      - a.txt:\n          desc: the a\n          cache: false\n"
        "  bad:\n    cmd: echo b\n    outs: [../outside]\n"
    )
    (project / "dvc.lock").unlink()
    r = dvlite("migrate-dvc")
    out = _lines(r.stdout)
    assert "Not converted dvc.yaml: top-level 'plots': dvlite.yaml has no such section" in out
    assert "Not converted dvc.yaml:a: frozen: dvlite has no frozen stages; dropped" in out
    assert "Not converted dvc.yaml:a: params: all of other.yaml (dvlite takes named keys; list " \
        "the ones it uses)" in out  # fmt: skip
    assert "Not converted dvc.yaml:a: outs a.txt: option 'desc' dropped (dvlite has no use for " \
        "it)" in out  # fmt: skip
    assert any(line.startswith("Not converted dvc.yaml:bad: not converted: ") and "outside the "
               "repository" in line for line in out)  # fmt: skip
    assert r.exit_code == 1
    assert (
        (project / "dvlite.yaml")
        .read_text()
        .startswith(
            "stages:\n  a:\n    cmd: echo a\n    outs:\n    - a.txt:\n        cache: false\n"
        )
    )


def test_not_a_dvc_project(tmp_dir, dvlite) -> None:
    line = one_line_error(dvlite("migrate-dvc"))
    assert line == f"Error: no DVC project here: no .dvc/ folder in {tmp_dir} or above"
    with pytest.raises(MigrateError):
        api.migrate_dvc(repo=tmp_dir)


def test_a_subfolder_project_is_refused(scm, dvlite, dvc) -> None:
    sub = scm / "sub"
    sub.mkdir()
    run_dvc(dvc, sub, "init", "-q", "--subdir")
    os.chdir(sub)
    line = one_line_error(dvlite("migrate-dvc"))
    assert line.startswith(f"Error: the DVC project is in {sub}, a subfolder of its git repository")


# -- DVC's formats, read as DVC wrote them ----------------------------------------------------
def test_dvc_2_md5_of_text_is_dos2unix(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(b"a\r\nb\r\n")
    import hashlib

    plain, legacy = file_md5s(str(path))
    assert plain == hashlib.md5(b"a\r\nb\r\n").hexdigest()
    assert legacy == hashlib.md5(b"a\nb\n").hexdigest()
    path.write_bytes(b"\x00\r\n")  # binary: as it is
    assert file_md5s(str(path))[1] == hashlib.md5(b"\x00\r\n").hexdigest()


def test_dir_md5_sorts_by_path_parts() -> None:
    import hashlib

    entries = [("a-b/x", "1" * 32), ("a/b", "2" * 32)]
    listing = '[{"md5": "' + "2" * 32 + '", "relpath": "a/b"}, {"md5": "' + "1" * 32 + '", '
    listing += '"relpath": "a-b/x"}]'
    assert dir_md5(entries) == hashlib.md5(listing.encode()).hexdigest()


def test_dvc_config_and_dvc_files_as_dvc_writes_them() -> None:
    text = "[core]\n    remote = s\n['remote \"s\"']\n    url = 's3://b/p'  \n    region = eu # c\n"
    assert parse_config(text, "c") == {
        "core": {"remote": "s"},
        'remote "s"': {"url": "s3://b/p", "region": "eu"},
    }
    with pytest.raises(MigrateError, match=r"malformed c \(line 1\)"):
        parse_config("url = x\n", "c")
    f = parse_dvc_file("outs:\n- path: ../../etc\n  md5: " + "3" * 32 + "\n", "sub/x.dvc")
    assert f.problems == ["'../../etc' leads out of the repository"]
    imp = parse_dvc_file(
        "deps:\n- path: s3://b/k.csv\n  etag: abc\nouts:\n- path: k.csv\n  md5: " + "4a" * 16,
        "k.csv.dvc",
    )
    assert imp.source == {"url": "s3://b/k.csv"} and not imp.problems


def test_migrating_twice_changes_nothing(project: Path, dvlite) -> None:
    ok(dvlite("migrate-dvc"))
    before = snapshot(project)
    r = ok(dvlite("migrate-dvc"))
    out = _lines(r.stdout)
    assert "Note data.dvl: already converted" in out
    assert "Note dvlite.yaml: already converted" in out
    assert snapshot(project) == before
