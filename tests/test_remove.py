from helpers import git


def test_remove_stops_tracking_and_keeps_data(repo, dvlite) -> None:
    root = repo.root
    root.joinpath("keep").write_text("k")
    root.joinpath("f").write_text("x")
    dvlite("add", "keep", "f")
    git(root, "commit", "-qm", "track")
    result = dvlite("remove", "f.dvl")
    assert result.exit_code == 0, result.output
    assert result.stdout == "removed f.dvl\n"
    assert not (root / "f.dvl").exists()
    assert root.joinpath("f").read_text() == "x"
    assert root.joinpath(".gitignore").read_text() == "/keep\n"
    assert git(root, "diff", "--cached", "--name-status").splitlines() == [
        "M\t.gitignore",
        "D\tf.dvl",
    ]
    assert dvlite("status").stdout == ""


def test_remove_by_data_path_and_last_entry_drops_gitignore(repo, dvlite) -> None:
    root = repo.root
    (root / "sub" / "d").mkdir(parents=True)
    (root / "sub" / "d" / "x").write_text("x")
    dvlite("add", "sub/d")
    git(root, "commit", "-qm", "track")
    assert dvlite("remove", "sub/d").exit_code == 0
    assert not (root / "sub" / ".gitignore").exists()
    assert git(root, "diff", "--cached", "--name-status").splitlines() == [
        "D\tsub/.gitignore",
        "D\tsub/d.dvl",
    ]
    assert (root / "sub" / "d" / "x").read_text() == "x"


def test_remove_never_committed_pointer(repo, dvlite) -> None:
    repo.root.joinpath("f").write_text("x")
    dvlite("add", "f")
    assert dvlite("remove", "f.dvl").exit_code == 0
    assert git(repo.root, "diff", "--cached", "--name-only").split() == [
        ".dvlite/.gitignore",
        ".dvlite/config",
        ".dvliteignore",
    ]


def test_remove_untracked_is_an_error(repo, dvlite) -> None:
    repo.root.joinpath("f").write_text("x")
    result = dvlite("remove", "f")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: f is not a pointer file (nothing tracks it)\n",
    )
    assert dvlite("remove").exit_code == 2


def test_remove_keeps_other_gitignore_lines(repo, dvlite) -> None:
    root = repo.root
    root.joinpath(".gitignore").write_text("*.log\n# mine\n")
    root.joinpath("f").write_text("x")
    dvlite("add", "f")
    assert root.joinpath(".gitignore").read_text() == "*.log\n# mine\n/f\n"
    dvlite("remove", "f.dvl")
    assert root.joinpath(".gitignore").read_text() == "*.log\n# mine\n"


def test_remove_without_git(tmp_dir, dvlite) -> None:
    dvlite("init", "--no-scm")
    tmp_dir.gen({"f": "x"})
    dvlite("add", "f")
    assert dvlite("remove", "f.dvl").exit_code == 0
    assert not (tmp_dir / "f.dvl").exists()
