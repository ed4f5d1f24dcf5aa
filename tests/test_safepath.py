"""The one path check (dvlite/safepath.py), value by value; test_untrusted.py attacks it end
to end through clones and remotes."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dvlite.errors import PathError
from dvlite.safepath import (
    MAX_DEPTH,
    Confined,
    is_plain,
    is_plain_names,
    name_problem,
    rel_problem,
)

REFUSED_NAMES = [
    "", ".", "..", "a/b", "a\x00b", "x" * 256, "\ud800",
    ".git", ".GIT", ".Git", ".git.", ".git ", ".git. .", "git~1", "GIT~1",
    ".git::$INDEX_ALLOCATION", ".g\u200cit", "\u200d.git", ".git\ufeff", "a\\.git",
    ".dvlite", ".DVLITE", "dvlite~1", ".dvlite.",
]  # fmt: skip
ACCEPTED_NAMES = [
    "a", "data.csv", ".gitignore", ".github", ".gitattributes", "git", "git~2", ".dvl",
    "café", "é" * 127, "x" * 255, "a b", "~x", ".hidden", "a.git", "gitx~1",
]  # fmt: skip


@pytest.mark.parametrize("name", REFUSED_NAMES, ids=ascii)
def test_names_git_and_dvlite_would_read_as_theirs_are_refused(name: str) -> None:
    assert name_problem(name) is not None


@pytest.mark.parametrize("name", ACCEPTED_NAMES, ids=ascii)
def test_ordinary_names_pass(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize(
    "rel",
    ["/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", "a/", ".git/hooks", "d/.GIT/config",
     "x/.dvlite/cache", "a" + "/a" * MAX_DEPTH],
)  # fmt: skip
def test_paths_that_leave_the_data_are_refused(rel: str) -> None:
    assert rel_problem(rel) is not None


def test_paths_at_the_depth_limit_pass() -> None:
    assert rel_problem("data/train/cats/1.jpg") is None
    assert rel_problem("/".join(["a"] * MAX_DEPTH)) is None


def test_confined_refuses_a_folder_reached_through_a_symlink(tmp_path) -> None:
    (tmp_path / "real").mkdir()
    os.symlink("real", tmp_path / "link")
    os.symlink("..", tmp_path / "up")
    where = Confined(tmp_path)
    assert where.target("real/x") == f"{os.path.realpath(tmp_path)}/real/x"
    for rel in ("link/x", "up/x", "real/../x", ".git/config"):
        with pytest.raises(PathError, match="refusing to write"):
            where.target(rel)


@given(st.lists(st.text(alphabet=st.characters(max_codepoint=127), min_size=1), min_size=1))
def test_a_folder_of_names_is_plain_when_each_of_them_is(names: list[str]) -> None:
    """The one match a workspace scan makes for a whole folder agrees with each name's own."""
    names = [n for n in names if "/" not in n] or ["x"]
    assert bool(is_plain_names("/".join(names))) == all(is_plain(n) for n in names)
