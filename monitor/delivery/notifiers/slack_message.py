"""The one builder of Slack messages: alerts, thread replies, alert updates, digests, admin notices, and
the plain text each carries for notifications. Every string from a feed, a page or an error is untrusted.

A message is written as a list of pieces: `Markup` (ours, sent as written), `Text` (untrusted: cleaned,
escaped, cut) and `Link` (an untrusted URL and label). `render` turns pieces into mrkdwn within a limit, so
every message kind gets the same rules (../shared/SLACK.md §2 and §4):

* `clean` drops invisible, bidi and control characters, which could reorder how a host is displayed or
  hide text; `escape` then replaces Slack's three control characters (&, <, >), which alone neutralises
  `<!channel>`, `<@U…>` and `<url|label>` tricks;
* a link is built here from a parsed URL (yarl, as aiohttp reads it), and the real host, as ASCII
  (an IDN homograph shows as xn--…), stands beside its label, so a label cannot pass for another site;
* lengths are counted after escaping, in characters (code points), as Slack counts them; cuts fall between
  characters of the raw text, so never inside an entity such as &amp;, and a link token is kept whole or
  replaced by its label (and host) unlinked: an over-long URL costs the link, never the title;
* every chat.postMessage and chat.update carries `parse: none`, `link_names: false` and no unfurling
  (`SlackMessage.api_args`), and mrkdwn objects are `verbatim`, so Slack turns no bare domain, #channel
  or @name from a title into a link or a mention.

What an alert shows: its headline linked (with the real host), the outlet ("Reuters via Google News" when
the page names a publisher other than the feed), when it was published (a `<!date^…|… UTC>` token each
reader sees in their own time zone, the UTC text as its fallback) and how long before posting, the
summary with the words that matched in bold, those words as the article writes them, and, for an alert
`news-monitor backfill` queued late, that it is one. Bold is ours (`Emphasised`): put around whole words
of the raw text before escaping, so a marker never lands inside an entity, and never next to another
formatting character (`*`, `_`, `~`, `` ` ``) or around a word holding one, which Slack would pair up
differently.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import yarl

from ...models import Alert, StoryReply
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
    first, as in every other output (redact.py): every Text and every link label passes here."""
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
    holds are masked (redact.py); a stranger's parameters are not, whatever their names, so the link still
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


# --- Pieces ---


@dataclass(frozen=True)
class Markup:
    """Our own mrkdwn (`*`, a line break, `<!here>`), sent as written; kept whole or not at all."""

    text: str

    def render(self, room: int) -> str:
        return self.text if len(self.text) <= room else ""


@dataclass(frozen=True)
class Text:
    """Untrusted text: cleaned, escaped and cut to at most `limit` characters."""

    text: str
    limit: int = SECTION_TEXT_LIMIT
    keep_newlines: bool = False

    def render(self, room: int) -> str:
        limit = min(room, self.limit)
        # At most `limit` visible characters can be shown: cleaning more is wasted work (a text padded
        # with more than three invisible characters for each visible one loses its tail).
        window = self.text[: 4 * max(limit, 0) + 64]
        return fit(clean(window, keep_newlines=self.keep_newlines), limit)


@dataclass(frozen=True)
class Link:
    """`<url|label> (host)`: an untrusted link, its label escaped and the real host beside it. Without a
    usable URL (or room for it), the label alone, with the host when there is one."""

    url: str
    label: str
    bold: bool = False
    label_limit: int = TITLE_LIMIT

    def render(self, room: int) -> str:
        host = real_host(self.url)
        suffix = f" ({escape(host)})" if host else ""
        stars = 2 if self.bold else 0
        label = clean(self.label[: 4 * self.label_limit + 64]) or "(no title)"  # as Text.render
        target = link_target(self.url)
        if target is not None:
            linked = self._bold(f"<{target}|{fit(label, self.label_limit)}>") + suffix
            if len(linked) <= room:
                return linked
        label_room = min(room - len(suffix) - stars, self.label_limit)
        shown = fit(label, label_room) if label_room > len(ELLIPSIS) else ""
        return self._bold(shown) + suffix if shown else ""

    def _bold(self, text: str) -> str:
        return f"*{text}*" if self.bold else text


# Slack's formatting characters: bold next to (or around a word holding) one would pair up differently.
_FORMATTING = "*_~`"
# A bold word stands alone: no letter, digit or formatting character right before or after it.
_EDGE_BEFORE = r"(?<![\w*_~`])"
_EDGE_AFTER = r"(?![\w*_~`])"
MAX_BOLD_WORD = 100  # a longer "word" is not one a reader scans for


