from dvlite.records.repo import Repo


def test_add_status_checkout_round_trip(repo: Repo, dvlite) -> None:
    root = repo.root
    (root / "data" / "a").mkdir(parents=True)
    (root / "data" / "a" / "one.txt").write_text("one")
    (root / "data" / "two.txt").write_text("two")

    result = dvlite("add", "data")
    assert result.exit_code == 0, result.output
    assert (root / "data.dvl").read_text().startswith("version: 1\npath: data\nkind: dir\n")

    assert dvlite("status").stdout == ""
    (root / "data" / "two.txt").write_text("changed")
    result = dvlite("status", "-q")
    assert (result.exit_code, result.stdout) == (1, "")

    result = dvlite("checkout")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: checkout would overwrite")
    assert dvlite("checkout", "--force").exit_code == 0
    assert (root / "data" / "two.txt").read_text() == "two"
