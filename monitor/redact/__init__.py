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
- the secrets this process holds (the store's password, the Slack token, the userinfo of every configured
  URL: `remember_secret`, `remember_configured_url`), wherever they appear verbatim, so a password that no
  URL syntax gives away (one holding a space, which a message cuts the URL at) is masked too; and every
  query value of a configured URL wherever it is a URL parameter's value (`?pw=…` under any name).
- a configured URL (a feed, the store, the Slack API) shown as itself hides every query value
  (`mask_configured_url`): the operator may put a secret under any name.

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

The work is linear in the text: URLs are found from each `://`, never by a pattern that could backtrack
over a long run of letters (a feed controls much of the text that is logged).
"""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urlsplit

from ..address_policy import is_loopback

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
_AUTHORITY_END = re.compile(r"[/?#]")  # urlsplit's and yarl's (yarl refuses a backslash in the authority)
_PARAMETER = re.compile(r"[?&;#][^?&;#]*")
_QUERY_START = re.compile(r"[?#]")
_PARAMETER_STARTS = frozenset("?&;#")
_NOT_IN_A_PARAMETER_NAME = frozenset("=\"'<>/")
_LONGEST_PARAMETER_NAME = 100
_PARAMETER_NAME = re.compile(r"[?&#;]([^=?&#;]*)=")
_SLACK_TOKEN = re.compile(r"\b(xox[a-z]|xapp)-[A-Za-z0-9-]+")
# libpq's `host=… password=…` strings; a URL's own `?password=` is left to the URL masking above.
_PASSWORD_SETTING = re.compile(r"(?<![\w?&;#])(password|passwd|pwd)=(?:'[^']*'|\S+)", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s")


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
    authority = rest[: _authority_end(rest)]
    at = authority.rfind("@")
    if at != -1:  # the userinfo as yarl reads it, when the conservative reading took more
        userinfo = authority[:at]
        if not _is_store_scheme(url[:scheme_end]):
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
    at = _userinfo_end(rest) if scheme_end > 0 else None
    if at is None:
        return
    userinfo = rest[:at]
    is_store = _is_store_scheme(url[:scheme_end])
    _, _, password = userinfo.partition(":")
    if not is_store and _authority_end(rest) < at:
        # `user:pa/ss@host` or `host:80/@x`: ambiguous; only what would be the password is remembered,
        # so a host and port are not masked wherever they appear.
        remember_secret(password)
        return
    remember_secret(password if is_store else userinfo)
    if not is_store:
        remember_secret(password)


def without_userinfo(url: str) -> str:
    """`url` without the userinfo of its authority, as yarl and urlsplit read the authority; anything
    else as written (an item link's dedup key does not change for it)."""
    found = _SCHEME_PREFIX.match(url)
    if found is None or not url.startswith("//", found.end() - 2):
        return url
    start = found.end()
    at = url.rfind("@", start, start + _authority_end(url[start:]))
    return url if at == -1 else url[:start] + url[at + 1 :]


def mask_url(url: str) -> str:
    """One URL with its credentials masked. A mistyped one (`postgresql:/user:pw@host`, one slash) is
    read from its `scheme:` as well; text with no scheme at all is masked as free text."""
    return _mask_url(url, configured=False)


def mask_configured_url(url: str) -> str:
    """A URL from the configuration (a feed, the store, the Slack API) as shown to anyone: masked as
    `mask_url` does, and every query value hidden too (`?user=***&pw=***`), whatever its name."""
    return _mask_url(url, configured=True)


def _mask_url(url: str, *, configured: bool) -> str:
    spans = _url_spans(url, configured=configured)
    if spans is None:
        return mask_secrets(url)
    return _hide(url, spans + _remembered_spans(url))


def _url_spans(url: str, *, configured: bool = False) -> list[tuple[int, int]] | None:
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


def mask_secrets(text: str) -> str:
    """Free text (an exception message, a log value, a console line) with every URL in it masked.

    Everything to hide is found on the text as written and hidden at once: hiding one part first could
    change where another begins or ends (a URL cut at a space inside a remembered password would no
    longer hold the whole password; a remembered password holding `#` would move the end of a host).
    """
    spans = _remembered_spans(text)
    if "://" in text:
        spans += _url_spans_in(text)
    if "xox" in text or "xapp" in text:
        spans += [(found.end(1) + 1, found.end()) for found in _SLACK_TOKEN.finditer(text)]
    if "=" in text:
        spans += [(found.end(1) + 1, found.end()) for found in _PASSWORD_SETTING.finditer(text)]
    return _hide(text, spans)


def mask_remembered(text: str) -> str:
    """`text` with only the secrets this process holds (configured URLs' passwords and query values, the
    store password, the token) hidden: for a stranger's link that must keep working when clicked, where
    hiding parameters by their name (`?keyword=`, `?design=`) would break it and protect nobody."""
    return _hide(text, _remembered_spans(text))


def _remembered_spans(text: str) -> list[tuple[int, int]]:
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


def _url_spans_in(text: str) -> list[tuple[int, int]]:
    """Each URL runs from its scheme to the next whitespace (a URL in a message is never cut open)."""
    spans: list[tuple[int, int]] = []
    done = 0  # text[:done] is already read
    position = text.find("://")
    while position != -1:
        start = _scheme_start(text, position)
        if start is None or start < done:
            position = text.find("://", position + 3)
            continue
        whitespace = _WHITESPACE.search(text, position)
        end = whitespace.start() if whitespace else len(text)
        spans += [(start + begin, start + stop) for begin, stop in _url_spans(text[start:end]) or ()]
        done = end
        position = text.find("://", end)
    return spans


def _scheme_start(text: str, colon: int) -> int | None:
    """Where the scheme before `://` at `colon` begins (it starts with a letter), or None if there is none."""
    start = colon
    while start > 0 and colon - start < _LONGEST_SCHEME and text[start - 1] in _SCHEME_CHARS:
        start -= 1
    while start < colon and not text[start].isalpha():
        start += 1
    return start if start < colon else None


def _userinfo_spans(scheme: str, rest: str) -> list[tuple[int, int]]:
    """What to hide of the URL after `scheme://` for its userinfo (or a store URL's password).

    A store URL is read as SQLAlchemy reads it: the password may hold `/ ? #`. Any other URL is read as
    yarl (aiohttp) and urlsplit read it, the authority ending at the first `/ ? #`, so the host left
    shown is the host a request goes to. When an `@` follows that end and a `:` precedes it, the URL is
    ambiguous (a password holding `/`, or `http://127.0.0.1:80#@public.example/`): everything after the
    authority is hidden, and the whole URL when the authority is not a host and port (`user:pa` of
    `user:pa/ss@host`).
    """
    if _is_store_scheme(scheme):
        at = _userinfo_end(rest)
        if at is None or ":" not in rest[:at]:
            return []
        return [(rest.index(":") + 1, at)]  # SQLAlchemy's reading: the user name ends at a `:`
    end = _authority_end(rest)
    at = rest.rfind("@", 0, end)
    spans = [(0, at)] if at != -1 else []
    conservative = _userinfo_end(rest)
    if conservative is not None and conservative > end:  # `/@name` alone (Mastodon, Medium) is a path
        if not _is_host_and_port(rest[at + 1 : end]):
            return [(0, len(rest))]
        spans.append((end + 1, len(rest)))
    return spans


def _is_store_scheme(scheme: str) -> bool:
    return scheme.lower().split("+", 1)[0] in _STORE_SCHEMES


def _authority_end(rest: str) -> int:
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
    query = _QUERY_START.search(rest, _authority_end(rest))
    for found in _PARAMETER.finditer(rest, query.start() if query else len(rest)):
        equals = found.group().find("=")
        spans.append((found.start() + 1 + equals if equals != -1 else found.start() + 1, found.end()))
    return spans


def _userinfo_end(rest: str) -> int | None:
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
    return parts.scheme.lower() != "https" and not is_loopback(parts.hostname)