@dataclass(frozen=True)
class Emphasised:
    """Untrusted text, as `Text` renders it, with every whole-word occurrence of `words` in bold.

    Words are found in the cleaned raw text and each part is escaped on its own, so a `*` is never put
    inside an entity (&amp;) and never breaks a token; a bold word is kept whole or cut away with what
    follows it, so a cut never leaves a `*` open."""

    text: str
    words: tuple[str, ...] = ()
    limit: int = SECTION_TEXT_LIMIT

    def render(self, room: int) -> str:
        limit = min(room, self.limit)
        text = clean(self.text[: 4 * max(limit, 0) + 64])  # as Text.render
        spans = bold_spans(text, self.words)
        full = _with_bold(text, spans, len(text))
        return full if len(full) <= limit else _cut_with_bold(text, spans, limit)


def boldable(word: str) -> bool:
    """Whether `word` (cleaned) can be put between `*` without changing how Slack reads the text."""
    return 0 < len(word) <= MAX_BOLD_WORD and word == word.strip() and not any(c in word for c in _FORMATTING)


def bold_spans(text: str, words: Iterable[str]) -> list[tuple[int, int]]:
    """Where the words occur in `text` as whole words, exactly as written: (start, end), in order."""
    wanted = sorted({w for w in (clean(word) for word in words) if boldable(w)}, key=len, reverse=True)
    if not wanted:
        return []
    # Literal alternatives, longest first, in one pass: linear in the text for a bounded list of words.
    pattern = re.compile(_EDGE_BEFORE + "(?:" + "|".join(map(re.escape, wanted)) + ")" + _EDGE_AFTER)
    return [match.span() for match in pattern.finditer(text)]


def _with_bold(text: str, spans: Sequence[tuple[int, int]], end: int) -> str:
    """text[:end] escaped, the spans that end by `end` in bold."""
    out, position = [], 0
    for start, stop in spans:
        if stop > end:
            break
        out += [escape(text[position:start]), "*", escape(text[start:stop]), "*"]
        position = stop
    out.append(escape(text[position:end]))
    return "".join(out)


def _cut_with_bold(text: str, spans: Sequence[tuple[int, int]], limit: int) -> str:
    """As `fit` cuts, counting each bold word (its markers included) as one piece that fits or not."""
    room, used, end, next_span = limit - len(ELLIPSIS), 0, 0, 0
    while end < len(text):
        if next_span < len(spans) and spans[next_span][0] == end:
            start, stop = spans[next_span]
            cost = len(escape(text[start:stop])) + 2
            if used + cost > room:
                break
            used, end, next_span = used + cost, stop, next_span + 1
            continue
        cost = len(escape(text[end]))
        if used + cost > room:
            break
        used, end = used + cost, end + 1
    space = text.rfind(" ", 0, end)
    if space > end * 0.7 and not _inside(spans, space):
        end = space
    end = len(text[:end].rstrip())
    return _with_bold(text, spans, end) + ELLIPSIS if end else ""


def _inside(spans: Sequence[tuple[int, int]], position: int) -> bool:
    index = bisect.bisect_right(spans, position, key=_start) - 1  # the last span starting by `position`
    return index >= 0 and spans[index][0] <= position < spans[index][1]


def _start(span: tuple[int, int]) -> int:
    return span[0]


Piece = Markup | Text | Link | Emphasised


def render(pieces: Sequence[Piece], limit: int) -> str:
    """The pieces as one mrkdwn string of at most `limit` characters. Each piece is given the room the
    earlier ones left; after the first piece that had to be shortened or left out, the rest are dropped,
    so a cut never leaves half a link or a sentence with a hole in it."""
    out: list[str] = []
    used = 0
    for piece in pieces:
        room = limit - used
        full = piece.render(limit)
        shown = full if len(full) <= room else piece.render(room)
        out.append(shown)
        used += len(shown)
        if shown != full:
            break
    return "".join(out)


# --- Messages ---

# What every chat.postMessage and chat.update sends besides text and blocks: Slack parses nothing (no
# auto-linked domains or #channels, no @group mentions; on chat.update `parse` would otherwise default to
# `client`), and Slack's servers fetch no stranger's URL for a preview.
NO_PARSING: dict[str, Any] = {
    "parse": "none",
    "link_names": False,
    "unfurl_links": False,
    "unfurl_media": False,
}


