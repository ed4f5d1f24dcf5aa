"""`remote rename` and `config --list --json`: every config level, credentials masked."""

from __future__ import annotations

import json

from helpers import ok, one_line_error

import dvlite as dv
from dvlite.records.config import user_config_path
from dvlite.records.repo import Repo


def test_rename_moves_every_level_and_the_default(repo: Repo, dvlite, tmp_path) -> None:
    ok(dvlite("remote", "add", "-d", "store", str(tmp_path / "r")))
    ok(dvlite("remote", "modify", "--local", "store", "secret_access_key", "s3cr3t"))
    ok(dvlite("config", "--local", "core.remote", "store"))
    result = ok(dvlite("remote", "rename", "store", "backup"))
    assert result.stdout == (
        "renamed remote 'store' to 'backup' in .dvlite/config, .dvlite/config.local\n"
    )
    committed = (repo.dvlite_dir / "config").read_text()
    local = (repo.dvlite_dir / "config.local").read_text()
    assert '[remote "backup"]' in committed and "store" not in committed
    assert "remote = backup" in committed
    assert '[remote "backup"]\nsecret_access_key = s3cr3t' in local
    assert "remote = backup" in local and "store" not in local
    assert ok(dvlite("remote", "default")).stdout == "backup\n"
    listed = json.loads(ok(dvlite("remote", "list", "--json")).stdout)
    assert [(r["name"], r["default"]) for r in listed] == [("backup", True)]


def test_rename_keeps_another_default(repo: Repo, dvlite, tmp_path) -> None:
    ok(dvlite("remote", "add", "-d", "main", str(tmp_path / "a")))
    ok(dvlite("remote", "add", "other", str(tmp_path / "b")))
    assert dv.remote_rename("other", "spare", repo=repo.root) == ["repo"]
    assert ok(dvlite("remote", "default")).stdout == "main\n"
    assert sorted(dv.remotes(repo=repo.root)) == ["main", "spare"]


def test_rename_refusals(repo: Repo, dvlite, tmp_path) -> None:
    ok(dvlite("remote", "add", "a", str(tmp_path / "a")))
    ok(dvlite("remote", "add", "b", str(tmp_path / "b")))
    assert one_line_error(dvlite("remote", "rename", "nope", "x")) == (
        "Error: no remote named 'nope'; `dvlite remote list` shows the remotes"
    )
    assert one_line_error(dvlite("remote", "rename", "a", "b")) == (
        "Error: remote 'b' already exists; remove it first (`dvlite remote remove b`) "
        "or choose another name"
    )
    assert one_line_error(dvlite("remote", "rename", "a", "no/slash")) == (
        "Error: bad remote name 'no/slash': use letters, digits, '_', '-' and '.'"
    )
    assert '[remote "a"]' in (repo.dvlite_dir / "config").read_text()  # nothing changed


def test_rename_of_a_user_level_remote_needs_global(repo: Repo, dvlite, tmp_path) -> None:
    ok(dvlite("config", "--global", "remote.shared.url", str(tmp_path / "s")))
    error = one_line_error(dvlite("remote", "rename", "shared", "team"))
    assert error == (
        f"Error: remote 'shared' is defined in your user config ({user_config_path()}), which "
        "other repositories share; use --global to rename it there"
    )
    ok(dvlite("remote", "rename", "--global", "shared", "team"))
    assert '[remote "team"]' in user_config_path().read_text()


def test_config_list_json_shows_levels_and_masks_credentials(repo: Repo, dvlite) -> None:
    ok(dvlite("config", "--global", "cache.type", "copy"))
    ok(dvlite("config", "core.autostage", "false"))
    ok(dvlite("remote", "add", "s", "s3://bucket/x"))
    ok(dvlite("remote", "modify", "--local", "s", "secret_access_key", "s3cr3t"))
    ok(dvlite("remote", "add", "--local", "p", "sftp://me:pw@host/x"))
    rows = json.loads(ok(dvlite("config", "--list", "--json")).stdout)
    assert rows == [
        {"key": "cache.type", "value": "copy", "level": "global"},
        {"key": "core.autostage", "value": "false", "level": "repo"},
        {"key": "remote.p.format", "value": "2", "level": "local"},
        {"key": "remote.p.url", "value": "sftp://me:****@host/x", "level": "local"},
        {"key": "remote.s.format", "value": "2", "level": "repo"},
        {"key": "remote.s.secret_access_key", "value": "****", "level": "local"},
        {"key": "remote.s.url", "value": "s3://bucket/x", "level": "repo"},
    ]
    ok(dvlite("config", "--local", "core.autostage", "true"))  # the level that wins is shown
    rows = json.loads(ok(dvlite("config", "-l", "--json")).stdout)
    assert {"key": "core.autostage", "value": "true", "level": "local"} in rows
    plain = ok(dvlite("config", "-l")).stdout
    assert "remote.s.secret_access_key=****\n" in plain and "s3cr3t" not in plain


def test_config_json_without_list_is_a_usage_error(repo: Repo, dvlite) -> None:
    result = dvlite("config", "--json", "core.remote")
    assert result.exit_code == 2
    assert "--json goes with --list" in result.stderr
