"""Credentials never reach the terminal, a CI log or the committed config: listings and error
messages mask them, the committed .dvlite/config refuses them, the files that hold them are
private (0600), and a config file that is not UTF-8 is one clear error, not a traceback."""

from __future__ import annotations

import json
import os
import stat

import pytest

from dvlite import secrets
from dvlite.records.config import user_config_path

SECRET = "hunter2"
URL = f"http://user:{SECRET}@127.0.0.1:9/x"  # nothing listens on port 9 (discard)
HINT = (
    "it would be committed in .dvlite/config; "
    "use --local (written to .dvlite/config.local, git-ignored)"
)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def with_secrets(repo, dvlite):
    """A repository with an S3 remote whose credentials are in config.local, and an http
    remote whose URL carries a password."""
    for args in (
        ("remote", "add", "-d", "s3", "s3://bucket/prefix"),
        ("remote", "modify", "s3", "region", "eu-west-1"),
        ("remote", "modify", "--local", "s3", "access_key_id", "AKIAEXAMPLE"),
        ("remote", "modify", "--local", "s3", "secret_access_key", SECRET),
        ("remote", "modify", "--local", "s3", "session_token", SECRET + "-token"),
        ("remote", "add", "--local", "web", URL),
        ("config", "--local", "remote.web.api_key", SECRET + "-key"),
        ("config", "--global", "remote.web.password", SECRET + "-pw"),
    ):
        result = dvlite(*args)
        assert (result.exit_code, result.output) == (0, ""), args
    return repo


# -- masking ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("sftp://user:pw@host/path", "sftp://user:****@host/path"),
        ("https://user:p@ss@host:8080/a?b#c", "https://user:****@host:8080/a?b#c"),
        ("https://user@host/path", "https://user@host/path"),
        ("s3://bucket/prefix", "s3://bucket/prefix"),
        ("../store", "../store"),
        ("http://host/a:b@c", "http://host/a:b@c"),  # an '@' in the path is no password
    ],
)
def test_mask_url(url, masked) -> None:
    assert secrets.mask_url(url) == masked


@pytest.mark.parametrize(
    ("option", "secret"),
    [
        ("secret_access_key", True),
        ("session_token", True),
        ("password", True),
        ("account_key", True),
        ("client_secret", True),
        ("sas_token", True),
        ("api_key", True),
        ("access_key_id", False),  # an identifier, shown (as AWS does)
        ("endpoint_url", False),
        ("region", False),
        ("profile", False),
    ],
)
def test_which_options_are_credentials(option, secret) -> None:
    assert secrets.is_secret(option) is secret


def test_config_list_masks_credentials_and_url_passwords(with_secrets, dvlite) -> None:
    result = dvlite("config", "-l")
    assert result.exit_code == 0
    assert SECRET not in result.output
    assert result.stdout.splitlines() == [
        "core.remote=s3",
        "remote.s3.access_key_id=AKIAEXAMPLE",
        "remote.s3.format=2",
        "remote.s3.region=eu-west-1",
        "remote.s3.secret_access_key=****",
        "remote.s3.session_token=****",
        "remote.s3.url=s3://bucket/prefix",
        "remote.web.api_key=****",
        "remote.web.format=2",
        "remote.web.password=****",
        "remote.web.url=http://user:****@127.0.0.1:9/x",
    ]


def test_config_key_asked_for_by_name_prints_it(with_secrets, dvlite) -> None:
    # as git config does: a script that asks for one key by name gets its value
    result = dvlite("config", "remote.s3.secret_access_key")
    assert (result.exit_code, result.stdout) == (0, f"{SECRET}\n")


def test_remote_list_masks_url_passwords_and_credentials(with_secrets, dvlite) -> None:
    result = dvlite("remote", "list")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "s3\ts3://bucket/prefix  (default)\nweb\thttp://user:****@127.0.0.1:9/x\n"
    )
    result = dvlite("remote", "list", "--json")
    assert result.exit_code == 0
    assert SECRET not in result.output
    assert json.loads(result.stdout) == [
        {
            "name": "s3",
            "url": "s3://bucket/prefix",
            "access_key_id": "AKIAEXAMPLE",
            "format": "2",
            "region": "eu-west-1",
            "secret_access_key": "****",
            "session_token": "****",
            "default": True,
        },
        {
            "name": "web",
            "url": "http://user:****@127.0.0.1:9/x",
            "api_key": "****",
            "format": "2",
            "password": "****",
            "default": False,
        },
    ]


