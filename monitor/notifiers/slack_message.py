"""Block Kit for one alert. Every string from a feed or a page is untrusted and escaped here.

Rules from ../shared/SLACK.md §2 and §4: escape &, < and > in every mrkdwn string (that alone
neutralises <!channel>, <@U…> and <url|label> tricks), build links ourselves with a percent-encoded
target, show the real host next to a link so a label cannot pass for another site, and cut every field
to its Block Kit limit after escaping (escaping makes text longer).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..models import Alert, StoryReply
from ..text import cut

SECTION_TEXT_LIMIT = 3000
CONTEXT_TEXT_LIMIT = 2000
TITLE_LIMIT = 250  # a readable headline; real headlines are far shorter
# Slack truncates top-level text past 40,000 and recommends under 4,000; notifications show far less.
FALLBACK_TEXT_LIMIT = 3000
# Longer links are junk or attacks; the title is then shown unlinked so the section stays under 3,000.
MAX_LINK_LENGTH = 2000


def escape_mrkdwn(text: str) -> str:
    """Escape Slack's three control characters (ampersand first)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escaped_cut(text: str, limit: int) -> str:
    """Escape, then cut to `limit` without splitting an entity such as &amp;."""
    escaped = escape_mrkdwn(text)
    if len(escaped) <= limit:
        return escaped
    shorter = cut(text, limit)
    while len(escape_mrkdwn(shorter)) > limit:
        shorter = cut(shorter, len(shorter) - 10)
    return escape_mrkdwn(shorter)


def safe_link(url: str, label: str, *, label_limit: int = TITLE_LIMIT) -> str:
    """A mrkdwn link whose target cannot break out of <…>, its label escaped; only the label for odd URLs."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > MAX_LINK_LENGTH:
        return escaped_cut(label, label_limit)
    target = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")
    return f"<{escape_mrkdwn(target)}|{escaped_cut(label, label_limit)}>"


def link_host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def build_blocks(alert: Alert, outlets: list[str] | None = None) -> list[dict[str, Any]]:
    """Title link, source line, summary, matched terms, and which outlets carry the story (when several)."""
    article = alert.article
    link_url = article.canonical_url or article.url
    title = safe_link(link_url, article.title or link_url)
    blocks = [
        _section(f"{_HERE if alert.notify_here else ''}{_PRIORITY_MARK[alert.priority]}*{title}*"),
        _context(_source_line(alert, link_url)),
        _section(escaped_cut(alert.summary or "(no summary)", SECTION_TEXT_LIMIT)),
        _context(_terms_line(alert)),
    ]
    if outlets and len(outlets) > 1:
        blocks.append(_context(outlets_line(outlets)))
    return blocks


def outlets_line(outlets: list[str]) -> str:
    """ "Carried by 3 outlets: FinanceBlog, Mint, Reuters", copies on other sites included."""
    shown = outlets[:15]  # 15 names of at most 100 characters stay inside a context block's 2,000
    names = ", ".join(escaped_cut(name, 100) for name in shown)
    more = f" and {len(outlets) - len(shown)} more" if len(outlets) > len(shown) else ""
    return f":newspaper: Carried by {len(outlets)} outlets: {names}{more}"


def build_reply_text(reply: StoryReply) -> str:
    """ "Also reported by Mint: <title link>", the one line a thread reply carries."""
    title = safe_link(reply.url, reply.title or reply.url)
    return f"Also reported by {escaped_cut(reply.outlet, 200)}: {title}"


def build_fallback_text(alert: Alert) -> str:
    """Plain one-line text for notifications and clients that cannot show blocks."""
    article = alert.article
    line = f"{article.title} ({alert.source}) matched {', '.join(alert.terms)}"
    here = _HERE if alert.notify_here else ""
    return here + _PRIORITY_MARK[alert.priority] + escaped_cut(line, FALLBACK_TEXT_LIMIT - 40)


# The only mention a message can carry: written by us, for watchlists configured `notify: here`.
_HERE = "<!here> "
_PRIORITY_MARK = {"high": "High priority: ", "normal": "", "low": "Low priority: "}


def _source_line(alert: Alert, link_url: str) -> str:
    parts = [escaped_cut(alert.source, 200), escape_mrkdwn(link_host(link_url))]
    if alert.article.published:
        parts.append(alert.article.published.strftime("%Y-%m-%d %H:%M UTC"))
    return " · ".join(p for p in parts if p)


def _terms_line(alert: Alert) -> str:
    terms = ", ".join(f"`{escape_mrkdwn(t)}`" for t in alert.terms)
    lists = ", ".join(escape_mrkdwn(w) for w in alert.watchlists)
    return cut(f"Matched {terms} · watchlist {lists}", CONTEXT_TEXT_LIMIT)


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: Slack must not turn bare domains, #names or @names in untrusted text into links or
    # mentions; the links we build ourselves (<url|label>) still work.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text[:SECTION_TEXT_LIMIT])}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_mrkdwn(text[:CONTEXT_TEXT_LIMIT] or " ")]}
