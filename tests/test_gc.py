"""dvlite gc: what it keeps, what it removes, and when it refuses."""

from __future__ import annotations

import json
import os

from helpers import git

from dvlite.objects.hashing import oid_of_bytes
from dvlite.records.repo import Repo


def oid(text: str) -> str:
    return oid_of_bytes(text.encode())


def three_versions(repo: Repo, dvlite) -> None:  # type: ignore[no-untyped-def]
    """model.bin committed as v1 then v2 (branch main); v3 only in the workspace, uncommitted;
    a branch `old` points at v1; `scratch` was added and never committed."""
    root = repo.root
    for version in ("v1", "v2"):
        (root / "model.bin").write_text(version)
        assert dvlite("add", "model.bin").exit_code == 0
        git(root, "commit", "-qm", version)
        if version == "v1":
            git(root, "branch", "old")
    (root / "scratch").write_text("scratch")
    assert dvlite("add", "scratch").exit_code == 0
    assert dvlite("remove", "scratch.dvl").exit_code == 0
    (root / "model.bin").write_text("v3")
    assert dvlite("add", "model.bin").exit_code == 0


def cached(repo: Repo) -> set[str]:
    return set(repo.cache.iter_oids())


def test_gc_keeps_what_all_commits_use_and_removes_the_rest(repo: Repo, dvlite) -> None:
    three_versions(repo, dvlite)
    result = dvlite("gc", "-A", "-f")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "removed 1 object (7 B) from the cache\n",
        "",
    )
    assert cached(repo) == {oid("v1"), oid("v2"), oid("v3")}


def test_gc_workspace_only_and_branches(repo: Repo, dvlite) -> None:
    three_versions(repo, dvlite)
    result = dvlite("gc", "-a", "-f", "--json")
    assert json.loads(result.stdout) == {
        "dry": False,
        "removed": [oid("scratch")],
        "removed_bytes": 7,
        "kept_only_copy": [],
        "kept_only_copy_bytes": 0,
        "used": 3,
        "remote": None,
        "cloud_removed": [],
        "cloud_kept_only_copy": [],
        "runs_removed": [],
        "cloud_runs_removed": [],
        "cloud_tmp_removed": [],
    }
    assert cached(repo) == {oid("v1"), oid("v2"), oid("v3")}
    assert dvlite("gc", "-w", "-f").stdout == "removed 2 objects (4 B) from the cache\n"
    assert cached(repo) == {oid("v3")}
    assert (repo.root / "model.bin").read_text() == "v3"


def test_gc_rev_keeps_that_revision(repo: Repo, dvlite) -> None:
    three_versions(repo, dvlite)
    assert dvlite("gc", "--rev", "old", "-f").exit_code == 0
    assert cached(repo) == {oid("v1"), oid("v3")}


def test_gc_dry_lists_and_removes_nothing(repo: Repo, dvlite) -> None:
    three_versions(repo, dvlite)
    before = cached(repo)
    result = dvlite("gc", "-w", "-f", "--dry")
    assert (
        result.stdout
        == "".join(f"would remove {o}\n" for o in sorted({oid("v1"), oid("v2"), oid("scratch")}))
        + "would remove 3 objects (11 B) from the cache\n"
    )
    assert cached(repo) == before


def test_gc_never_removes_the_only_copy_without_force(repo: Repo, dvlite) -> None:
    three_versions(repo, dvlite)
    before = cached(repo)
    result = dvlite("gc", "-w")
    assert result.exit_code == 0
    assert result.stdout == "removed 0 objects (0 B) from the cache\n"
    assert result.stderr == (
        "kept 3 unused objects (11 B) that no remote holds: they are the only copy. "
        "`dvlite push` them first, or use --force to remove them\n"
    )
    assert cached(repo) == before


def test_gc_needs_to_be_told_what_to_keep(repo: Repo, dvlite) -> None:
    result = dvlite("gc")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "Error: say what to keep: -w (the workspace only), -a, -T, -A, --all-experiments or --rev "
        "REV\n"
    )


def test_gc_refuses_when_a_kept_revision_cannot_be_read(repo: Repo, dvlite) -> None:
    root = repo.root
    (root / "data").mkdir()
    (root / "data" / "x").write_text("x")
    assert dvlite("add", "data").exit_code == 0
    git(root, "commit", "-qm", "data")
    tree_oid = (root / "data.dvl").read_text().split("oid: ")[1].split()[0]
    (root / "data" / "x").write_text("y")
    assert dvlite("add", "data").exit_code == 0
    os.unlink(repo.cache.path(tree_oid))
    before = cached(repo)
    result = dvlite("gc", "-A", "-f")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: cannot read what data.dvl at {git(root, 'rev-parse', 'HEAD').strip()[:12]} uses "
        f"(object {tree_oid} is not in the cache), so gc removes nothing; `dvlite fetch` that "
        "revision first, or leave it out of what gc keeps\n"
    )
    assert cached(repo) == before


def test_gc_refuses_a_malformed_pointer_in_history(repo: Repo, dvlite) -> None:
    root = repo.root
    (root / "model.bin.dvl").write_text(
        "version: 1\npath: model.bin\nkind: file\noid: nonsense\nsize: 1\n"
    )
    git(root, "add", "model.bin.dvl")
    git(root, "commit", "-qm", "broken")
    git(root, "rm", "-q", "model.bin.dvl")
    git(root, "commit", "-qm", "gone")
    result = dvlite("gc", "-A", "-f")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: malformed pointer file model.bin.dvl at ")
    result = dvlite("gc", "--rev", "nope", "-f")
    assert (result.exit_code, result.stderr) == (1, "Error: unknown git revision 'nope'\n")
