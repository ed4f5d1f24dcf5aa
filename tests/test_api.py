"""The Python API (``import dvlite; dvlite.add(...)``): the example in docs/api.md runs as
written, every function works end to end against a real git repository and a folder remote,
failures raise DvliteError subclasses, nothing is printed, and ``import dvlite`` stays cheap."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from helpers import git

import dvlite
from dvlite.errors import (
    ArgumentError,
    CheckoutError,
    DvliteError,
    NotARepoError,
    PathError,
    PipelineError,
    RemoteError,
)

ROOT = Path(__file__).resolve().parents[1]
HEAVY = {"click", "rich", "yaml", "git", "fsspec", "s3fs"}


# -- the front door --------------------------------------------------------------------------
def test_import_dvlite_loads_no_heavy_library_and_no_api() -> None:
    code = (
        "import dvlite, sys\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(HEAVY)!r}))\n"
        "print(sorted(m for m in sys.modules if m.startswith('dvlite')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines() == ["[]", "['dvlite']"]


def test_dir_and_all_list_the_api() -> None:
    names = {n for n in dir(dvlite) if not n.startswith("_")}
    assert names == set(dvlite.__all__)
    assert {"add", "push", "repro", "lineage", "metrics", "params_diff", "dag"} <= names
    assert all(callable(getattr(dvlite, n)) for n in dvlite.__all__)
    assert dvlite.__version__
    with pytest.raises(AttributeError):
        dvlite.no_such_function  # noqa: B018


def test_an_api_name_stays_the_function_after_its_module_is_imported() -> None:
    import dvlite.ops.add
    import dvlite.ops.lineage
    from dvlite.ops.add import AddResult

    assert callable(dvlite.add) and dvlite.add.__module__ == "dvlite.api.data"
    assert dvlite.lineage.__module__ == "dvlite.api.pipelines"
    assert AddResult.__module__ == "dvlite.ops.add"  # the module is still there for imports
    assert sys.modules["dvlite.ops.add"].add is not dvlite.add


def test_no_code_imports_a_module_under_an_api_name_from_the_package() -> None:
    """`from dvlite import gc` gives the function gc, never a module."""
    names = "|".join(dvlite.__all__)
    bad = re.compile(rf"^\s*(from dvlite import .*\b({names})\b|import dvlite\.({names}) as )")
    found = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in [*(ROOT / "dvlite").rglob("*.py"), *(ROOT / "tests").glob("*.py")]
        for line in path.read_text(encoding="utf-8").splitlines()
        if bad.match(line) and "api import" not in line
    ]
    assert found == []


# -- the docs' example -----------------------------------------------------------------------
def test_the_examples_in_docs_api_md_run_as_written(tmp_dir, monkeypatch, capsys) -> None:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "api.md").read_text(), re.S)
    assert len(blocks) >= 2
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_dir))  # mkdtemp() under this test's folder
    namespace: dict[str, object] = {"__name__": "__main__"}
    for block in blocks:
        exec(compile(block, "docs/api.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "is not inside a dvlite repository" in out
    assert "['train']\n[]\n" in out
    assert '{"workspace": {"metrics.json": {"classes": 2}}}' in out


# -- every function, end to end --------------------------------------------------------------
@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with dvlite, a dataset and a default folder remote; the current folder
    is somewhere else, so that every call goes through ``repo=``."""
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    repo = dvlite.init(root)
    assert repo.root == root.resolve()
    (root / "data").mkdir()
    (root / "data" / "a.csv").write_text("x\n1\n")
    (root / "data" / "b.csv").write_text("x\n2\n")
    (root / "notes.txt").write_text("hello")
    dvlite.remote_add("store", "../store", default=True, repo=root)  # relative to repo=
    return root


