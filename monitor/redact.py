"""Secrets never shown: the one place that masks credentials in URLs and in text.

Everything news-monitor prints, logs, posts to Slack, writes as JSON or serves over HTTP passes through
`mask_secrets` (free text: exception messages, log values, console lines) or `mask_url` (one URL known
to be a URL, such as the store's). Nothing else in the package decides what a secret looks like.

What is masked:
- the userinfo of any URL. A store URL (`postgresql://user:password@host/db`) keeps its user name, as
  SQLAlchemy's `render_as_string(hide_password=True)` does: `postgresql://user:***@host/db`. Any other URL
  loses its whole userinfo (`https://***@host/feed`): a user name alone is often the token itself
  (`https://ghp_…@github.com/…`).
- query (and fragment, and `;`) parameters whose name looks secret: password, token, key, secret, sig,
  auth, credential, session… (`?api_key=***`).
- Slack tokens (`xoxb-…`) and `password=` outside any URL (libpq's key=value strings).
- the secrets this process holds (the store's password, the Slack token: `remember_secret`), wherever
  they appear verbatim, so a password that no URL syntax gives away (one holding a space, which a
  message cuts the URL at) is masked too.

Why not SQLAlchemy's make_url alone: it is the right reading of a well-formed store URL, but it splits a
password holding an unescaped `@` at the first `@` (`u:p@ss@host` shows `u:***@ss@host`) and finds no
password at all when the user name holds a `/`. The split here is conservative instead: the userinfo runs
to the last `@` of the URL whenever what precedes that `@` can be a `user:password` (it holds no `/ ? #`,
or it holds a `:` before the first of them). A password may then hold any character but whitespace, and
inside `mask_url` even whitespace. A URL whose path holds an `@` after a `host:port` loses more than its
userinfo; over-masking is the safe side. tests/test_redact.py checks both readings on generated URLs.

The work is linear in the text: URLs are found from each `://`, never by a pattern that could backtrack
over a long run of letters (a feed controls much of the text that is logged).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, unquote, unquote_plus, urlsplit

MASK = "***"

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
)
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_LONGEST_SCHEME = 40  # `postgresql+psycopg` is 18; a longer run of letters before :// is not a scheme
_SCHEME_PREFIX = re.compile(rf"\s*([A-Za-z][A-Za-z0-9+.\-]{{0,{_LONGEST_SCHEME}}}):/*")
_END_OF_AUTHORITY = re.compile(r"[/?#\\]")
_PARAMETER_NAME = re.compile(r"[?&#;]([^=?&#;]*)=")
_SLACK_TOKEN = re.compile(r"\b(xox[a-z]|xapp)-[A-Za-z0-9-]+")
# libpq's `host=… password=…` strings; a URL's own `?password=` is left to the URL masking above.
_PASSWORD_SETTING = re.compile(r"(?<![\w?&;#])(password|passwd|pwd)=(?:'[^']*'|\S+)", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s")


# Secrets shorter than this are left to the URL parsing: masking every "news" in the output would make
# the output useless, and a password that short is guessed faster than it is read from a log.
_SHORTEST_REMEMBERED = 6
_MOST_REMEMBERED = 64  # a process holds a handful; a bound keeps a bug from making the set a leak
_remembered: dict[str, None] = {}  # insertion-ordered: the oldest goes first past the bound


def remember_secret(secret: str | None) -> None:
    """Mask `secret` (and its percent-encoded and decoded spellings) wherever it appears from now on."""
    if not secret:
        return
    # surrogatepass: a YAML \ud800 escape gives a string UTF-8 cannot encode; remembering must not fail.
    for spelling in (secret, quote(secret, safe="", errors="surrogatepass"), unquote(secret)):
        if len(spelling) >= _SHORTEST_REMEMBERED:
            _remembered[spelling] = None
    while len(_remembered) > _MOST_REMEMBERED:
        del _remembered[next(iter(_remembered))]


def remember_url_password(url: str) -> None:
    """Remember the password (or, outside store URLs, the whole userinfo) of `url` as a secret."""
    scheme_end = url.find("://")
    rest = url[scheme_end + 3 :]
    at = _userinfo_end(rest) if scheme_end > 0 else None
    if at is None:
        return
    userinfo = rest[:at]
    is_store = url[:scheme_end].lower().split("+", 1)[0] in _STORE_SCHEMES
    _, _, password = userinfo.partition(":")
    remember_secret(password if is_store else userinfo)
    if not is_store:
        remember_secret(password)


def mask_url(url: str) -> str:
    """One URL with its credentials masked. A mistyped one (`postgresql:/user:pw@host`, one slash) is
    read from its `scheme:` as well; text with no scheme at all is masked as free text."""
    found = _SCHEME_PREFIX.match(url)
    if found is None:
        return mask_secrets(url)
    scheme = found.group(1)
    return _mask_remembered(url[: found.end()] + _mask_after_scheme(scheme, url[found.end() :]))


def mask_secrets(text: str) -> str:
    """Free text (an exception message, a log value, a console line) with every URL in it masked."""
    if "://" in text:
        text = _mask_urls_in(text)
    if "xox" in text or "xapp" in text:
        text = _SLACK_TOKEN.sub(lambda found: f"{found.group(1)}-{MASK}", text)
    if "=" in text:
        text = _PASSWORD_SETTING.sub(lambda found: f"{found.group(1)}={MASK}", text)
    return _mask_remembered(text)


def _mask_remembered(text: str) -> str:
    for secret in _remembered:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _mask_urls_in(text: str) -> str:
    """Each URL runs from its scheme to the next whitespace (a URL in a message is never cut open)."""
    pieces: list[str] = []
    done = 0  # text[:done] is already in pieces
    position = text.find("://")
    while position != -1:
        start = _scheme_start(text, position)
        if start is None or start < done:
            position = text.find("://", position + 3)
            continue
        whitespace = _WHITESPACE.search(text, position)
        end = whitespace.start() if whitespace else len(text)
        pieces += [text[done:start], mask_url(text[start:end])]
        done = end
        position = text.find("://", end)
    pieces.append(text[done:])
    return "".join(pieces)


def _scheme_start(text: str, colon: int) -> int | None:
    """Where the scheme before `://` at `colon` begins (it starts with a letter), or None if there is none."""
    start = colon
    while start > 0 and colon - start < _LONGEST_SCHEME and text[start - 1] in _SCHEME_CHARS:
        start -= 1
    while start < colon and not text[start].isalpha():
        start += 1
    return start if start < colon else None


def _mask_after_scheme(scheme: str, rest: str) -> str:
    """The URL after `scheme://` with the userinfo (or a store URL's password) and secret parameter
    values hidden. Both are found on the URL as written and hidden together, so a password holding
    `?token=` or a query value holding an `@` cannot make one hide the other's end."""
    hidden = _secret_parameter_values(rest)
    at = _userinfo_end(rest)
    if at is not None:
        if scheme.lower().split("+", 1)[0] not in _STORE_SCHEMES:
            hidden.append((0, at))
        elif ":" in rest[:at]:
            hidden.append((rest.index(":") + 1, at))  # SQLAlchemy's reading: the user name ends at a `:`
    return _hide(rest, hidden)


def _userinfo_end(rest: str) -> int | None:
    """The index of the `@` that ends the userinfo, or None when the URL has none."""
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


def _hide(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each span replaced by MASK (touching spans as one); an empty span hides nothing."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(span for span in spans if span[1] > span[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    pieces, shown_from = [], 0
    for start, end in merged:
        pieces += [text[shown_from:start], MASK]
        shown_from = end
    pieces.append(text[shown_from:])
    return "".join(pieces)


def _is_secret_name(name: str) -> bool:
    folded = unquote_plus(name).lower()
    return any(part in folded for part in _SECRET_NAME_PARTS)


def sends_secrets_in_clear(url: str) -> bool:
    """Would a request to `url` carry its credentials (a bearer token) unencrypted off this machine?

    Plain http is allowed only to a loopback address (`localhost`, 127.0.0.0/8, ::1): a local fake or
    tunnel. Any other spelling of a host is taken as remote (the configuration is trusted, but a typo in
    it must not send the token in clear).
    """
    parts = urlsplit(url.strip())
    return parts.scheme.lower() != "https" and not is_loopback_host(parts.hostname)


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    host = host.rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
