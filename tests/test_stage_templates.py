"""Templates in dvlite.yaml, DVC's syntax, end to end through the CLI: vars, ``${...}`` from
params.yaml and vars, foreach (list and mapping), matrix, and crafted input refused with one
Error line."""

from __future__ import annotations

import json

from helpers import git

from dvlite.records import lockfile
from dvlite.records.repo import Repo
from dvlite.records.templating import MAX_GENERATED

FAMILIES = """\
vars:
  - conf.yaml:model
  - {out: results}
stages:
  prep:
    foreach: ${regions}
    do:
      cmd: echo ${item} ${train.lr} > ${out}/${item}.txt
      outs:
        - ${out}/${item}.txt
  fit:
    foreach:
      small: {depth: 2}
      big: {depth: 8}
    do:
      cmd: echo ${key} ${item.depth} ${model.kind} > fit-${key}.txt
      deps:
        - ${out}/us.txt
      outs:
        - fit-${key}.txt
  grid:
    matrix:
      lr: ${lrs}
      layers: [1, 2]
    cmd: echo ${item.lr} ${item.layers} > grid-${key}.txt
    outs:
      - grid-${key}.txt: {cache: false}
"""


def _setup(repo: Repo, text: str = FAMILIES) -> None:
    (repo.root / "params.yaml").write_text(
        "train: {lr: 0.1}\nregions: [us, eu]\nlrs: [0.1, 0.01]\n"
    )
    (repo.root / "conf.yaml").write_text("model: {kind: tree}\nother: 1\n")
    (repo.root / "results").mkdir(exist_ok=True)
    (repo.root / "dvlite.yaml").write_text(text)


def _ok(result) -> str:
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_foreach_and_matrix_make_named_stages(repo: Repo, dvlite) -> None:
    _setup(repo)
    names = [row["name"] for row in json.loads(_ok(dvlite("stage", "list", "--json")))]
    assert names == [
        "prep@us", "prep@eu", "fit@small", "fit@big",
        "grid@0.1-1", "grid@0.1-2", "grid@0.01-1", "grid@0.01-2",
    ]  # fmt: skip
    _ok(dvlite("repro"))
    assert (repo.root / "results" / "us.txt").read_text() == "us 0.1\n"
    assert (repo.root / "fit-big.txt").read_text() == "big 8 tree\n"
    assert (repo.root / "grid-0.01-2.txt").read_text() == "0.01 2\n"
    lock = lockfile.load(repo.root)
    assert lock.stages["prep@eu"].cmd == "echo eu 0.1 > results/eu.txt"
    assert [o.path for o in lock.stages["grid@0.1-1"].metrics] == ["grid-0.1-1.txt"]
    assert dvlite("repro").stdout == "Everything is up to date.\n"
    # a changed value changes the command: the stages that use it run again
    (repo.root / "params.yaml").write_text(
        "train: {lr: 0.2}\nregions: [us, eu]\nlrs: [0.1, 0.01]\n"
    )
    dry = _ok(dvlite("repro", "--dry")).splitlines()
    assert "would run  prep@us  (command changed)" in dry
    assert "would run  fit@small  (upstream stage 'prep@us' runs)" in dry
    assert "up to date  grid@0.1-1" in dry
    # the family's name selects every stage it makes
    _ok(dvlite("repro", "prep"))
    assert (repo.root / "results" / "eu.txt").read_text() == "eu 0.2\n"
    assert "up to date  prep@eu" in _ok(dvlite("repro", "--dry"))


def test_a_list_of_mappings_is_named_by_index(repo: Repo, dvlite) -> None:
    _setup(
        repo,
        "stages:\n  s:\n    foreach:\n      - {name: a, n: 1}\n      - {name: b, n: 2}\n"
        "    do:\n      cmd: echo ${item.n} > ${item.name}.txt\n      outs:\n"
        "        - ${item.name}.txt\n",
    )
    _ok(dvlite("repro"))
    assert [r["name"] for r in json.loads(_ok(dvlite("stage", "list", "--json")))] == [
        "s@0",
        "s@1",
    ]
    assert (repo.root / "b.txt").read_text() == "2\n"


def test_lineage_at_a_revision_reads_the_vars_of_that_revision(repo: Repo, dvlite) -> None:
    _setup(repo)
    _ok(dvlite("repro"))
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "-m", "families")
    (repo.root / "conf.yaml").unlink()  # the workspace can no longer resolve; HEAD can
    node = json.loads(_ok(dvlite("lineage", "fit-big.txt", "--rev", "HEAD", "--json")))
    assert (node["stage"], node["cmd"]) == ("fit@big", "echo big 8 tree > fit-big.txt")
    result = dvlite("repro", "--dry")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: dvlite.yaml vars: conf.yaml does not exist\n",
    )


def test_stage_add_keeps_the_templates(repo: Repo, dvlite) -> None:
    _setup(repo)
    _ok(
        dvlite(
            "stage",
            "add",
            "-n",
            "extra",
            "-d",
            "fit-big.txt",
            "-o",
            "e.txt",
            "cp fit-big.txt e.txt",
        )
    )
    text = (repo.root / "dvlite.yaml").read_text()
    assert "foreach: ${regions}" in text and "lr: ${lrs}" in text and "conf.yaml:model" in text
    assert "extra" in json.dumps(json.loads(_ok(dvlite("stage", "list", "--json"))))
    result = dvlite("stage", "add", "-f", "-n", "prep", "true")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: stage 'prep' is written as a foreach or matrix in dvlite.yaml; edit it there\n",
    )
    result = dvlite("stage", "add", "-n", "x@y", "true")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: bad stage name 'x@y'; use letters, digits, '_', '-' and '.'\n",
    )


