"""An article's alerts: one per channel its matches route to, naming every watchlist routed there."""

from __future__ import annotations

from ..models import Alert, Article, Match
from ..stages.match import matched_words
from ..stages.summarise import summarise_article

PRIORITIES = ("low", "normal", "high")


def alerts_for(
    article: Article, matches: list[Match], source: str, digest_watchlists: set[str]
) -> list[Alert]:
    """One alert per channel, naming every watchlist routed there (never two messages for one article)."""
    # Digest watchlists' matches are stored with the article; their message comes on their schedule.
    matches = [m for m in matches if m.watchlist not in digest_watchlists]
    if not matches:
        return []
    summary = summarise_article(article, matches)
    by_channel: dict[str, list[Match]] = {}
    for match in matches:
        by_channel.setdefault(match.channel, []).append(match)
    return [
        Alert(
            channel=channel,
            article=article,
            source=source or article.site_name or "",
            summary=summary,
            watchlists=tuple(m.watchlist for m in channel_matches),
            terms=tuple(dict.fromkeys(t for m in channel_matches for t in m.terms)),
            matched=matched_words(channel_matches),
            priority=max((m.priority for m in channel_matches), key=PRIORITIES.index),
            notify_here=any(m.notify_here for m in channel_matches),
        )
        for channel, channel_matches in by_channel.items()
    ]