def test_local_data_functions(project, capfd) -> None:
    added = dvlite.add(["data", "notes.txt"], repo=project)
    assert [(r.pointer, r.changed) for r in added] == [("data.dvl", True), ("notes.txt.dvl", True)]
    assert dvlite.status(repo=project) == []
    assert {e.path for e in dvlite.ls(repo=project)} >= {"data/a.csv", "data/b.csv", "notes.txt"}
    assert [e.path for e in dvlite.ls("data", repo=project)] == ["data/a.csv", "data/b.csv"]

    (project / "notes.txt").unlink()
    [changed] = dvlite.status(repo=project)
    assert (changed.source, changed.changes[0].state) == ("notes.txt.dvl", "deleted")
    assert dvlite.checkout(repo=project).added == ["notes.txt"]
    assert (project / "notes.txt").read_text() == "hello"

    assert dvlite.unprotect("notes.txt", repo=project) == []  # a copy already: nothing to do
    assert dvlite.fsck(repo=project).ok

    git(project, "commit", "-q", "-m", "data")
    (project / "data" / "a.csv").write_text("x\n3\n")
    dvlite.add("data", repo=project)
    changes = dvlite.diff(repo=project)
    assert [c.path for c in changes.modified] == ["data/a.csv"]
    assert changes.to_dict()["a"] == "HEAD"

    assert dvlite.remove("notes.txt", repo=project) == ["notes.txt.dvl"]
    assert (project / "notes.txt").exists()
    assert capfd.readouterr() == ("", "")


def test_remote_functions(project, tmp_path, capfd) -> None:
    assert list(dvlite.remotes(repo=project)) == ["store"]
    assert dvlite.remotes(repo=project)["store"].url == "../store"
    dvlite.add("data", repo=project)
    assert not dvlite.remote_status(repo=project).clean

    pushed = dvlite.push(repo=project)
    assert pushed.transferred == 3 and pushed.remote == "store"  # two files and their tree
    assert (tmp_path / "store").is_dir()
    assert dvlite.remote_status(repo=project).clean
    assert dvlite.fsck_remote(repo=project).ok
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "data")

    dvlite.remove("data", repo=project)  # now only HEAD uses the objects
    assert len(dvlite.gc(workspace=True, repo=project).removed) == 3  # the remote holds them
    assert dvlite.fetch(revisions=dvlite.Revisions("HEAD"), repo=project).transferred == 3
    assert len(dvlite.gc(workspace=True, dry=True, repo=project).removed) == 3
    assert len(dvlite.gc(revisions=dvlite.Revisions(["HEAD"]), repo=project).removed) == 0
    assert len(dvlite.gc(workspace=True, repo=project).removed) == 3
    git(project, "checkout", "HEAD", "--", ".")  # the pointer is back, its objects are not
    (project / "data" / "a.csv").unlink()
    pulled = dvlite.pull("data", repo=project)
    assert pulled.transferred == 3 and pulled.checkout == {
        "added": ["data/a.csv"],
        "modified": [],
        "deleted": [],
    }

    # a damaged cache object is mended from the remote by fsck(repair=True)
    [entry] = [e for e in dvlite.ls("data/b.csv", repo=project)]
    obj = next((project / ".dvlite" / "cache").rglob(entry.oid.split(":")[-1][2:]))
    obj.chmod(0o644)
    obj.write_text("rot")
    assert not dvlite.fsck(repo=project).ok
    mended = dvlite.fsck(repair=True, remote="store", repo=project)
    assert (mended.ok, mended.repaired, mended.repaired_from) == (True, 1, "store")

    dvlite.remote_add("other", str(tmp_path / "other"), repo=project)
    dvlite.remote_remove("other", repo=project)
    assert list(dvlite.remotes(repo=project)) == ["store"]
    assert capfd.readouterr() == ("", "")


