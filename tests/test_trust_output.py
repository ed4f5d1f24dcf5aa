"""Trust in daily use: output that is never cut, progress that moves, counts and units that
read right, settings that are checked, and docs whose commands work as written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import git, on_terminal, piped, plain_env
from pipeline_helpers import PARAMS

from dvlite.records.repo import Repo

ROOT = Path(__file__).resolve().parent.parent


# -- 17: the docs' commands work as written ----------------------------------------------------
@pytest.mark.usefixtures("pipeline")
def test_ci_script_shows_how_the_lock_changed(repo: Repo, dvlite, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """repro stages dvlite.lock, so `git diff -- dvlite.lock` was empty: the script must diff
    against HEAD to show what changed."""
    store = tmp_path_factory.mktemp("store")
    assert dvlite("remote", "add", "-d", "store", str(store)).exit_code == 0
    assert dvlite("repro").exit_code == 0
    assert dvlite("push").exit_code == 0
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "-m", "results")
    (repo.root / "params.yaml").write_text(PARAMS.replace('"lr": 0.1', '"lr": 0.3'))
    git(repo.root, "commit", "-q", "-am", "lr 0.3, forgot to repro")
    script = ROOT / "docs" / "ci" / "reproduce.sh"
    result = subprocess.run(
        ["sh", str(script)], cwd=repo.root, env=plain_env(), capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "dvlite.lock | " in result.stderr, result.stderr


# -- 16: the demo installs only dvlite; colour only on a terminal, never with NO_COLOR -----------
def test_make_demo_installs_dvlite_without_test_and_lint_extras(tmp_path: Path) -> None:
    venv = str(tmp_path / "fresh-venv")  # a fresh clone: no venv, no stamp
    demo = subprocess.run(
        ["make", "-n", "demo", f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True
    )
    assert demo.returncode == 0, demo.stderr
    install = [line for line in demo.stdout.splitlines() if "pip install" in line]
    assert install and all(line.endswith(" -e .") for line in install), demo.stdout
    test = subprocess.run(
        ["make", "-n", "test", f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True
    )
    assert '".[test,lint]"' in test.stdout


def _tour_output(tmp_path: Path, terminal: bool, **env: str) -> str:
    """The tour's own output functions (everything before its work starts), called once."""
    tour = (ROOT / "demo" / "tour.sh").read_text(encoding="utf-8")
    preamble = tour.split("\nWORK=", 1)[0]
    script = tmp_path / "preamble.sh"
    script.write_text(preamble + '\nstep "A step"\nshow true\n')
    if terminal:
        return on_terminal(["bash", str(script)], **env)
    return subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, env=plain_env(**env)
    ).stdout


def test_tour_prints_colour_only_to_a_terminal_without_no_color(tmp_path: Path) -> None:
    assert "\x1b[" in _tour_output(tmp_path, terminal=True)
    to_file = _tour_output(tmp_path, terminal=False)
    assert "== A step" in to_file and "$ true" in to_file
    assert "\x1b" not in to_file
    assert "\x1b" not in _tour_output(tmp_path, terminal=True, NO_COLOR="1")


def test_no_color_means_no_escape_codes_from_dvlite(repo: Repo) -> None:
    (repo.root / "f").write_text("a")
    assert piped("add", "f").returncode == 0
    (repo.root / "f").write_text("b")
    assert "\x1b[" in on_terminal([sys.executable, "-m", "dvlite", "status"])
    shown = on_terminal([sys.executable, "-m", "dvlite", "status"], NO_COLOR="1")
    assert "modified:" in shown and "\x1b" not in shown


# -- 14: status --remote summarises per pointer; dag with no stages says so --------------------
def _pushed_project(repo: Repo, dvlite, store: Path) -> None:  # type: ignore[no-untyped-def]
    data = repo.root / "data"
    data.mkdir()
    for i in range(12):
        (data / f"{i:02}.csv").write_text(f"row {i}\n")
    (repo.root / "model.pkl").write_bytes(b"model")
    assert dvlite("add", "data", "model.pkl").exit_code == 0
    assert dvlite("remote", "add", "-d", "store", str(store)).exit_code == 0
    assert dvlite("push").exit_code == 0


def test_status_remote_summarises_per_pointer(repo: Repo, dvlite, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    _pushed_project(repo, dvlite, tmp_path_factory.mktemp("store"))
    (repo.root / "data" / "03.csv").write_text("changed\n")
    (repo.root / "model.pkl").write_bytes(b"model 2")
    assert dvlite("add", "data", "model.pkl").exit_code == 0
    result = dvlite("status", "--remote")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "data.dvl: 1 of 12 files not on remote 'store'",
        "model.pkl.dvl: model.pkl not on remote 'store'",
        "push would move 1.1 KiB",  # the two files and the folder's new tree
        "(`dvlite status --remote -v` lists every file)",
    ]
    verbose = dvlite("status", "--remote", "-v").stdout.splitlines()
    assert verbose == [
        "    not on remote: data/03.csv",
        "    not on remote: model.pkl",
        "push would move 1.1 KiB",
    ]


