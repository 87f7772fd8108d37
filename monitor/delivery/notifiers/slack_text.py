"""Untrusted text made safe for Slack's mrkdwn: Slack's limits, `clean` (invisible, bidi and control
characters dropped), `escape`, `fit` (cut at a safe point), and a link's real host and target
(slack_message.py says why each rule holds)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

import yarl

from ...redact import mask_remembered, mask_secrets

SECTION_TEXT_LIMIT = 3000
CONTEXT_TEXT_LIMIT = 2000
# Slack truncates top-level text past 40,000, and chat.update refuses more than 4,000; notifications
# show far less.
FALLBACK_TEXT_LIMIT = 3000
TITLE_LIMIT = 300  # a readable headline, escaped; real headlines are far shorter
OUTLET_LIMIT = 200
# A longer link target (after escaping: each & counts 5) is junk or an attack: the title is shown unlinked.
LINK_TARGET_LIMIT = 1000
ELLIPSIS = "…"


# --- Characters ---

# Invisible characters Unicode marks "default ignorable" that are not format controls (category Cf):
# the combining grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian variation selectors.
# Variation selectors (U+FE00-FE0F) stay: emoji need them, and they move nothing.
_INVISIBLE_EXTRA = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u3164\uffa0")
# Named for the reader; all are Cf, which `clean` drops as a category: U+061C, U+180E, U+200B-U+200F,
# U+202A-U+202E, U+2060-U+2069, U+FEFF, U+FFF9-U+FFFB, the tag characters U+E0001-U+E007F.
# Visible characters that draw nothing: a run of them pushes what follows out of view (a title of 180
# Braille blanks, then a fake "(reuters.com)", hid the real host: the review of issue 12). Shown as a space.
_BLANK_SYMBOLS = frozenset("\u2800")
_REMOVED_CATEGORIES = frozenset({"Cf", "Cs"})  # format controls (bidi, zero-width, tags); lone surrogates
_SPACE_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Zs"})  # a tab, newline or odd space still separates words
_SPACES = re.compile(r"[ ]{2,}")


def clean(text: str, *, keep_newlines: bool = False) -> str:
    """`text` without control, format (bidi, zero-width, tag) or other invisible characters; line breaks,
    tabs and odd spaces become one space (line breaks kept when `keep_newlines`). Secrets are masked
    first, as in every other output (monitor/redact/): every Text and every link label passes here."""
    text = mask_secrets(text)
    if (
        text.isprintable()
        and not _INVISIBLE_EXTRA.intersection(text)
        and not _BLANK_SYMBOLS.intersection(text)
    ):
        return _SPACES.sub(" ", text).strip()  # the common case: nothing to drop or replace
    kept = []
    for char in text:
        if keep_newlines and char == "\n":
            kept.append(char)
            continue
        category = unicodedata.category(char)
        if category in _REMOVED_CATEGORIES or char in _INVISIBLE_EXTRA or _is_tag(char):
            continue
        kept.append(" " if category in _SPACE_CATEGORIES or char in _BLANK_SYMBOLS else char)
    lines = "".join(kept).split("\n")
    return "\n".join(_SPACES.sub(" ", line).strip() for line in lines).strip()


def _is_tag(char: str) -> bool:
    # The tag block (U+E0000-U+E007F) holds unassigned code points too; none of it is ever visible.
    return 0xE0000 <= ord(char) <= 0xE007F


def escape(text: str) -> str:
    """Slack's three control characters as entities (ampersand first)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int) -> str:
    """`text` (already cleaned) escaped, in at most `limit` characters: cut (at a word when one is
    near) with an ellipsis, the cut made in the raw text so no entity is split."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    room, used, end = limit - len(ELLIPSIS), 0, 0
    for char in text:
        used += len(escape(char))
        if used > room:
            break
        end += 1
    head = text[:end]
    space = head.rfind(" ")
    if space > end * 0.7:
        head = head[:space]
    head = head.rstrip()
    return escape(head) + ELLIPSIS if head else ""


# --- Hosts and link targets ---

_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")
_IPV6 = re.compile(r"[0-9a-f:.]+")
# Characters a link target keeps as written; anything else is percent-encoded (yarl already does this for
# most; `|`, `<` and `>` would end the <url|label> token).
_URL_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!$&'()*+,;=%")


def _parsed(url: str) -> yarl.URL | None:
    """`url` read as aiohttp reads it (IDNA folding included); None unless absolute http(s)."""
    try:
        parsed = yarl.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.raw_host:
            return None
        parsed.port  # noqa: B018 - a port out of range raises here, not when the link is clicked
    except (ValueError, TypeError, UnicodeError):
        return None
    return parsed


def real_host(url: str) -> str | None:
    """The host `url` connects to, in ASCII (punycode for IDN), without `www.`; None if it has none."""
    parsed = _parsed(url)
    if parsed is None or parsed.raw_host is None:
        return None
    host = parsed.raw_host.lower()
    if ":" in host:
        return f"[{host}]" if _IPV6.fullmatch(host) else None
    if not _HOST_NAME.fullmatch(host):
        return None  # spaces, `|` or other characters no resolver accepts: not a link anyone can follow
    return host.removeprefix("www.") or host


def link_target(url: str) -> str | None:
    """`url` for inside <…|…>, escaped: ASCII, userinfo dropped, nothing that ends the token; None when it
    is not an http(s) URL with a real host or is longer than LINK_TARGET_LIMIT. The secrets this process
    holds are masked (redact/); a stranger's parameters are not, whatever their names, so the link still
    opens its page (the host is never changed by either)."""
    parsed = _parsed(mask_remembered(url))
    if parsed is None or real_host(url) is None:
        return None
    try:
        target = str(parsed.with_user(None))
        target = escape("".join(c if c in _URL_SAFE else quote(c, safe="") for c in target))
    except ValueError:  # UnicodeError included: a lone surrogate has no UTF-8 to percent-encode
        return None
    return target if len(target) <= LINK_TARGET_LIMIT else None