def test_escapes_and_types(repo: Repo, dvlite) -> None:
    _setup(
        repo,
        "vars:\n  - {flag: true, n: 3, word: hi}\nstages:\n  s:\n"
        "    cmd: echo \\${HOME:+set} ${flag} ${n} ${word} ${train[lr]} > o.txt\n"
        "    outs: [o.txt]\n",
    )
    _ok(dvlite("repro"))
    assert (repo.root / "o.txt").read_text() == "set true 3 hi 0.1\n"


def test_crafted_and_malformed_templates(repo: Repo, dvlite) -> None:
    big = "[" + ", ".join(str(i) for i in range(10)) + "]"
    cases = {
        "stages:\n  s:\n    cmd: echo ${undefined}\n": (
            "Error: dvlite.yaml: stage 's' cmd: ${undefined} is not defined in params.yaml or "
            "vars; define it, or write \\${...} for a literal ${...}\n"
        ),
        "stages:\n  s:\n    cmd: echo ${train.nope}\n": (
            "Error: dvlite.yaml: stage 's' cmd: ${train.nope} is not defined in params.yaml or "
            "vars; define it, or write \\${...} for a literal ${...}\n"
        ),
        "stages:\n  s:\n    foreach: 3\n    do: {cmd: 'true'}\n": (
            "Error: dvlite.yaml: stage 's' foreach must be a list or a mapping, not int\n"
        ),
        "stages:\n  s:\n    foreach: ${train.lr}\n    do: {cmd: 'true'}\n": (
            "Error: dvlite.yaml: stage 's' foreach must be a list or a mapping, not float\n"
        ),
        "vars:\n  - {p: ../x}\nstages:\n  s:\n    cmd: 'true'\n    deps:\n      - ${p}\n": (
            "Error: dvlite.yaml: stage 's' deps: '../x' is outside the repository; paths are "
            "relative to its root\n"
        ),
        "stages:\n  s:\n    foreach: [../../etc]\n    do: {cmd: 'true'}\n": (
            "Error: dvlite.yaml: stage 's': '../../etc' cannot be part of a stage name (s@...); "
            "use letters, digits and _ . , + = - (a mapping names each stage by its key)\n"
        ),
        f"vars:\n  - {{r: {big}}}\nstages:\n  s:\n    matrix: {{a: '${{r}}', b: '${{r}}', "
        "c: '${r}', d: '${r}'}\n    cmd: 'true'\n": (
            "Error: dvlite.yaml: stage 's' would make 10000 stages; one foreach or matrix may "
            f"make at most {MAX_GENERATED}\n"
        ),
        "stages:\n  s:\n    foreach: [a, a]\n    do: {cmd: 'true'}\n": (
            "Error: dvlite.yaml: stage 's' makes the stage 's@a' twice\n"
        ),
        "stages:\n  s:\n    cmd: echo ${train}\n": (
            "Error: dvlite.yaml: stage 's' cmd: ${train} is a mapping; only a string, number "
            "or bool can be part of a string\n"
        ),
        "vars: [nofile.yaml]\nstages:\n  s:\n    cmd: 'true'\n": (
            "Error: dvlite.yaml vars: nofile.yaml does not exist\n"
        ),
        "vars: [../../etc/passwd]\nstages:\n  s:\n    cmd: 'true'\n": (
            "Error: dvlite.yaml vars: '../../etc/passwd' is outside the repository; paths are "
            "relative to its root\n"
        ),
        "vars: [{train: 1}]\nstages:\n  s:\n    cmd: 'true'\n": (
            "Error: dvlite.yaml: vars[0] cannot redefine 'train': params.yaml already defines it\n"
        ),
        "vars: [{a: '${train}'}]\nstages:\n  s:\n    cmd: 'true'\n": (
            "Error: dvlite.yaml vars[0]: interpolation is not allowed in vars\n"
        ),
        "vars: [conf.yaml:missing]\nstages:\n  s:\n    cmd: 'true'\n": (
            "Error: dvlite.yaml vars: conf.yaml has no key 'missing'\n"
        ),
        "stages:\n  s:\n    foreach: [a]\n    cmd: 'true'\n": (
            "Error: dvlite.yaml: stage 's': a foreach stage has only 'foreach' and 'do' (the "
            "stage to make for each item); move 'cmd' under 'do'\n"
        ),
        "stages:\n  s:\n    matrix: {a: 1}\n    cmd: 'true'\n": (
            "Error: dvlite.yaml: stage 's' matrix: 'a' must be a list, not int\n"
        ),
        "stages:\n  s@x: {cmd: 'true'}\n": (
            "Error: dvlite.yaml: bad stage name 's@x'; use letters, digits, '_', '-' and '.'\n"
        ),
        "vars: []\nstagez: {}\n": (
            "Error: malformed dvlite.yaml: unknown key 'stagez' (known: stages, vars)\n"
        ),
    }
    for text, message in cases.items():
        _setup(repo, text)
        result = dvlite("repro", "--dry")
        assert (result.exit_code, result.stderr) == (1, message), text


def test_repeated_yaml_aliases_are_bounded(repo: Repo, dvlite) -> None:
    layers = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        prev = chr(ord("a") + i - 1)
        layers.append(f"{chr(ord('a') + i)}: &{chr(ord('a') + i)} [{', '.join(['*' + prev] * 10)}]")
    _setup(  # 10**8 values once the aliases are followed; a few hundred bytes of YAML
        repo,
        "vars:\n  - {x: 1}\nstages:\n  s:\n    cmd: echo ${x}\n    meta:\n"
        + "\n".join("      " + line for line in layers)
        + "\n      all: *h\n",
    )
    result = dvlite("repro", "--dry")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: dvlite.yaml: too large to resolve (over 200000 values visited); is a YAML "
        "alias repeated?\n",
    )
