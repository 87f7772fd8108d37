"""The storage URL: `${NAME}` read from the environment, URLs that would leak a password, sqlite paths."""

from __future__ import annotations

import os
import re
import urllib.parse
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from ..redact import mask_configured_url


def expand_environment(url: str) -> str:
    """`${NAME}` in the storage URL is the environment variable NAME: a password stays out of the file."""

    def value_of(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in os.environ:
            raise ValueError(f"the environment variable {name} named in the URL (${{{name}}}) is not set")
        return urllib.parse.quote(os.environ[name], safe="")

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", value_of, url)


def store_url_problem(url: str) -> str | None:
    """What makes a store URL unusable in a way that would leak its password, or None.

    SQLAlchemy ends the password at its first `@`: with an unescaped `@` in it, the rest of the password
    is read as the host, which the database driver then prints in every connection error."""
    try:
        host = make_url(url).host or ""
    except ArgumentError:
        return f"cannot read {mask_configured_url(url)} as a database URL"
    if "@" in host:
        return (
            f"the user name or password in {mask_configured_url(url)} holds an @: write it as %40 "
            "(unescaped, the database would be looked for at a host made of the rest of the password)"
        )
    return None


def resolve_storage_url(url: str, base_dir: Path) -> str:
    """Make a relative sqlite path absolute against the config file's folder."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == "sqlite:///:memory:":
        return url
    db_path = Path(url[len(prefix) :])
    if not db_path.is_absolute():
        db_path = (base_dir / db_path).resolve()
    return prefix + str(db_path)