@dataclass(frozen=True)
class SlackMessage:
    """What one post says: the plain text (the whole message, or the notification line when there are
    blocks) and the blocks."""

    text: str
    blocks: list[dict[str, Any]] | None = None

    def api_args(self, *, with_blocks: bool = True) -> dict[str, Any]:
        """Keyword arguments for chat.postMessage / chat.update (channel, ts, thread_ts aside)."""
        args: dict[str, Any] = {"text": self.text, **NO_PARSING}
        if with_blocks and self.blocks is not None:
            args["blocks"] = self.blocks
        return args


def mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: Slack must not turn bare domains, #names or @names in untrusted text into links or
    # mentions; the links we build ourselves (<url|label>) still work.
    return {"type": "mrkdwn", "text": text or " ", "verbatim": True}


def section(*pieces: Piece) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(render(pieces, SECTION_TEXT_LIMIT))}


def context(*pieces: Piece) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(render(pieces, CONTEXT_TEXT_LIMIT))]}


def joined(items: Sequence[str], limit: int, separator: str = ", ") -> list[Piece]:
    """Untrusted names, each cut to `limit`, with our separator between them."""
    pieces: list[Piece] = []
    for index, item in enumerate(items):
        if index:
            pieces.append(Markup(separator))
        pieces.append(Text(item, limit))
    return pieces


# --- Alerts and their updates ---

# The only mention a message can carry: written by us, for watchlists configured `notify: here`.
_HERE = "<!here> "
_PRIORITY_MARK = {"high": "High priority: ", "normal": "", "low": "Low priority: "}
_BACKFILL_MARK = "Backfilled: "
WORDS_SHOWN = 10  # matched spellings listed under the summary; more say nothing new


def alert_message(
    alert: Alert, outlets: list[str] | None = None, *, posted_at: datetime | None = None
) -> SlackMessage:
    """The alert as posted, or (with `outlets`) as chat.update rewrites it once several outlets carry it.

    `posted_at`: when the message is (or, for an update, was) posted, which its age is counted to;
    now by default."""
    now = posted_at or datetime.now(UTC)
    return SlackMessage(text=build_fallback_text(alert, now), blocks=build_blocks(alert, outlets, now))


