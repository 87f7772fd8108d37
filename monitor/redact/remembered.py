"""The secrets this process holds, masked wherever they appear (see the package docstring)."""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from .url_secrets import authority_end, is_store_scheme, userinfo_end

_PARAMETER_STARTS = frozenset("?&;#")
_NOT_IN_A_PARAMETER_NAME = frozenset("=\"'<>/")
_LONGEST_PARAMETER_NAME = 100

# Secrets shorter than this are left to the URL parsing: masking every "news" in the output would make
# the output useless, and a password that short is guessed faster than it is read from a log.
_SHORTEST_REMEMBERED = 6
# A process holds a few per configured URL (a config of hundreds of feeds with credentials fits); a bound
# keeps a bug from making the set a leak. Each is one substring search per masked text.
_MOST_REMEMBERED = 2048
_remembered: dict[str, None] = {}  # insertion-ordered: the oldest goes first past the bound
# Query values of configured URLs: masked where they are a URL parameter's value (after `?name=`,
# `&name=`, or an encoded `%3D`), not everywhere, because a query value is as often a word
# (`?q=Alibaba`, `?category=business`) that headlines, watch terms and log values hold; outside a URL
# a query value is not a secret anyone can recognise as one.
_remembered_values: dict[str, None] = {}


def remember_secret(secret: str | None) -> None:
    """Mask `secret` (and its percent-encoded and decoded spellings) wherever it appears from now on."""
    _remember(_remembered, secret)


def _remember(into: dict[str, None], secret: str | None) -> None:
    if not secret:
        return
    for spelling in _spellings(secret):
        if len(spelling) >= _SHORTEST_REMEMBERED:
            into.pop(spelling, None)
            into[spelling] = None  # the newest last: a reload keeps the current config's secrets
    while len(into) > _MOST_REMEMBERED:
        del into[next(iter(into))]


def _spellings(secret: str) -> tuple[str, ...]:
    """The ways a secret is written in a URL or a message: raw, percent-encoded (as yarl sends a password
    holding a space: `%20`; `+` in a query), and decoded."""
    # surrogatepass: a YAML \ud800 escape gives a string UTF-8 cannot encode; remembering must not fail.
    encoded = quote(secret, safe="", errors="surrogatepass")
    return (
        secret,
        encoded,
        quote(secret, safe="@:!$&'()*+,;=/?", errors="surrogatepass"),  # yarl's userinfo/query quoting
        quote_plus(secret, errors="surrogatepass"),
        unquote(secret),
        unquote_plus(secret),
    )


def remember_configured_url(url: str) -> None:
    """Remember the secrets of a URL the operator configured (a feed, the store, the Slack API, a URL
    written anywhere in monitor.yaml): its userinfo and password, masked wherever they appear, and each
    query value of 6 characters or more, masked wherever it follows `=`."""
    remember_url_password(url)
    scheme_end = url.find("://")
    if scheme_end <= 0:
        return
    rest = url[scheme_end + 3 :]
    authority = rest[: authority_end(rest)]
    at = authority.rfind("@")
    if at != -1:  # the userinfo as yarl reads it, when the conservative reading took more
        userinfo = authority[:at]
        if not is_store_scheme(url[:scheme_end]):
            remember_secret(userinfo)  # a user name alone is often the token: shown for a store only
        remember_secret(userinfo.partition(":")[2])
    query = rest.partition("?")[2]
    for parameter in re.split(r"[&;#]", query):
        name, equals, value = parameter.partition("=")
        _remember(_remembered_values, value if equals else name)


def remember_url_password(url: str) -> None:
    """Remember the password (or, outside store URLs, the whole userinfo) of `url` as a secret."""
    scheme_end = url.find("://")
    rest = url[scheme_end + 3 :]
    at = userinfo_end(rest) if scheme_end > 0 else None
    if at is None:
        return
    userinfo = rest[:at]
    is_store = is_store_scheme(url[:scheme_end])
    _, _, password = userinfo.partition(":")
    if not is_store and authority_end(rest) < at:
        # `user:pa/ss@host` or `host:80/@x`: ambiguous; only what would be the password is remembered,
        # so a host and port are not masked wherever they appear.
        remember_secret(password)
        return
    remember_secret(password if is_store else userinfo)
    if not is_store:
        remember_secret(password)


def remembered_spans(text: str) -> list[tuple[int, int]]:
    """Where the remembered secrets are in `text`: each secret anywhere, each query value after `=`."""
    spans = []
    for secret in _remembered:
        spans += _occurrences(text, secret)
    for value in _remembered_values:
        if value in text:
            spans += [span for span in _occurrences(text, value) if _is_parameter_value(text, span[0])]
    return spans


def _occurrences(text: str, secret: str) -> list[tuple[int, int]]:
    spans = []
    start = text.find(secret)
    while start != -1:
        spans.append((start, start + len(secret)))
        start = text.find(secret, start + len(secret))
    return spans


def _is_parameter_value(text: str, start: int) -> bool:
    """Whether `text[start:]` is the value of a URL parameter: `?name=`, `&name=`, `;name=` or `#name=`
    precedes it (or a percent-encoded `%3D`), not a log line's `key=`."""
    if text[max(start - 3, 0) : start].upper() == "%3D":
        return True
    if not text.endswith("=", 0, start):
        return False
    name_start = start - 1
    while name_start > 0 and start - name_start <= _LONGEST_PARAMETER_NAME:
        if text[name_start - 1] in _PARAMETER_STARTS:
            return True
        if text[name_start - 1] in _NOT_IN_A_PARAMETER_NAME or text[name_start - 1].isspace():
            return False
        name_start -= 1
    return False
