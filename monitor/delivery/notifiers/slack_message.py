"""The one builder of Slack messages: alerts, thread replies, alert updates, digests, admin notices, and
the plain text each carries for notifications. Every string from a feed, a page or an error is untrusted.
Callers import from here; the parts are slack_text.py (the primitives), slack_pieces.py (the pieces and
`render`) and slack_digest.py (a digest's layout, from the same pieces).

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

What an alert shows (built here): its headline linked (with the real host), the outlet ("Reuters via
Google News" when the page names a publisher other than the feed), when it was published (a
`<!date^…|… UTC>` token each reader sees in their own time zone, the UTC text as its fallback) and how long
before posting, the summary with the words that matched in bold, those words as the article writes them,
and, for an alert `news-monitor backfill` queued late, that it is one. Bold is ours (`Emphasised`): put
around whole words of the raw text before escaping, so a marker never lands inside an entity, and never
next to another formatting character (`*`, `_`, `~`, `` ` ``) or around a word holding one, which Slack
would pair up differently.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from ...models import Alert, AlertControls, StoryReply
from .slack_buttons import ACTION_IDS, ACTIONS_BY_ID, actions_block, marks_block
from .slack_pieces import (
    MAX_BOLD_WORD,
    NO_PARSING,
    Emphasised,
    Link,
    Markup,
    Piece,
    SlackMessage,
    Text,
    bold_spans,
    boldable,
    context,
    joined,
    mrkdwn,
    render,
    section,
)
from .slack_text import (
    CONTEXT_TEXT_LIMIT,
    ELLIPSIS,
    FALLBACK_TEXT_LIMIT,
    LINK_TARGET_LIMIT,
    OUTLET_LIMIT,
    SECTION_TEXT_LIMIT,
    TITLE_LIMIT,
    clean,
    escape,
    fit,
    link_target,
    real_host,
)

# Callers import the primitives and pieces from here, the one entry point of the message builder.
__all__ = [
    "ACTIONS_BY_ID",
    "ACTION_IDS",
    "CONTEXT_TEXT_LIMIT",
    "ELLIPSIS",
    "FALLBACK_TEXT_LIMIT",
    "LINK_TARGET_LIMIT",
    "MAX_BOLD_WORD",
    "NO_PARSING",
    "OUTLET_LIMIT",
    "SECTION_TEXT_LIMIT",
    "TITLE_LIMIT",
    "WORDS_SHOWN",
    "Emphasised",
    "Link",
    "Markup",
    "Piece",
    "SlackMessage",
    "Text",
    "age_text",
    "alert_message",
    "bold_spans",
    "boldable",
    "build_blocks",
    "build_fallback_text",
    "clean",
    "context",
    "date_token",
    "escape",
    "fit",
    "joined",
    "link_target",
    "mrkdwn",
    "notice_message",
    "outlet_name",
    "outlets_line",
    "posted_time",
    "real_host",
    "render",
    "reply_message",
    "section",
    "shown_words",
    "utc_text",
]

# --- Alerts and their updates ---

# The only mention a message can carry: written by us, for watchlists configured `notify: here`.
_HERE = "<!here> "
_PRIORITY_MARK = {"high": "High priority: ", "normal": "", "low": "Low priority: "}
_BACKFILL_MARK = "Backfilled: "
WORDS_SHOWN = 10  # matched spellings listed under the summary; more say nothing new


def alert_message(
    alert: Alert,
    outlets: list[str] | None = None,
    *,
    posted_at: datetime | None = None,
    controls: AlertControls | None = None,
) -> SlackMessage:
    """The alert as posted, or (with `outlets`) as chat.update rewrites it once several outlets carry it.

    `posted_at`: when the message is (or, for an update, was) posted, which its age is counted to;
    now by default. `controls`: its buttons and what was done with them (none without Socket Mode)."""
    now = posted_at or datetime.now(UTC)
    blocks = build_blocks(alert, outlets, now, controls)
    return SlackMessage(text=build_fallback_text(alert, now), blocks=blocks)


def build_blocks(
    alert: Alert,
    outlets: list[str] | None = None,
    now: datetime | None = None,
    controls: AlertControls | None = None,
) -> list[dict[str, Any]]:
    """Title link and host, source line, summary (matched words in bold), matched words, the outlets
    carrying the story, then the buttons and what was done with them."""
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
    if controls is not None:
        done = marks_block(controls.marks)
        blocks += [done] if done is not None else []
        if controls.buttons:
            blocks.append(actions_block(alert, controls))
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
