"""Data-quality gates: a stage's checks: in repro (a failure keeps the old lock entry and caches
nothing), `dvlite check`, and their results in status, lineage and the JSON; malformed checks."""

from __future__ import annotations

import json
import shlex
import sys

import pytest
from helpers import git, object_path, oid, one_line_error

from dvlite.records import lockfile
from dvlite.records.checks import FAILURES_FILE, CheckRecord
from dvlite.records.repo import Repo

PY = shlex.quote(sys.executable)
# make.py writes out.csv; its argument is the amount of row 2 (so a bad one is one edit away)
MAKE = (
    "import sys\n"
    "open('runs.log', 'a').write('make\\n')\n"
    "open('out.csv', 'w').write('id,amount\\n1,3\\n2,' + sys.argv[1] + '\\n3,5\\n')\n"
)
EXPECT = "    - expect: out.csv\n      columns: [id, amount]\n      types: {id: int}\n"
EXPECT += "      range: {amount: {min: 0}}\n      unique: [id]\n"
BAD = (
    "out.csv: column 'amount': 1 value out of range (min 0): line 3 ('-4'); its outputs stay in "
    "the workspace, unrecorded and uncached; fix them or the stage, then run `dvlite repro` again"
)


def _stage(repo: Repo, amount: str = "4", checks: str = EXPECT) -> None:
    (repo.root / "make.py").write_text(MAKE)
    (repo.root / "dvlite.yaml").write_text(
        "stages:\n  make:\n"
        f"    cmd: {PY} make.py {amount}\n    deps: [make.py]\n    outs: [out.csv]\n"
        f"    checks:\n{checks}"
    )


def _runs(repo: Repo) -> list[str]:
    log = repo.root / "runs.log"
    found = log.read_text().split() if log.exists() else []
    log.unlink(missing_ok=True)
    return found


def test_passing_checks_are_recorded_in_the_lock(repo: Repo, dvlite) -> None:
    _stage(repo, checks="    - test -s out.csv\n" + EXPECT)
    result = dvlite("repro")
    assert result.exit_code == 0, result.output
    assert "[make] check 1/2: test -s out.csv\n[make] check 1/2 passed\n" in result.stdout
    assert "[make] check 2/2: expect out.csv\n[make] check 2/2 passed\n" in result.stdout
    entry = lockfile.load(repo.root).stages["make"]
    assert isinstance(entry.checks, CheckRecord) and entry.checks.passed == 2
    text = (repo.root / "dvlite.lock").read_text()
    assert f"  checks:\n      passed: 2\n      digest: {entry.checks.digest}\n" in text
    assert dvlite("status").stdout == "dvlite.lock\n    uncommitted:  dvlite.lock\n"
    assert json.loads(dvlite("repro", "--json").stdout)["checked"] == {}  # nothing ran again


