"""Which settings are credentials, and how they are shown: one rule for every listing, report
and error message, so a secret typed once never reaches a terminal, a CI log or a bug report.
A credential is an option named in ``SECRET_OPTIONS`` or ending in ``_secret``, ``password``,
``token`` or ``key``, or a URL's password; ``access_key_id`` is an identifier, like a user
name, so it is shown (AWS prints it too)."""

from __future__ import annotations

import re

MASK = "****"
SECRET_OPTIONS = ("secret_access_key", "session_token", "password", "account_key", "token")
_SECRET_ENDINGS = ("_secret", "password", "token", "key")


def is_secret(option: str) -> bool:
    """True for an option whose value is a credential (``secret_access_key``, ``sas_key``)."""
    option = option.lower()
    return option in SECRET_OPTIONS or option.endswith(_SECRET_ENDINGS)


def url_password(url: str) -> str | None:
    """The password in ``scheme://user:password@host/...``, or None when there is none."""
    scheme, sep, rest = url.partition("://")
    netloc = re.split("[/?#]", rest, maxsplit=1)[0]
    password = netloc.rpartition("@")[0].partition(":")[2]
    return password if scheme and sep and password else None


def scrub(text: str, url: str) -> str:
    """``text`` with the password of ``url`` masked wherever it appears as ``:password@``
    (in the URL itself, and in the paths a storage library builds from it)."""
    password = url_password(url)
    return text.replace(f":{password}@", f":{MASK}@") if password else text


def mask_url(url: str) -> str:
    """``sftp://user:pw@host/p`` -> ``sftp://user:****@host/p``; other URLs are unchanged."""
    return scrub(url, url)


def shown(option: str, value: str) -> str:
    """How a setting is shown in a listing: credentials as ``****``, URLs without password."""
    return MASK if is_secret(option) else mask_url(value)