def build_blocks(
    alert: Alert, outlets: list[str] | None = None, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Title link and host, source line, summary (matched words in bold), matched words, and the outlets
    carrying the story."""
    article = alert.article
    link_url = article.canonical_url or article.url
    blocks = [
        section(*_marks(alert), Link(link_url, article.title or link_url, bold=True)),
        context(*_source_line(alert, now or datetime.now(UTC))),
        section(Emphasised(alert.summary or "(no summary)", alert.matched)),
        context(*_terms_line(alert)),
    ]
    if outlets and len(outlets) > 1:
        blocks.append(context(*outlets_line(outlets)))
    return blocks


def build_fallback_text(alert: Alert, now: datetime | None = None) -> str:
    """Plain one-line text for notifications and clients that cannot show blocks."""
    line = f"{alert.article.title} ({outlet_name(alert)}) matched {', '.join(shown_words(alert))}"
    published = alert.article.published
    if published is not None:
        line += f" · published {utc_text(published)}, {age_text(published, now or datetime.now(UTC))}"
    return render([*_marks(alert), Text(line)], FALLBACK_TEXT_LIMIT)


def outlets_line(outlets: list[str]) -> list[Piece]:
    """ "Carried by 3 outlets: FinanceBlog, Mint, Reuters", copies on other sites included."""
    shown = outlets[:15]  # 15 names of at most 100 characters stay inside a context block's 2,000
    more = f" and {len(outlets) - len(shown)} more" if len(outlets) > len(shown) else ""
    return [
        Markup(f":newspaper: Carried by {len(outlets)} outlets: "),
        *joined(shown, 100),
        Markup(more),
    ]


def outlet_name(alert: Alert) -> str:
    """The feed's name for the outlet, or "Reuters via Google News" when the page names another publisher
    (an aggregator's item, or a feed named differently from its site)."""
    publisher = alert.article.site_name
    if publisher and not _same_outlet(publisher, alert.source):
        return f"{publisher} via {alert.source}" if alert.source else publisher
    return alert.source


def _same_outlet(publisher: str, source: str) -> bool:
    """ "Mint" and "Livemint", "Reuters" and "reuters.com": one name spelled two ways, shown once."""
    a, b = (re.sub(r"\W+", "", name).casefold() for name in (publisher, source))
    return a in b or b in a


def shown_words(alert: Alert) -> list[str]:
    """The matched words, each once whatever its case (the first spelling seen); the configured terms for
    an alert queued before the words were kept."""
    if not alert.matched:
        return list(alert.terms)
    first: dict[str, str] = {}
    for word in alert.matched:
        first.setdefault(word.casefold(), word)
    return list(first.values())


def posted_time(ts: str) -> datetime | None:
    """When a message was posted: Slack's ts is its Unix time ("1503435956.000247")."""
    try:
        return datetime.fromtimestamp(float(ts), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def date_token(moment: datetime) -> str:
    """Slack shows `<!date^…>` in each reader's own time zone ("Yesterday 3:53 PM"); the UTC text is the
    fallback for clients that cannot. Ours, from a number and a fixed format: nothing to escape. A date
    before 1970 (a feed's junk) gets the UTC text alone."""
    stamp = int(moment.timestamp())
    if stamp < 0:
        return utc_text(moment)
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{utc_text(moment)}>"


def age_text(published: datetime, now: datetime) -> str:
    """How long before `now` (the posting time) the article was published: "25 min ago", "2 h ago"."""
    minutes = (now - published).total_seconds() / 60
    if minutes < 1:
        return "just now"  # a feed's clock a little ahead of ours says nothing worth showing either
    if minutes < 60:
        return f"{int(minutes)} min ago"
    hours = int(minutes / 60 + 0.5)
    if hours < 48:
        return f"{hours} h ago"
    return f"{int(hours / 24 + 0.5)} days ago"


def _marks(alert: Alert) -> list[Piece]:
    return [
        Markup(_HERE if alert.notify_here else ""),
        Markup(_PRIORITY_MARK[alert.priority]),
        Markup(_BACKFILL_MARK if alert.backfilled else ""),
    ]


def _source_line(alert: Alert, now: datetime) -> list[Piece]:
    """ "Reuters via Google News · <date> · 2 h ago"; a backfilled alert says so, with its publication."""
    publisher = alert.article.site_name
    if publisher and not _same_outlet(publisher, alert.source):
        pieces: list[Piece] = [
            Text(publisher, OUTLET_LIMIT),
            Markup(" via "),
            Text(alert.source, OUTLET_LIMIT),
        ]
    else:
        pieces = [Text(alert.source, OUTLET_LIMIT)]
    published = alert.article.published
    if alert.backfilled:  # its title says "Backfilled:"; here, how late it comes
        if published is None:
            return [*pieces, Markup(" · publication time unknown")]
        when = f"{date_token(published)}, {age_text(published, now)}"
        return [*pieces, Markup(f" · originally published {when}")]
    if published is not None:
        pieces.append(Markup(f" · {date_token(published)} · {age_text(published, now)}"))
    return pieces


def _terms_line(alert: Alert) -> list[Piece]:
    """ "Matched *chipmakers*, *chip* · watchlist chips": the words as the article writes them, in bold
    where that is safe (`boldable`); the configured terms, as code, for an older alert without them."""
    pieces: list[Piece] = [Markup("Matched ")]
    if alert.matched:
        for index, word in enumerate(shown_words(alert)[:WORDS_SHOWN]):
            pieces += [Markup(", " if index else ""), Emphasised(word, (word,), 200)]
    else:
        for index, term in enumerate(alert.terms):
            pieces += [Markup(", `" if index else "`"), Text(term, 200), Markup("`")]
    return [*pieces, Markup(" · watchlist "), *joined(alert.watchlists, 200)]


# --- Thread replies and admin notices ---


def reply_message(reply: StoryReply) -> SlackMessage:
    """ "Also reported by Mint: <title link> (host)", the one line a thread reply carries; "Update from
    Mint: …" when Mint is in the thread already (another article of its own about the story)."""
    line = render(
        [
            Markup("Update from " if reply.update else "Also reported by "),
            Text(reply.outlet, OUTLET_LIMIT),
            Markup(": "),
            Link(reply.url, reply.title or reply.url),
        ],
        FALLBACK_TEXT_LIMIT,
    )
    return SlackMessage(text=line)


def notice_message(text: str) -> SlackMessage:
    """A message for operators (a refused configuration edit): plain text, its line breaks kept."""
    return SlackMessage(text=render([Text(text, keep_newlines=True)], FALLBACK_TEXT_LIMIT))