@pytest.mark.parametrize("as_json", [False, True])
def test_failing_push_never_shows_the_url_password(with_secrets, dvlite, as_json) -> None:
    (with_secrets.root / "f").write_text("data")
    assert dvlite("add", "f").exit_code == 0
    result = dvlite("push", "-r", "web", *(["--json"] if as_json else []))
    assert result.exit_code == 1
    assert SECRET not in result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("Error: remote 'web' (http://user:****@127.0.0.1:9/x)")
    assert len(result.stderr.splitlines()) == 1


# -- refusing to commit a credential ---------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "key", "what"),
    [
        (
            ("remote", "modify", "s3", "secret_access_key", "X"),
            "secret_access_key",
            "is a credential",
        ),
        (("remote", "modify", "s3", "session_token", "X"), "session_token", "is a credential"),
        (("config", "remote.s3.secret_access_key", "X"), "secret_access_key", "is a credential"),
        (("config", "remote.s3.client_secret", "X"), "client_secret", "is a credential"),
        (("remote", "modify", "s3", "url", URL), "url", "holds a password"),
        (("config", "remote.s3.url", URL), "url", "holds a password"),
        (("remote", "add", "s3", URL, "--force"), "url", "holds a password"),
        (("remote", "add", "other", URL), "url", "holds a password"),
    ],
)
def test_credential_is_refused_in_the_committed_config(repo, dvlite, args, key, what) -> None:
    assert dvlite("remote", "add", "s3", "s3://bucket/prefix").exit_code == 0
    config = repo.dvlite_dir / "config"
    before = config.read_bytes()
    result = dvlite(*args)
    name = "other" if "other" in args else "s3"
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        f"Error: `remote.{name}.{key}` {what}: {HINT}\n",
    )
    assert config.read_bytes() == before
    assert not (repo.dvlite_dir / "config.local").exists()


def test_credential_goes_to_config_local_with_local(repo, dvlite) -> None:
    assert dvlite("remote", "add", "s3", "s3://bucket/prefix").exit_code == 0
    before = (repo.dvlite_dir / "config").read_bytes()
    assert dvlite("remote", "modify", "--local", "s3", "secret_access_key", SECRET).exit_code == 0
    assert dvlite("remote", "add", "--local", "web", URL).exit_code == 0
    assert (repo.dvlite_dir / "config").read_bytes() == before
    assert SECRET in (repo.dvlite_dir / "config.local").read_text()


# -- private files ---------------------------------------------------------------------------
def test_config_local_and_user_config_are_private(repo, dvlite) -> None:
    local = repo.dvlite_dir / "config.local"
    assert dvlite("config", "--local", "cache.type", "copy").exit_code == 0
    assert mode(local) == 0o600
    os.chmod(local, 0o644)  # made by an older dvlite, or by hand
    assert dvlite("remote", "add", "--local", "web", URL).exit_code == 0
    assert mode(local) == 0o600
    assert dvlite("config", "--global", "cache.type", "copy").exit_code == 0
    assert mode(user_config_path()) == 0o600
    assert mode(repo.dvlite_dir / "config") == 0o644 & ~_umask()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


# -- undecodable config files ----------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [("status",), ("push",), ("config", "-l"), ("config", "core.remote"), ("remote", "list")],
)
@pytest.mark.parametrize("which", ["config", "config.local", "global"])
def test_config_that_is_not_utf8_is_one_error(repo, dvlite, args, which) -> None:
    path = user_config_path() if which == "global" else repo.dvlite_dir / which
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"[core]\nremote = caf\xe9\n")
    result = dvlite(*args)
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        f"Error: cannot read {path}: not valid UTF-8 (byte 0xe9 at position 19); "
        "fix or delete it\n",
    )
