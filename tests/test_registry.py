"""The model registry on git tags: register, promote, list, show, and tags that were crafted
(tag messages come from any clone, so a bad one is a warning, never a traceback)."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml
from helpers import git, oid, ok, one_line_error

from dvlite.errors import RegistryError
from dvlite.records.repo import Repo


def commit_model(repo: Repo, dvlite, content: str = "weights-1", path: str = "model.pkl") -> str:
    """``path`` written, added with dvlite and committed; returns the commit id."""
    (repo.root / path).write_text(content)
    ok(dvlite("add", path))
    git(repo.root, "commit", "-qm", f"model {content}")
    return git(repo.root, "rev-parse", "HEAD").strip()


def tag_message(repo: Repo, tag: str) -> dict[str, object]:
    return yaml.safe_load(git(repo.root, "tag", "-l", "--format=%(contents)", tag))  # type: ignore[no-any-return]


def make_tag(repo: Repo, name: str, message: str, rev: str = "HEAD") -> None:
    subprocess.run(
        ["git", "tag", "-a", "--cleanup=verbatim", "-F", "-", name, rev],
        cwd=repo.root, input=message, text=True, check=True, capture_output=True,
    )  # fmt: skip


def listed(dvlite) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    return json.loads(ok(dvlite("model", "list", "--json")).stdout)  # type: ignore[no-any-return]


# -- register --------------------------------------------------------------------------------
def test_register_tags_the_commit_with_a_record_of_the_model(repo: Repo, dvlite) -> None:
    commit = commit_model(repo, dvlite)
    result = ok(dvlite("model", "register", "churn", "model.pkl"))
    assert result.stdout == (
        f"Registered churn v0.1.0: model.pkl (9 B, {oid(b'weights-1')}) at commit "
        f"{commit[:12]}, tag churn@v0.1.0\nPush it: git push origin churn@v0.1.0\n"
    )
    assert git(repo.root, "cat-file", "-t", "churn@v0.1.0").strip() == "tag"  # annotated
    assert git(repo.root, "rev-parse", "churn@v0.1.0^{commit}").strip() == commit
    assert tag_message(repo, "churn@v0.1.0") == {
        "name": "churn",
        "version": "v0.1.0",
        "path": "model.pkl",
        "oid": oid(b"weights-1"),
        "size": 9,
        "kind": "file",
        "files": 1,
        "commit": commit,
    }


@pytest.mark.parametrize(
    ("level", "first"), [("major", "v1.0.0"), ("minor", "v0.1.0"), ("patch", "v0.0.1")]
)
def test_the_first_version_by_bump_level(repo: Repo, dvlite, level: str, first: str) -> None:
    commit_model(repo, dvlite)
    ok(dvlite("model", "register", "churn", "model.pkl", "--bump", level))
    assert [v["version"] for v in _versions(dvlite, "churn")] == [first]


def _versions(dvlite, name: str) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    shown = json.loads(ok(dvlite("model", "show", name, "--json")).stdout)
    return shown["versions"]  # type: ignore[no-any-return]


def test_bumps_count_from_the_highest_version(repo: Repo, dvlite) -> None:
    for n, how in enumerate([[], ["--bump", "major"], ["--bump", "minor"], ["--bump", "patch"]]):
        commit_model(repo, dvlite, f"weights-{n}")
        ok(dvlite("model", "register", "churn", "model.pkl", *how))
    commit_model(repo, dvlite, "weights-x")
    ok(dvlite("model", "register", "churn", "model.pkl", "--version", "v3.0.0"))
    versions = [v["version"] for v in _versions(dvlite, "churn")]
    assert versions == ["v3.0.0", "v1.1.1", "v1.1.0", "v1.0.0", "v0.1.0"]  # newest first


def test_explicit_versions_lower_duplicate_and_malformed(repo: Repo, dvlite) -> None:
    commit_model(repo, dvlite)
    ok(dvlite("model", "register", "churn", "model.pkl", "--version", "v2.0.0"))
    commit_model(repo, dvlite, "weights-2")
    assert one_line_error(
        dvlite("model", "register", "churn", "model.pkl", "--version", "v1.5.0")
    ) == (
        "Error: v1.5.0 is below churn's latest version, v2.0.0; use --force to register it anyway"
    )
    ok(dvlite("model", "register", "churn", "model.pkl", "--version", "v1.5.0", "--force"))
    for args in ([], ["--force"]):  # a duplicate is refused, forced or not
        result = dvlite("model", "register", "churn", "model.pkl", "--version", "v2.0.0", *args)
        assert one_line_error(result) == (
            "Error: churn v2.0.0 is already registered (tag churn@v2.0.0); give another "
            "--version or --bump"
        )
    for bad in ("1.0.0", "v1.0", "v01.0.0", "v1.0.0-rc1"):
        result = dvlite("model", "register", "churn", "model.pkl", "--version", bad)
        assert (
            one_line_error(result) == f"Error: the version {bad!r} must be vX.Y.Z, such as v1.0.0"
        )
    result = dvlite(
        "model", "register", "churn", "model.pkl", "--version", "v9.0.0", "--bump", "major"
    )
    assert result.exit_code == 2
    assert "give --version or --bump, not both" in result.stderr


def test_the_same_commit_again_needs_force(repo: Repo, dvlite) -> None:
    commit = commit_model(repo, dvlite)
    ok(dvlite("model", "register", "churn", "model.pkl"))
    assert one_line_error(dvlite("model", "register", "churn", "model.pkl")) == (
        f"Error: churn v0.1.0 already registers this model at commit {commit[:12]}; "
        "use --force to register it again"
    )
    ok(dvlite("model", "register", "churn", "model.pkl", "--force"))
    ok(dvlite("model", "register", "other", "model.pkl"))  # another model may take it
    assert [m["name"] for m in listed(dvlite)] == ["churn", "other"]


@pytest.mark.parametrize("name", ["a/b", "a@b", "a#b", ".hidden", "a..b", "-x", "", "a b"])
def test_bad_model_names_are_refused(repo: Repo, dvlite, name: str) -> None:
    commit_model(repo, dvlite)
    assert one_line_error(dvlite("model", "register", "--", name, "model.pkl")) == (
        f"Error: the model name {name!r} must be letters, digits, '-', '_' and '.', "
        "starting with a letter or digit"
    )
    assert git(repo.root, "tag").strip() == ""


def test_an_untracked_path_is_refused(repo: Repo, dvlite) -> None:
    commit_model(repo, dvlite)
    (repo.root / "notes.txt").write_text("plain")
    git(repo.root, "add", "notes.txt")
    git(repo.root, "commit", "-qm", "notes")
    assert one_line_error(dvlite("model", "register", "churn", "notes.txt")) == (
        "Error: notes.txt is not tracked by dvlite at HEAD; `dvlite add` it (or make it a "
        "stage's output), commit, then register it"
    )
    (repo.root / "models").mkdir()
    (repo.root / "models" / "a.bin").write_text("a")
    ok(dvlite("add", "models"))
    git(repo.root, "commit", "-qm", "models")
    assert one_line_error(dvlite("model", "register", "churn", "models/a.bin")) == (
        "Error: models/a.bin is inside models, which models.dvl tracks as a whole; register models"
    )
    assert one_line_error(dvlite("model", "register", "churn", "../outside")).startswith(
        "Error: ../outside is outside the repository"
    )


def test_what_is_not_committed_is_refused(repo: Repo, dvlite) -> None:
    commit_model(repo, dvlite)
    (repo.root / "new.bin").write_text("new")
    ok(dvlite("add", "new.bin"))  # added and staged, not committed
    assert one_line_error(dvlite("model", "register", "fresh", "new.bin")) == (
        "Error: new.bin is tracked in the workspace but not at HEAD: commit it first"
    )
    (repo.root / "model.pkl").write_text("weights-2")
    ok(dvlite("add", "model.pkl"))  # the pointer changed, not committed
    assert one_line_error(dvlite("model", "register", "churn", "model.pkl.dvl")) == (
        "Error: model.pkl: its record in model.pkl.dvl has changes that are not committed: "
        "commit it first (or name a commit with --rev)"
    )
    # naming the commit registers what it records, whatever the workspace holds
    ok(dvlite("model", "register", "churn", "model.pkl", "--rev", "HEAD"))
    assert _versions(dvlite, "churn")[0]["oid"] == oid(b"weights-1")
    assert one_line_error(dvlite("model", "register", "churn", "model.pkl", "--rev", "nope")) == (
        "Error: unknown git revision 'nope'"
    )


def test_an_older_commit_with_rev(repo: Repo, dvlite) -> None:
    first = commit_model(repo, dvlite)
    commit_model(repo, dvlite, "weights-2")
    ok(dvlite("model", "register", "churn", "model.pkl", "--rev", "HEAD~1"))
    v = _versions(dvlite, "churn")[0]
    assert (v["commit"], v["oid"]) == (first, oid(b"weights-1"))


def test_a_repository_without_git(tmp_dir, dvlite) -> None:
    ok(dvlite("init", "--no-scm"))
    assert one_line_error(dvlite("model", "list")) == (
        "Error: the model registry keeps its records in git tags: this repository has no git "
        "(initialised with --no-scm)"
    )


# -- promote ---------------------------------------------------------------------------------
def _two_versions(repo: Repo, dvlite) -> None:  # type: ignore[no-untyped-def]
    commit_model(repo, dvlite)
    ok(dvlite("model", "register", "churn", "model.pkl"))
    commit_model(repo, dvlite, "weights-2")
    ok(dvlite("model", "register", "churn", "model.pkl"))


def test_promoting_twice_keeps_history_and_moves_the_stage(repo: Repo, dvlite) -> None:
    _two_versions(repo, dvlite)
    result = ok(dvlite("model", "promote", "churn", "v0.1.0", "prod"))
    assert result.stdout == (
        "churn v0.1.0 is now in prod (tag churn#prod#1)\nPush it: git push origin churn#prod#1\n"
    )
    assert listed(dvlite)[0]["stages"] == {"dev": None, "staging": None, "prod": "v0.1.0"}
    ok(dvlite("model", "promote", "churn", "latest", "prod"))
    ok(dvlite("model", "promote", "churn", "v0.1.0", "dev"))
    tags = git(repo.root, "tag", "-l", "churn#*").split()
    assert tags == ["churn#dev#1", "churn#prod#1", "churn#prod#2"]
    v2 = git(repo.root, "rev-parse", "churn@v0.2.0^{commit}")
    assert git(repo.root, "rev-parse", "churn#prod#2^{commit}") == v2
    assert tag_message(repo, "churn#prod#2") == {
        "name": "churn",
        "stage": "prod",
        "version": "v0.2.0",
    }
    assert listed(dvlite) == [
        {
            "name": "churn",
            "latest": "v0.2.0",
            "stages": {"dev": "v0.1.0", "staging": None, "prod": "v0.2.0"},
        }
    ]
    shown = json.loads(ok(dvlite("model", "show", "churn", "--json")).stdout)
    assert [(v["version"], v["stages"]) for v in shown["versions"]] == [
        ("v0.2.0", ["prod"]),
        ("v0.1.0", ["dev"]),
    ]
    history = {(a["tag"], a["version"]) for a in shown["history"]}
    assert history == {
        ("churn#prod#1", "v0.1.0"),
        ("churn#prod#2", "v0.2.0"),
        ("churn#dev#1", "v0.1.0"),
    }
    # back to v0.1.0: a third tag, the first two kept
    ok(dvlite("model", "promote", "churn", "v0.1.0", "prod"))
    assert listed(dvlite)[0]["stages"]["prod"] == "v0.1.0"  # type: ignore[index]
    assert len(git(repo.root, "tag", "-l", "churn#prod#*").split()) == 3


def test_promote_refuses_unknown_stage_version_and_model(repo: Repo, dvlite) -> None:
    _two_versions(repo, dvlite)
    assert one_line_error(dvlite("model", "promote", "churn", "v0.1.0", "live")) == (
        "Error: unknown stage 'live': the stages are dev, staging, prod (config model.stages)"
    )
    assert one_line_error(dvlite("model", "promote", "churn", "v9.9.9", "prod")) == (
        "Error: churn has no version 'v9.9.9' (its versions: v0.2.0, v0.1.0)"
    )
    assert one_line_error(dvlite("model", "promote", "nope", "v0.1.0", "prod")) == (
        "Error: no model named 'nope' is registered (models: churn); "
        "`dvlite model register NAME PATH` registers one"
    )
    ok(dvlite("model", "promote", "churn", "v0.1.0", "prod"))
    assert one_line_error(dvlite("model", "promote", "churn", "v0.1.0", "prod")) == (
        "Error: churn v0.1.0 is in prod already; use --force to promote it again"
    )
    ok(dvlite("model", "promote", "churn", "v0.1.0", "prod", "--force"))
    assert "churn#prod#2" in git(repo.root, "tag").split()


def test_stages_come_from_the_config(repo: Repo, dvlite) -> None:
    _two_versions(repo, dvlite)
    ok(dvlite("config", "model.stages", "qa, live"))
    ok(dvlite("model", "promote", "churn", "v0.2.0", "live"))
    assert one_line_error(dvlite("model", "promote", "churn", "v0.2.0", "prod")) == (
        "Error: unknown stage 'prod': the stages are qa, live (config model.stages)"
    )
    assert listed(dvlite)[0]["stages"] == {"qa": None, "live": "v0.2.0"}
    for bad, why in [
        (
            "a b",
            "the stage 'a b' must be letters, digits, '-' and '_', starting with a letter or digit",
        ),
        ("dev,latest", "the stage 'latest' is 'latest' or looks like a version"),
        (" , ", "model.stages must name at least one stage (e.g. dev,staging,prod)"),
    ]:
        expected = why if why.startswith("model.stages") else f"model.stages: {why}"
        assert one_line_error(dvlite("config", "model.stages", bad)) == f"Error: {expected}"


# -- list and show ---------------------------------------------------------------------------
def test_list_as_text(repo: Repo, dvlite) -> None:
    assert ok(dvlite("model", "list")).stdout == (
        "No model is registered yet; `dvlite model register NAME PATH` registers one.\n"
    )
    _two_versions(repo, dvlite)
    ok(dvlite("model", "register", "zeta", "model.pkl"))
    ok(dvlite("model", "promote", "churn", "v0.1.0", "staging"))
    lines = [line.split() for line in ok(dvlite("model", "list")).stdout.splitlines()]
    rows = [
        [c for c in line if c not in "│┃"]
        for line in lines
        if "churn" in line or "zeta" in line or "model" in line
    ]
    assert rows == [
        ["model", "latest", "dev", "staging", "prod"],
        ["churn", "v0.2.0", "-", "v0.1.0", "-"],
        ["zeta", "v0.1.0", "-", "-", "-"],
    ]


def test_show_a_stage_output_with_metrics_and_lineage(pipeline: Repo, dvlite) -> None:
    ok(dvlite("repro"))
    git(pipeline.root, "add", "-A")
    git(pipeline.root, "commit", "-qm", "trained")
    ok(dvlite("model", "register", "net", "model.bin"))
    ok(dvlite("model", "promote", "net", "latest", "dev"))
    shown = json.loads(ok(dvlite("model", "show", "net", "--json")).stdout)
    v = shown["versions"][0]
    model_bytes = (pipeline.root / "model.bin").read_bytes()
    assert (v["path"], v["oid"], v["kind"], v["stages"]) == (
        "model.bin",
        oid(model_bytes),
        "file",
        ["dev"],
    )
    assert v["metrics"] == {"metrics.json": {"score": len(model_bytes)}}
    assert v["lineage"] == {
        "stages": ["train", "prepare"],
        "inputs": [{"path": "data/raw.txt", "oid": oid(b"raw-1")}],
    }
    assert v["problems"] == []
    text = ok(dvlite("model", "show", "net")).stdout
    assert f"metrics  metrics.json: score={len(model_bytes)}" in text
    assert "made by  train <- prepare" in text
    assert f"from     data/raw.txt ({oid(b'raw-1')})" in text  # a pipe gets whole oids
    assert "net#dev#1  v0.1.0" in text


def test_show_names_versions_stages_and_sizes(repo: Repo, dvlite) -> None:
    _two_versions(repo, dvlite)
    ok(dvlite("model", "promote", "churn", "v0.2.0", "prod"))
    text = ok(dvlite("model", "show", "churn")).stdout.splitlines()
    commit = git(repo.root, "rev-parse", "churn@v0.2.0^{commit}").strip()
    assert text[0] == "churn  2 versions"
    assert text[1].startswith("  v0.2.0  prod  ") and text[1].endswith(f"commit {commit}")
    assert text[2] == f"    model.pkl  file, 9 B  {oid(b'weights-2')}"
    assert one_line_error(dvlite("model", "show", "nope")).startswith(
        "Error: no model named 'nope'"
    )


# -- tags that were crafted ------------------------------------------------------------------
def test_crafted_tags_are_warnings_and_skipped(repo: Repo, dvlite) -> None:
    commit = commit_model(repo, dvlite)
    ok(dvlite("model", "register", "churn", "model.pkl"))
    good = tag_message(repo, "churn@v0.1.0")

    def record(**changes: object) -> str:
        return yaml.safe_dump({**good, **changes}, sort_keys=False)

    make_tag(repo, "churn@v1.0.0", record(version="v1.0.0", path="../../x"))
    make_tag(repo, "churn@v2.0.0", record(version="v2.0.0", oid="md5:abc"))
    make_tag(repo, "churn@v3.0.0", "this: is: not: yaml: [")
    make_tag(repo, "churn@v4.0.0", record(version="v4.0.0", commit="0" * 40))
    make_tag(repo, "churn@v5.0.0", record(version="v5.0.0", size=-1))
    make_tag(repo, "churn@v6.0.0", record(version="v6.0.0", name="other"))
    make_tag(repo, "churn@v7.0.0", "- a list\n- not a mapping\n")
    git(repo.root, "tag", "churn@v8.0.0")  # lightweight
    git(repo.root, "tag", "churn#dev#1")  # lightweight
    make_tag(repo, "churn#prod#1", "name: churn\nstage: prod\nversion: v9.0.0\n")
    make_tag(repo, "churn#bad.stage#1", "x")
    make_tag(repo, "churn@v1.2", "x")
    git(repo.root, "tag", "release@2024")  # not the registry's: left alone, no warning
    result = ok(dvlite("model", "list", "--json"))
    assert json.loads(result.stdout) == [
        {
            "name": "churn",
            "latest": "v0.1.0",
            "stages": {"dev": None, "staging": None, "prod": None},
        }
    ]
    assert result.stderr.splitlines() == [
        "Warning: tag churn@v1.0.0: 'path' '../../x' leads out of the repository; skipped",
        "Warning: tag churn@v1.2: 'v1.2' is not a version vX.Y.Z; skipped",
        "Warning: tag churn@v2.0.0: 'oid' must look like xxh128:<32 hex digits>, not 'md5:abc'; "
        "skipped",
        "Warning: malformed message of tag churn@v3.0.0: not valid YAML (line 1); skipped",
        "Warning: tag churn@v4.0.0: its message records commit 000000000000, but the tag points "
        f"at {commit[:12]}; skipped",
        "Warning: tag churn@v5.0.0: 'size' must be a whole number of bytes, not -1; skipped",
        "Warning: tag churn@v6.0.0: its message registers other@v6.0.0, not what it is named; "
        "skipped",
        "Warning: tag churn@v7.0.0: its message is not a dvlite record (a YAML mapping); skipped",
        "Warning: tag churn@v8.0.0 is a lightweight tag, not an annotated one; skipped",
        "Warning: tag churn#bad.stage#1: the stage 'bad.stage' must be letters, digits, '-' and "
        "'_', starting with a letter or digit; skipped",
        "Warning: tag churn#dev#1 is a lightweight tag, not an annotated one; skipped",
        "Warning: tag churn#prod#1 puts v9.0.0 in prod, but churn has no v9.0.0; skipped",
    ]
    # the next promotion is numbered above the crafted one, so that it wins
    ok(dvlite("model", "promote", "churn", "v0.1.0", "prod"))
    assert "churn#prod#2" in git(repo.root, "tag").split()
    assert listed(dvlite)[0]["stages"]["prod"] == "v0.1.0"  # type: ignore[index]


def test_a_stage_tag_at_another_commit_is_skipped(repo: Repo, dvlite) -> None:
    _two_versions(repo, dvlite)
    make_tag(repo, "churn#prod#1", "name: churn\nstage: prod\nversion: v0.2.0\n", "HEAD~1")
    result = ok(dvlite("model", "list", "--json"))
    v1 = git(repo.root, "rev-parse", "HEAD~1").strip()
    v2 = git(repo.root, "rev-parse", "HEAD").strip()
    assert result.stderr == (
        f"Warning: tag churn#prod#1 points at commit {v1[:12]}, but churn v0.2.0 is at "
        f"{v2[:12]}; skipped\n"
    )


def test_a_stage_tag_gto_made_names_the_version_at_its_commit(repo: Repo, dvlite) -> None:
    _two_versions(repo, dvlite)
    make_tag(
        repo, "churn#prod#1", "Assigning stage prod to artifact churn version v0.1.0", "HEAD~1"
    )
    result = ok(dvlite("model", "list", "--json"))
    assert (json.loads(result.stdout)[0]["stages"]["prod"], result.stderr) == ("v0.1.0", "")
    git(repo.root, "commit", "-q", "--allow-empty", "-m", "no model here")
    make_tag(repo, "churn#dev#1", "free text")  # no version at that commit
    assert ok(dvlite("model", "list")).stderr.startswith(
        "Warning: tag churn#dev#1 names no version, and no version of churn is registered at"
    )


def test_an_oid_that_is_not_the_commits_is_refused_at_get(repo: Repo, dvlite) -> None:
    commit = commit_model(repo, dvlite)
    ok(dvlite("model", "register", "churn", "model.pkl"))
    good = tag_message(repo, "churn@v0.1.0")
    make_tag(
        repo, "churn@v0.2.0", yaml.safe_dump({**good, "version": "v0.2.0", "oid": oid(b"evil")})
    )
    make_tag(
        repo, "churn@v0.3.0", yaml.safe_dump({**good, "version": "v0.3.0", "path": "elsewhere.pkl"})
    )
    assert one_line_error(dvlite("model", "get", "churn@v0.2.0", "-o", "out")) == (
        f"Error: tag churn@v0.2.0 records {oid(b'evil')} for model.pkl, but commit {commit[:12]} "
        f"records {oid(b'weights-1')}; the tag does not match its commit, refusing it"
    )
    assert one_line_error(dvlite("model", "get", "churn@v0.3.0", "-o", "out")) == (
        f"Error: tag churn@v0.3.0: commit {commit[:12]} does not track elsewhere.pkl; the tag "
        "does not match its commit, refusing it"
    )
    assert not (repo.root / "out").exists()


def test_a_signed_tag_is_read_without_its_signature(repo: Repo, dvlite) -> None:
    """A signature follows the message in a tag object; the record is what comes before it."""
    commit = commit_model(repo, dvlite)
    ok(dvlite("model", "register", "churn", "model.pkl"))
    record = git(repo.root, "tag", "-l", "--format=%(contents)", "churn@v0.1.0")
    record = record.rstrip("\n").replace("v0.1.0", "v0.2.0") + "\n"
    signature = "-----BEGIN PGP SIGNATURE-----\n\niQEzBAAB\n-----END PGP SIGNATURE-----\n"
    raw = (
        f"object {commit}\ntype commit\ntag churn@v0.2.0\n"
        f"tagger t <t@t> 1700000000 +0000\n\n{record}{signature}"
    )
    made = subprocess.run(
        ["git", "mktag"], cwd=repo.root, input=raw, text=True, capture_output=True, check=True
    )
    git(repo.root, "update-ref", "refs/tags/churn@v0.2.0", made.stdout.strip())
    result = ok(dvlite("model", "list", "--json"))
    assert (json.loads(result.stdout)[0]["latest"], result.stderr) == ("v0.2.0", "")


def test_the_python_api(repo: Repo, dvlite, tmp_path_factory, monkeypatch) -> None:
    import dvlite as api

    commit_model(repo, dvlite)
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.chdir(elsewhere)  # repo= names the repository, and paths are taken from it
    v = api.model_register("churn", "model.pkl", bump="major", repo=repo.root)
    assert (v.version, v.path, v.kind, v.files, v.stages) == ("v1.0.0", "model.pkl", "file", 1, [])
    a = api.model_promote("churn", "latest", "prod", repo=repo.root)
    assert (a.stage, a.number, a.version, a.tag) == ("prod", 1, "v1.0.0", "churn#prod#1")
    reg = api.model_list(repo=repo.root)
    assert [(m.name, m.latest.version, m.stages) for m in reg.models] == [
        ("churn", "v1.0.0", {"prod": "v1.0.0"})
    ]
    assert reg.warnings == [] and reg.stages == ("dev", "staging", "prod")
    details = api.model_show("churn", repo=repo.root)
    assert details.versions[0].version.stages == ["prod"]
    got = api.model_get("churn@prod", out="m.pkl", repo=repo.root)
    assert (repo.root / "m.pkl").read_text() == "weights-1" and got.fetched is None
    with pytest.raises(RegistryError, match="no model named 'x'"):
        api.model_show("x", repo=repo.root)