def test_status_remote_on_a_fresh_clone_is_one_line_per_pointer(  # type: ignore[no-untyped-def]
    repo: Repo, dvlite, tmp_path_factory, monkeypatch
) -> None:
    _pushed_project(repo, dvlite, tmp_path_factory.mktemp("store"))
    git(repo.root, "commit", "-q", "-m", "data")
    git(repo.root, "add", ".dvlite/config")
    git(repo.root, "commit", "-q", "-m", "remote")
    clone = tmp_path_factory.mktemp("clone") / "c"
    git(repo.root.parent, "clone", "-q", str(repo.root), str(clone))
    monkeypatch.chdir(clone)
    result = dvlite("status", "--remote")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [
        "data.dvl: 12 of 12 files not in cache",
        "model.pkl.dvl: model.pkl not in cache",
    ]
    verbose = dvlite("status", "--remote", "--verbose").stdout.splitlines()
    assert len(verbose) == 15  # 12 files, the folder's tree, model.pkl, the bytes
    assert "    not in cache:  data/00.csv" in verbose
    assert verbose[-1] == "fetch would move 79 B"  # the 12 rows (74 bytes) and "model"


def test_dag_without_stages_says_so(repo: Repo, dvlite) -> None:  # type: ignore[no-untyped-def]
    import json

    result = dvlite("dag")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "no stages in dvlite.yaml\n"
    result = dvlite("dag", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"stages": [], "edges": []}


# -- 15: config checks keys and values when they are set ---------------------------------------
def test_config_refuses_unknown_keys_with_the_known_ones(repo: Repo, dvlite) -> None:  # type: ignore[no-untyped-def]
    result = dvlite("config", "core.nosuch", "1")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: unknown config key 'core.nosuch'; known keys: ")
    for known in ("cache.dir", "cache.type", "core.autostage", "core.remote", "hooks.strict"):
        assert known in result.stderr
    assert not (repo.dvlite_dir / "config").read_text().count("nosuch")


def test_config_refuses_bad_values(repo: Repo, dvlite, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert dvlite("remote", "add", "store", str(tmp_path)).exit_code == 0
    before = (repo.dvlite_dir / "config").read_text()
    for key, value, why in (
        ("cache.type", "banana", "one of reflink, copy, hardlink, symlink"),
        ("cache.type", "copy,,", "one of reflink, copy, hardlink, symlink"),
        ("core.autostage", "maybe", "true or false"),
        ("hooks.strict", "2", "true or false"),
        ("core.remote", "nosuch", "no remote named 'nosuch'"),
        ("remote.store.jobs", "many", "whole number"),
    ):
        result = dvlite("config", key, value)
        assert result.exit_code == 1, (key, value)
        assert why in result.stderr, result.stderr
    assert (repo.dvlite_dir / "config").read_text() == before
    assert dvlite("config", "cache.type", "hardlink, copy").exit_code == 0
    assert dvlite("config", "core.autostage", "no").exit_code == 0


def test_config_cache_dir_says_the_old_cache_stays(repo: Repo, dvlite, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    (repo.root / "f").write_text("x")
    assert dvlite("add", "f").exit_code == 0
    new = tmp_path_factory.mktemp("shared") / "cache"
    result = dvlite("config", "cache.dir", str(new))
    assert result.exit_code == 0
    old = repo.dvlite_dir / "cache"
    assert result.stderr == (
        f"cache.dir is now {new}. The objects already in {old} stay there (nothing is "
        f"moved): move them with `mv {old} {new}`, or fill the new cache with "
        "`dvlite fetch` (from a remote) or `dvlite add` (from the workspace).\n"
    )
    assert old.is_dir() and not new.exists()


# -- 12: never cut when piped, fold on a terminal, --md for tables ----------------------------
LONG_KEY = "pca_components_kept_after_whitening_for_the_featurize_stage"
LONG_VALUE = "a-value-long-enough-that-an-eighty-column-table-cannot-hold-it-whole"


def _params_project(repo: Repo, dvlite) -> None:  # type: ignore[no-untyped-def]
    import json

    (repo.root / "params.yaml").write_text(json.dumps({"featurize": {LONG_KEY: LONG_VALUE}}))
    (repo.root / "metrics.json").write_text(json.dumps({LONG_KEY: 0.5, "acc": 0.75}))
    args = ("stage", "add", "-n", "featurize", "-p", f"featurize.{LONG_KEY}", "-m", "metrics.json")
    assert dvlite(*args, "true").exit_code == 0
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "-m", "params")
    (repo.root / "params.yaml").write_text(json.dumps({"featurize": {LONG_KEY: LONG_VALUE + "-2"}}))
    (repo.root / "metrics.json").write_text(json.dumps({LONG_KEY: 0.25, "acc": 0.75}))


def test_piped_tables_show_every_value_whole(repo: Repo, dvlite) -> None:  # type: ignore[no-untyped-def]
    _params_project(repo, dvlite)
    for args in (("params", "diff", "--all"), ("metrics", "diff", "--all"), ("metrics", "show")):
        result = piped(*args)
        assert result.returncode == 0, result.stderr
        assert "…" not in result.stdout, result.stdout
        assert LONG_KEY in result.stdout, result.stdout
    assert LONG_VALUE + "-2" in piped("params", "diff").stdout


@pytest.mark.usefixtures("pipeline")
def test_piped_lineage_shows_whole_commit_ids(repo: Repo, dvlite) -> None:  # type: ignore[no-untyped-def]
    assert dvlite("repro").exit_code == 0
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "-m", "results")
    head = git(repo.root, "rev-parse", "HEAD").strip()
    shown = piped("lineage", "model.bin").stdout
    assert f"commit {head}" in shown, shown
    oid = (repo.root / "dvlite.lock").read_text().split("oid: xxh128:")[1][:32]
    assert oid in shown