def test_pipeline_functions(project, capfd) -> None:
    dvlite.add("data", repo=project)
    (project / "params.yaml").write_text("scale: 2\n")
    (project / "scale.py").write_text(
        "import json\n"
        "scale = int(open('params.yaml').read().split(':')[1])\n"
        "n = sum(int(open(f'data/{f}').read().split()[1]) for f in ('a.csv', 'b.csv'))\n"
        "open('total.txt', 'w').write(str(n * scale))\n"
        "json.dump({'total': n * scale}, open('metrics.json', 'w'))\n"
        "print('scaled')\n"
    )
    stage = dvlite.stage_add(
        "scale",
        [sys.executable, "scale.py"],
        deps=["data", "scale.py"],
        params=["scale"],
        outs=["total.txt"],
        metrics=["metrics.json"],
        repo=project,
    )
    assert (stage.name, stage.outs) == ("scale", ("total.txt",))
    with pytest.raises(PipelineError, match="already exists"):
        dvlite.stage_add("scale", "true", repo=project)

    assert [p.name for p in dvlite.repro(dry=True, repo=project).plan] == ["scale"]
    events: list[tuple[str, str, str]] = []
    result = dvlite.repro(repo=project, on_event=lambda *e: events.append(e))
    assert result.ran == ["scale"]
    assert ("output", "scale", "scaled") in events
    assert (project / "total.txt").read_text() == "6"
    assert dvlite.repro("scale", repo=project).ran == []

    node = dvlite.lineage("total.txt", repo=project)
    assert (node.kind, node.stage) == ("stage", "scale")
    assert {i.path for i in node.inputs} == {"data", "scale.py"}
    assert [d.stage for d in dvlite.downstream("data", repo=project)] == ["scale"]
    assert dvlite.metrics(repo=project) == {"workspace": {"metrics.json": {"total": 6}}}
    assert dvlite.dag(repo=project) == "scale"
    assert json.loads(dvlite.dag("json", repo=project))["stages"][0]["name"] == "scale"

    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "scale")
    (project / "params.yaml").write_text("scale: 3\n")
    [param] = dvlite.params_diff(repo=project)
    assert (param.key, param.old, param.new) == ("scale", 2, 3)
    assert dvlite.metrics_diff(repo=project) == []  # not run again yet
    assert list(dvlite.metrics(["HEAD"], repo=project)) == ["HEAD"]

    ran = dvlite.run(
        "again", ["cp", "total.txt", "copy.txt"], deps=["total.txt"], outs=["copy.txt"],
        repo=project,
    )  # fmt: skip
    assert ran.ran == ["scale", "again"]  # scale is out of date (its param changed)
    assert (project / "copy.txt").read_text() == "9"
    [metric] = dvlite.metrics_diff(repo=project)
    assert (metric.key, metric.old, metric.new) == ("total", 6, 9)
    assert capfd.readouterr() == ("", "")


def test_the_current_folder_is_the_default_repository(project, monkeypatch) -> None:
    monkeypatch.chdir(project / "data")
    [added] = dvlite.add("a.csv")  # relative to the current folder, as on the command line
    assert added.pointer == "data/a.csv.dvl"
    assert [t.source for t in dvlite.status()] == []


# -- errors ------------------------------------------------------------------------------------
def test_failures_raise_dvlite_errors_and_print_nothing(project, tmp_path, capfd) -> None:
    cases = [
        (NotARepoError, lambda: dvlite.status(repo=tmp_path)),
        (PathError, lambda: dvlite.add("no-such-file", repo=project)),
        (ArgumentError, lambda: dvlite.gc(repo=project)),
        (ArgumentError, lambda: dvlite.gc(workspace=True, remote="store", repo=project)),
        (RemoteError, lambda: dvlite.push(remote="nowhere", repo=project)),
        (RemoteError, lambda: dvlite.remote_remove("nowhere", repo=project)),
        (PipelineError, lambda: dvlite.repro("no-such-stage", repo=project)),
        (PathError, lambda: dvlite.remove("data", repo=project)),
    ]
    for kind, call in cases:
        with pytest.raises(DvliteError) as caught:
            call()
        assert isinstance(caught.value, kind), caught.value
        assert str(caught.value)

    dvlite.add("data", repo=project)
    (project / "data" / "a.csv").write_text("unsaved")
    with pytest.raises(CheckoutError):
        dvlite.checkout(relink=True, repo=project)
    assert capfd.readouterr() == ("", "")
