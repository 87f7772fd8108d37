"""Where a URL keeps its secrets: its userinfo and its secret-looking parameters, read as requests read it.

Why not SQLAlchemy's make_url alone: it is the right reading of a well-formed store URL, but it splits a
password holding an unescaped `@` at the first `@` (`u:p@ss@host` shows `u:***@ss@host`) and finds no
password at all when the user name holds a `/`. The split here is conservative instead: the userinfo runs
to the last `@` of the URL whenever what precedes that `@` can be a `user:password` (it holds no `/ ? #`,
or it holds a `:` before the first of them). A password may then hold any character but whitespace, and
inside `mask_url` even whitespace. Store URLs are read that way (it is SQLAlchemy's reading of a password
holding `/`). Any other URL is read as yarl and urlsplit read it (the authority ends at the first
`/ ? #`), so the host shown is always the host a request would go to: when an `@` follows that end with
a `:` before it (a password holding `/`, or a link such as `http://127.0.0.1:80#@public.example/`),
everything after the authority is hidden (`http://127.0.0.1:80#***`) rather than a host being made up
from the rest. Every span to hide (userinfo, parameters, remembered secrets) is found on the text as
written and all are hidden at once, so hiding one never moves where another begins.
tests/test_redact.py checks both readings on generated URLs.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit

# Schemes whose URLs are database URLs: their user name is shown, only the password hidden.
_STORE_SCHEMES = frozenset(
    {"sqlite", "postgres", "postgresql", "mysql", "mariadb", "oracle", "mssql", "cockroachdb"}
)
# A parameter is secret when its lower-cased name contains one of these (`api_key`, `X-Amz-Signature`,
# `access_token`, `jsessionid`, `pwd`). Masking a harmless `monkey=` too is the cheap side of the error.
_SECRET_NAME_PARTS = (
    "pass",
    "pwd",
    "token",
    "secret",
    "key",
    "sig",
    "auth",
    "credential",
    "session",
    "cookie",
    "jwt",
    "ticket",  # a Socket Mode URL's (`wss://…/link/?ticket=…`) opens the app's connection; CAS tickets too
)
LONGEST_SCHEME = 40  # `postgresql+psycopg` is 18; a longer run of letters before :// is not a scheme
_SCHEME_PREFIX = re.compile(rf"\s*([A-Za-z][A-Za-z0-9+.\-]{{0,{LONGEST_SCHEME}}}):/*")
_END_OF_AUTHORITY = re.compile(r"[/?#\\]")
_AUTHORITY_END = re.compile(r"[/?#]")  # urlsplit's and yarl's (yarl refuses a backslash in the authority)
_PARAMETER = re.compile(r"[?&;#][^?&;#]*")
_QUERY_START = re.compile(r"[?#]")
_PARAMETER_NAME = re.compile(r"[?&#;]([^=?&#;]*)=")


def without_userinfo(url: str) -> str:
    """`url` without the userinfo of its authority, as yarl and urlsplit read the authority; anything
    else as written (an item link's dedup key does not change for it)."""
    found = _SCHEME_PREFIX.match(url)
    if found is None or not url.startswith("//", found.end() - 2):
        return url
    start = found.end()
    at = url.rfind("@", start, start + authority_end(url[start:]))
    return url if at == -1 else url[:start] + url[at + 1 :]


def url_spans(url: str, *, configured: bool = False) -> list[tuple[int, int]] | None:
    """What to hide of one URL (userinfo, secret parameters; with `configured`, every parameter value),
    or None when it has no scheme."""
    found = _SCHEME_PREFIX.match(url)
    if found is None:
        return None
    scheme, start = found.group(1), found.end()
    rest = url[start:]
    hidden = _secret_parameter_values(rest) + _userinfo_spans(scheme, rest)
    if configured:
        hidden += _all_parameter_values(rest)
    return [(begin + start, end + start) for begin, end in hidden]


def _userinfo_spans(scheme: str, rest: str) -> list[tuple[int, int]]:
    """What to hide of the URL after `scheme://` for its userinfo (or a store URL's password).

    A store URL is read as SQLAlchemy reads it: the password may hold `/ ? #`. Any other URL is read as
    yarl (aiohttp) and urlsplit read it, the authority ending at the first `/ ? #`, so the host left
    shown is the host a request goes to. When an `@` follows that end and a `:` precedes it, the URL is
    ambiguous (a password holding `/`, or `http://127.0.0.1:80#@public.example/`): everything after the
    authority is hidden, and the whole URL when the authority is not a host and port (`user:pa` of
    `user:pa/ss@host`).
    """
    if is_store_scheme(scheme):
        at = userinfo_end(rest)
        if at is None or ":" not in rest[:at]:
            return []
        return [(rest.index(":") + 1, at)]  # SQLAlchemy's reading: the user name ends at a `:`
    end = authority_end(rest)
    at = rest.rfind("@", 0, end)
    spans = [(0, at)] if at != -1 else []
    conservative = userinfo_end(rest)
    if conservative is not None and conservative > end:  # `/@name` alone (Mastodon, Medium) is a path
        if not _is_host_and_port(rest[at + 1 : end]):
            return [(0, len(rest))]
        spans.append((end + 1, len(rest)))
    return spans


def is_store_scheme(scheme: str) -> bool:
    return scheme.lower().split("+", 1)[0] in _STORE_SCHEMES


def authority_end(rest: str) -> int:
    """Where the authority of the URL after `scheme://` ends, as urlsplit and yarl read it."""
    found = _AUTHORITY_END.search(rest)
    return found.start() if found else len(rest)


def _is_host_and_port(text: str) -> bool:
    """Whether `text` reads as a host with an optional port (what a request could be sent to)."""
    try:
        parts = urlsplit("//" + text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return False
    return bool(parts.hostname)


def _all_parameter_values(rest: str) -> list[tuple[int, int]]:
    """Every query (and fragment) parameter value after the authority; a parameter without `=` whole."""
    spans = []
    query = _QUERY_START.search(rest, authority_end(rest))
    for found in _PARAMETER.finditer(rest, query.start() if query else len(rest)):
        equals = found.group().find("=")
        spans.append((found.start() + 1 + equals if equals != -1 else found.start() + 1, found.end()))
    return spans


def userinfo_end(rest: str) -> int | None:
    """The index of the `@` that ends the userinfo, or None when the URL has none (the conservative
    reading: to the last `@`, whenever what precedes it can be a `user:password`)."""
    at = rest.rfind("@")
    if at == -1:
        return None
    boundary = _END_OF_AUTHORITY.search(rest, 0, at)
    if boundary is None:
        return at
    colon = rest.find(":", 0, at)
    if colon != -1 and colon < boundary.start():
        return at  # `user:pa/ss@host`: the password holds a / ? or #
    return None


def _secret_parameter_values(rest: str) -> list[tuple[int, int]]:
    """Where the values of secret-looking `name=value` parameters are (after `? & # ;`).

    A secret value runs to the next `&`: a `#` or `?` inside it is taken as part of the secret. The
    whole URL is searched, not only what follows the host: where the host ends is itself uncertain when
    a password holds `/` or `?`, and searching more can only hide more.
    """
    spans = []
    ampersand = -1  # the next `&` at or after the current value; moves forward only, so this is linear
    for found in _PARAMETER_NAME.finditer(rest):
        if not _is_secret_name(found.group(1)):
            continue
        value = found.end()
        if ampersand < value:
            ampersand = rest.find("&", value)
            if ampersand == -1:
                ampersand = len(rest)
        spans.append((value, ampersand))
    return spans


def _is_secret_name(name: str) -> bool:
    folded = unquote_plus(name).lower()
    return any(part in folded for part in _SECRET_NAME_PARTS)
