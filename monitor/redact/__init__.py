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
  auth, credential, session, ticket… (`?api_key=***`).
- Slack tokens (`xoxb-…`) and `password=` outside any URL (libpq's key=value strings).
- the secrets this process holds (the store's password, the Slack token, the userinfo of every configured
  URL: `remember_secret`, `remember_configured_url`), wherever they appear verbatim, so a password that no
  URL syntax gives away (one holding a space, which a message cuts the URL at) is masked too; and every
  query value of a configured URL wherever it is a URL parameter's value (`?pw=…` under any name).
- a configured URL (a feed, the store, the Slack API) shown as itself hides every query value
  (`mask_configured_url`): the operator may put a secret under any name.

How a URL is read, and why not SQLAlchemy's make_url alone: url_secrets.py.

The work is linear in the text: URLs are found from each `://`, never by a pattern that could backtrack
over a long run of letters (a feed controls much of the text that is logged).

The parts: url_secrets.py finds what to hide of one URL (how its userinfo and parameters are read);
remembered.py holds the secrets this process knows; this module finds the URLs and tokens in free text,
and hides every span at once.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..address_policy import is_loopback
from .remembered import remember_configured_url as remember_configured_url
from .remembered import remember_secret as remember_secret
from .remembered import remember_url_password as remember_url_password
from .remembered import remembered_spans
from .url_secrets import LONGEST_SCHEME, url_spans
from .url_secrets import without_userinfo as without_userinfo

MASK = "***"

_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_SLACK_TOKEN = re.compile(r"\b(xox[a-z]|xapp)-[A-Za-z0-9-]+")
# libpq's `host=… password=…` strings; a URL's own `?password=` is left to the URL masking above.
_PASSWORD_SETTING = re.compile(r"(?<![\w?&;#])(password|passwd|pwd)=(?:'[^']*'|\S+)", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s")


def mask_url(url: str) -> str:
    """One URL with its credentials masked. A mistyped one (`postgresql:/user:pw@host`, one slash) is
    read from its `scheme:` as well; text with no scheme at all is masked as free text."""
    return _mask_url(url, configured=False)


def mask_configured_url(url: str) -> str:
    """A URL from the configuration (a feed, the store, the Slack API) as shown to anyone: masked as
    `mask_url` does, and every query value hidden too (`?user=***&pw=***`), whatever its name."""
    return _mask_url(url, configured=True)


def _mask_url(url: str, *, configured: bool) -> str:
    spans = url_spans(url, configured=configured)
    if spans is None:
        return mask_secrets(url)
    return _hide(url, spans + remembered_spans(url))


def mask_secrets(text: str) -> str:
    """Free text (an exception message, a log value, a console line) with every URL in it masked.

    Everything to hide is found on the text as written and hidden at once: hiding one part first could
    change where another begins or ends (a URL cut at a space inside a remembered password would no
    longer hold the whole password; a remembered password holding `#` would move the end of a host).
    """
    spans = remembered_spans(text)
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
    return _hide(text, remembered_spans(text))


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
        end = _without_closing_quote(text, start, whitespace.start() if whitespace else len(text))
        spans += [(start + begin, start + stop) for begin, stop in url_spans(text[start:end]) or ()]
        done = end
        position = text.find("://", end)
    return spans


# A URL quoted in a message (`article_url="https://…?token=…"`, a log line's value): the closing quote is
# the message's, not the URL's. Only the quote matching the one just before the scheme, as the last
# character before the whitespace: a quote inside a password is escaped in a log value (`\"`), and one
# anywhere else stays part of the URL, hidden with it.
_QUOTES = {'"': '"', "'": "'", "<": ">", "(": ")"}


def _without_closing_quote(text: str, start: int, end: int) -> int:
    closing = _QUOTES.get(text[start - 1]) if start > 0 else None
    if closing and end - 1 > start and text[end - 1] == closing and text[end - 2] != "\\":
        return end - 1
    return end


def _scheme_start(text: str, colon: int) -> int | None:
    """Where the scheme before `://` at `colon` begins (it starts with a letter), or None if there is none."""
    start = colon
    while start > 0 and colon - start < LONGEST_SCHEME and text[start - 1] in _SCHEME_CHARS:
        start -= 1
    while start < colon and not text[start].isalpha():
        start += 1
    return start if start < colon else None


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


def sends_secrets_in_clear(url: str) -> bool:
    """Would a request to `url` carry its credentials (a bearer token) unencrypted off this machine?

    Plain http is allowed only to a loopback address (`localhost`, 127.0.0.0/8, ::1): a local fake or
    tunnel. Any other spelling of a host is taken as remote (the configuration is trusted, but a typo in
    it must not send the token in clear).
    """
    parts = urlsplit(url.strip())
    return parts.scheme.lower() != "https" and not is_loopback(parts.hostname)