def test_terminal_tables_fold_instead_of_cutting(repo: Repo, dvlite) -> None:  # type: ignore[no-untyped-def]
    _params_project(repo, dvlite)
    shown = on_terminal([sys.executable, "-m", "dvlite", "params", "diff"], COLUMNS="60")
    assert "…" not in shown
    cells = [line.split("│")[2].strip() for line in shown.splitlines() if line.count("│") > 3]
    assert f"featurize.{LONG_KEY}" in "".join(cells), shown


def test_md_prints_tables_as_markdown(repo: Repo, dvlite) -> None:  # type: ignore[no-untyped-def]
    _params_project(repo, dvlite)
    result = dvlite("params", "diff", "--md")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "| path | key | old | new | change |\n"
        "| --- | --- | ---: | ---: | ---: |\n"
        f"| params.yaml | featurize.{LONG_KEY} | {LONG_VALUE} | {LONG_VALUE}-2 | - |\n"
    )
    result = dvlite("metrics", "diff", "--md")
    assert result.stdout.splitlines()[2] == f"| metrics.json | {LONG_KEY} | 0.5 | 0.25 | -0.25 |"
    result = dvlite("metrics", "show", "--md")
    assert result.stdout.splitlines() == [
        "| revision | path | key | value |",
        "| --- | --- | --- | ---: |",
        f"| workspace | metrics.json | {LONG_KEY} | 0.25 |",
        "| workspace | metrics.json | acc | 0.75 |",
    ]


# -- 13: counts with the right plural, sizes in binary units --------------------------------------
def test_counts_say_one_object_not_one_objects(repo: Repo, dvlite, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (repo.root / "d").mkdir()
    (repo.root / "d" / "only").write_text("x")
    result = dvlite("add", "d")
    assert result.stdout == "    added d.dvl  (1 file, 1 B)\n"
    (repo.root / "d.dvl").unlink()  # keep the dir's tree out of the counts below
    (repo.root / "m").write_text("y")
    assert dvlite("add", "m").exit_code == 0
    assert dvlite("remote", "add", "-d", "store", str(tmp_path / "store")).exit_code == 0
    assert dvlite("push", "m").stdout == "1 object pushed (1 B)\n"
    assert dvlite("fsck").stdout.startswith("checked 3 objects: all good")
    assert dvlite("gc", "-w", "--dry").stderr.startswith("kept 2 unused objects (")


def test_fsck_of_one_object_says_one_object(repo: Repo, dvlite) -> None:  # type: ignore[no-untyped-def]
    (repo.root / "m").write_text("y")
    assert dvlite("add", "m").exit_code == 0
    assert dvlite("fsck").stdout == "checked 1 object: all good\n"


def test_transfer_bar_counts_bytes_in_binary_units() -> None:
    from dvlite.cli.base import Bar

    bar = Bar("Pushing")
    bar.start(1, 3 << 29)  # 1.5 GiB
    bar.advance(0, 1 << 29)
    task = bar.rich.tasks[0]
    shown = " ".join(str(column.render(task)) for column in bar.rich.columns[2:4])
    assert shown == "0/1 file 512.0 MiB/1.5 GiB", shown
    assert task.completed / task.total == pytest.approx(1 / 3, abs=0.01)  # mostly by bytes