def test_a_failing_check_fails_repro_and_keeps_the_last_run(repo: Repo, dvlite) -> None:
    _stage(repo)
    assert dvlite("repro").exit_code == 0
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "-m", "good run")
    good_lock = (repo.root / "dvlite.lock").read_bytes()
    _runs(repo)
    _stage(repo, "-4")
    result = dvlite("repro")
    assert one_line_error(result) == f"Error: stage 'make' failed a check: {BAD}"
    assert "[make] check 1/1 failed: out.csv: column 'amount'" in result.stdout
    assert _runs(repo) == ["make"]
    assert (repo.root / "dvlite.lock").read_bytes() == good_lock  # the previous entry stays
    bad = (repo.root / "out.csv").read_bytes()
    assert bad.endswith(b"2,-4\n3,5\n")  # left in the workspace to look at
    assert not object_path(repo.cache_dir, oid(bad)).exists()  # never cached
    failures = json.loads((repo.tmp_dir / FAILURES_FILE).read_text())["stages"]
    assert failures["make"]["findings"] == [BAD.split("; its outputs")[0]]
    # the stage is out of date (status says why), and runs again: the run cache has no
    # entry for a run whose checks failed, and the failure is not forgotten
    status = dvlite("status")
    assert (
        "dvlite.yaml:make\n    check failed: make (its checks failed: out.csv: column 'amount': "
        "1 value out of range (min 0): line 3 ('-4'))\n"
    ) in status.stdout
    report = json.loads(dvlite("status", "--json").stdout)
    assert {
        "path": f"make (its checks failed: {BAD.split('; its')[0]})",
        "state": "check failed",
    } in [c for t in report for c in t["changes"]]
    assert dvlite("repro").exit_code == 1
    assert _runs(repo) == ["make"]
    # fixed: it passes, is recorded, and the failure is forgotten
    _stage(repo, "4")
    result = dvlite("repro", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["restored"] == ["make"]  # the good run, from the run cache
    assert "make" not in json.loads((repo.tmp_dir / FAILURES_FILE).read_text())["stages"]
    assert dvlite("status").stdout == ""


def test_every_failing_check_is_reported(repo: Repo, dvlite) -> None:
    _stage(
        repo, "-4", checks=f"    - {PY} -c \"print('bad data'); raise SystemExit(3)\"\n" + EXPECT
    )
    result = dvlite("repro")
    assert result.exit_code == 1
    assert "[make] bad data\n" in result.stdout  # the check's output is shown as it runs
    assert result.stderr == (
        "Error: stage 'make' failed its checks (its outputs stay in the workspace, unrecorded "
        "and uncached; fix them or the stage, then run `dvlite repro` again):\n"
        f"  check `{PY} -c \"print('bad data'); raise SystemExit(3)\"` failed (exit code 3)\n"
        "  out.csv: column 'amount': 1 value out of range (min 0): line 3 ('-4')\n"
    )
    assert "make" not in lockfile.load(repo.root).stages


def test_a_check_command_that_is_missing(repo: Repo, dvlite) -> None:
    _stage(repo, checks="    - no-such-checker --strict\n")
    assert one_line_error(dvlite("repro")) == (
        "Error: stage 'make': the command of check 1 (no-such-checker --strict) was not found "
        "(exit code 127); install it, or fix the check in dvlite.yaml"
    )
    assert "make" not in lockfile.load(repo.root).stages
    assert one_line_error(dvlite("check")).startswith("Error: stage 'make': the command of check 1")


def test_check_runs_checks_alone_and_records_a_pass(repo: Repo, dvlite) -> None:
    _stage(repo)
    assert dvlite("repro").exit_code == 0
    _runs(repo)
    # a new check: the stage is out of date, and `dvlite check` settles it without a run
    _stage(repo, checks=EXPECT + "    - test -s out.csv\n")
    assert "make (its checks changed)" in dvlite("status").stdout
    result = dvlite("check")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("make: 2 checks passed (recorded in dvlite.lock)\n")
    assert _runs(repo) == []
    assert lockfile.load(repo.root).stages["make"].checks.passed == 2  # type: ignore[union-attr]
    assert dvlite("status").stdout == "dvlite.lock\n    uncommitted:  dvlite.lock\n"
    assert dvlite("check").stdout.endswith("make: 2 checks passed\n")
    # data edited by hand: the check fails (exit 1) and status remembers it
    (repo.root / "out.csv").write_text("id,amount\n1,3\n1,-2\n")
    result = dvlite("check", "make", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["passed"] is False
    (stage,) = report["stages"]
    assert stage["stage"] == "make" and stage["passed"] is False and stage["recorded"] is False
    assert stage["results"] == [
        {
            "check": "expect out.csv",
            "passed": False,
            "findings": [
                "out.csv: column 'amount': 1 value out of range (min 0): line 3 ('-2')",
                "out.csv: column 'id': 1 duplicate value: line 3 (same as line 2)",
            ],
        },
        {"check": "test -s out.csv", "passed": True, "findings": [], "code": 0, "output": []},
    ]
    human = dvlite("check", "out.csv")  # an output names its stage
    assert human.exit_code == 1
    assert human.stdout.endswith(
        "make: 1 of 2 checks failed\n"
        "    out.csv: column 'amount': 1 value out of range (min 0): line 3 ('-2')\n"
        "    out.csv: column 'id': 1 duplicate value: line 3 (same as line 2)\n"
    )
    assert (
        "check failed: make (its checks failed: out.csv: column 'amount'" in dvlite("status").stdout
    )


def test_check_names_a_stage_without_checks_or_unknown(repo: Repo, dvlite) -> None:
    (repo.root / "dvlite.yaml").write_text("stages:\n  plain: {cmd: 'true'}\n")
    assert dvlite("check").stdout == "No stage has checks.\n"
    assert one_line_error(dvlite("check", "plain")) == (
        "Error: stage 'plain' has no checks; add a 'checks:' list to it in dvlite.yaml "
        '(docs/pipelines.md, "Data-quality checks")'
    )
    assert one_line_error(dvlite("check", "nope")) == (
        "Error: 'nope' is neither a stage in dvlite.yaml nor an output of one (stages: plain)"
    )


def test_lineage_shows_the_checks(repo: Repo, dvlite) -> None:
    _stage(repo)
    assert dvlite("repro").exit_code == 0
    node = json.loads(dvlite("lineage", "out.csv", "--json").stdout)
    assert node["checks"] == {"passed": 1}
    assert "\nchecks: 1 passed\n" in dvlite("lineage", "out.csv").stdout
    _stage(repo, "-4")
    assert dvlite("repro").exit_code == 1
    node = json.loads(dvlite("lineage", "out.csv", "--json").stdout)
    assert node["checks"] == {"passed": 1, "failed": [BAD.split("; its")[0]]}
    assert "the last checks failed: out.csv: column 'amount'" in dvlite("lineage", "out.csv").stdout


def test_the_python_api(repo: Repo) -> None:
    import dvlite

    _stage(repo)
    assert dvlite.repro(repo=repo.root).checked == {"make": 1}
    events: list[tuple[str, str, str]] = []
    report = dvlite.check("make", on_event=lambda *e: events.append(e), repo=repo.root)
    assert report.passed and [s.stage for s in report.stages] == ["make"]
    assert events == [
        ("check", "make", "check 1/1: expect out.csv"),
        ("passed", "make", "check 1/1 passed"),
    ]


def test_stage_add_keeps_the_checks_of_other_stages(repo: Repo, dvlite) -> None:
    _stage(repo)
    before = (repo.root / "dvlite.yaml").read_text()
    assert dvlite("stage", "add", "-n", "other", "true").exit_code == 0
    after = (repo.root / "dvlite.yaml").read_text()
    assert "checks:\n    - expect: out.csv\n      columns:\n      - id\n" in after, after
    from dvlite.records.pipeline import load

    assert load(repo.root).stages["make"].checks[0].unique == (("id",),)
    assert "range:\n        amount:\n          min: 0\n" in after
    assert before != after


@pytest.mark.parametrize(
    ("checks", "message"),
    [
        (
            "    - {expect: out.csv, colums: [id]}\n",
            "stage 'make' check 1 has an unknown key 'colums' (known: expect, format, delimiter, "
            "encoding, columns, types, not_null, range, rows, unique)",
        ),
        (
            "    - {expect: ../elsewhere.csv}\n",
            "stage 'make' check 1: '../elsewhere.csv' is outside the repository; paths are "
            "relative to its root",
        ),
        (
            "    - {expect: /etc/passwd.csv}\n",
            "stage 'make' check 1: '/etc/passwd.csv' is outside the repository; paths are "
            "relative to its root",
        ),
        ("    - {expect: .git/config.csv}\n", None),
        (
            "    - 42\n",
            "stage 'make' check 1: must be a command (a string) or a mapping with "
            "'expect: PATH', not 42",
        ),
        ("    - ''\n", "stage 'make' check 1: a command must not be empty"),
        (
            "    - {expect: out.txt}\n",
            "stage 'make' check 1: cannot tell the format of out.txt; "
            "add 'format: csv', 'tsv' or 'parquet'",
        ),
        (
            "    - {expect: out.csv, types: {id: integer}}\n",
            "stage 'make' check 1: column 'id' has the unknown type 'integer' (known: int, float, "
            "str, bool, date)",
        ),
        (
            "    - {expect: out.csv, types: [id]}\n",
            "stage 'make' check 1: 'types' must map column names to values",
        ),
        (
            "    - {expect: out.csv, columns: id}\n",
            "stage 'make' check 1 columns: must be a list of column names",
        ),
        (
            "    - {expect: out.csv, not_null: [true]}\n",
            "stage 'make' check 1 not_null: a column name must be a string, not True",
        ),
        (
            "    - {expect: out.csv, range: {amount: {min: 5, max: 1}}}\n",
            "stage 'make' check 1 range of 'amount': 'min' (5) is above 'max' (1)",
        ),
        (
            "    - {expect: out.csv, range: {amount: {low: 1}}}\n",
            "stage 'make' check 1 range of 'amount': must be a mapping with 'min', 'max' or both",
        ),
        (
            "    - {expect: out.csv, range: {amount: {min: one}}}\n",
            "stage 'make' check 1 range of 'amount': bounds must be numbers or dates, not 'one'",
        ),
        (
            "    - {expect: out.csv, rows: {min: 1.5}}\n",
            "stage 'make' check 1 rows: must be whole numbers, 0 or more, not 1.5",
        ),
        (
            "    - {expect: out.csv, rows: -1}\n",
            "stage 'make' check 1 rows: must be whole numbers, 0 or more, not -1",
        ),
        (
            "    - {expect: out.csv, unique: [[]]}\n",
            "stage 'make' check 1 unique: a key needs at least one column",
        ),
        (
            "    - {expect: out.csv, delimiter: '::'}\n",
            "stage 'make' check 1: 'delimiter' must be one character, not '::'",
        ),
        (
            "    - {expect: out.csv, encoding: klingon}\n",
            "stage 'make' check 1: unknown 'encoding' 'klingon'",
        ),
    ],
)
def test_malformed_checks(repo: Repo, dvlite, checks: str, message: str | None) -> None:
    _stage(repo, checks=checks)
    line = one_line_error(dvlite("repro"))
    if message is None:  # a crafted path: refused, whatever the wording
        assert line.startswith("Error: dvlite.yaml: stage 'make' check 1: '.git/config.csv' ")
    else:
        assert line == f"Error: dvlite.yaml: {message}"
    (repo.root / "dvlite.yaml").write_text(
        "stages:\n  make:\n    cmd: 'true'\n    checks: test -s x\n"
    )
    assert one_line_error(dvlite("check")) == (
        "Error: dvlite.yaml: stage 'make': 'checks' must be a list of commands and expectations"
    )
