import pytest

from dvlite.records.config import Config, user_config_path


def test_set_get_unset(repo, dvlite) -> None:
    assert dvlite("config", "cache.type", "hardlink,copy").exit_code == 0
    assert (repo.dvlite_dir / "config").read_text() == "[core]\n\n[cache]\ntype = hardlink,copy\n\n"
    assert dvlite("config", "cache.type").stdout == "hardlink,copy\n"
    assert dvlite("config", "--unset", "cache.type").exit_code == 0
    result = dvlite("config", "cache.type")
    assert (result.exit_code, result.stdout) == (1, "")
    result = dvlite("config", "--unset", "cache.type")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: cache.type is not set in the repo config\n",
    )


def test_remote_keys(repo, dvlite) -> None:
    assert dvlite("config", "remote.store.url", "s3://bucket/x").exit_code == 0
    assert '[remote "store"]\nurl = s3://bucket/x\n' in (repo.dvlite_dir / "config").read_text()
    assert dvlite("config", "remote.store.url").stdout == "s3://bucket/x\n"


def test_precedence_local_over_repo_over_user(repo, dvlite) -> None:
    assert dvlite("config", "--global", "cache.dir", "/user").exit_code == 0
    assert user_config_path().read_text() == "[cache]\ndir = /user\n\n"
    assert dvlite("config", "cache.dir").stdout == "/user\n"
    dvlite("config", "cache.dir", "/repo")
    assert dvlite("config", "cache.dir").stdout == "/repo\n"
    dvlite("config", "--local", "cache.dir", "/local")
    assert dvlite("config", "cache.dir").stdout == "/local\n"
    assert (repo.dvlite_dir / "config.local").read_text() == "[cache]\ndir = /local\n\n"
    result = dvlite("config", "--list")
    assert result.stdout == "cache.dir=/local\n"
    dvlite("config", "--local", "--unset", "cache.dir")
    assert dvlite("config", "cache.dir").stdout == "/repo\n"


def test_list(repo, dvlite) -> None:
    dvlite("config", "core.autostage", "false")
    dvlite("config", "remote.s.url", "/tmp/x")
    assert dvlite("config", "-l").stdout == "core.autostage=false\nremote.s.url=/tmp/x\n"


@pytest.mark.parametrize("key", ["nosection", "bogus.key", "remote.url", "a.b.c.d", "core.", ".x"])
def test_unknown_key_forms(repo, dvlite, key) -> None:
    result = dvlite("config", key, "v")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: unknown config key {key!r}: "
        "use SECTION.OPTION (core, cache, state, hooks, model) or remote.NAME.OPTION\n"
    )


def test_malformed_config_file(repo, dvlite) -> None:
    (repo.dvlite_dir / "config").write_text("this is not ini\n")
    for args in (("config", "cache.type"), ("status",), ("add", "x")):
        result = dvlite(*args)
        assert result.exit_code == 1, args
        assert result.stderr.startswith(
            f"Error: malformed config file {repo.dvlite_dir / 'config'}: "
        )
        assert result.stderr.count("\n") == 1


def test_bad_values(repo, dvlite) -> None:
    repo.root.joinpath("f").write_text("x")
    Config(repo.dvlite_dir).set("cache.type", "teleport")  # by hand: `config` refuses it
    result = dvlite("add", "f")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: cache.type 'teleport': "
        "each link type must be one of reflink, copy, hardlink, symlink\n"
    )
    dvlite("config", "cache.type", "copy")
    Config(repo.dvlite_dir).set("core.autostage", "maybe")
    result = dvlite("add", "f")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: core.autostage must be true or false, not 'maybe'\n",
    )


def test_cache_dir_relative_to_root_and_shared(repo, dvlite, monkeypatch) -> None:
    dvlite("config", "cache.dir", "../shared-cache")
    (repo.root / "sub").mkdir()
    (repo.root / "sub" / "f").write_text("x")
    monkeypatch.chdir(repo.root / "sub")
    assert dvlite("add", "f").exit_code == 0
    assert (repo.root.parent / "shared-cache" / "objects").is_dir()
    assert not (repo.dvlite_dir / "cache").exists()


def test_global_outside_a_repo(tmp_dir, dvlite) -> None:
    assert dvlite("config", "--global", "core.autostage", "false").exit_code == 0
    assert dvlite("config", "core.autostage").stdout == "false\n"
    result = dvlite("config", "core.autostage", "true")
    assert result.exit_code == 1
    assert "run `dvlite init` first" in result.stderr
    assert Config(None).get("core.autostage") == "false"
