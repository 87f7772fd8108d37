"""`news-monitor preview` and `backfill`: the current watchlists against recently stored articles.

`preview` shows the effect of a watchlist edit before it goes live: which stored articles the current
watchlists match, which of those were alerted, which would be new, and which alerted ones would no
longer match. `backfill` posts the new ones.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..config import load_config
from ..errors import ConfigError
from ..logs import safe_line
from ..pipeline.feed_cycle import Pipeline
from ..pipeline.item_stages import matches_json
from ..service.assembly import with_pipeline
from ..storage import StoredArticle
from ..text import cut
from .arguments import Commands, duration_arg
from .output import EXIT_OK, echo, echo_json

# What preview says about each article.
ALERTED = "alerted"  # alerted before, and the current watchlists still match
NEW = "new"  # the current watchlists match, but no alert of it was delivered: backfill would post it
DROPPED = "no longer matches"  # alerted before, the current watchlists do not match


@dataclass(frozen=True)
class PreviewRow:
    article_id: int
    verdict: str
    title: str
    url: str
    first_seen: datetime
    watchlists_now: tuple[str, ...]
    watchlists_then: tuple[str, ...]
    terms_now: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "verdict": self.verdict,
            "title": self.title,
            "url": self.url,
            "first_seen": self.first_seen.isoformat(timespec="seconds"),
            "watchlists_now": list(self.watchlists_now),
            "watchlists_then": list(self.watchlists_then),
            "terms_now": list(self.terms_now),
        }


def preview(pipeline: Pipeline, since: datetime, watchlist: str | None = None) -> list[PreviewRow]:
    """Every recent stored article that matches now or was alerted then, with its verdict."""
    return [row for row, _ in _reviewed(pipeline, since, watchlist)]


def _reviewed(
    pipeline: Pipeline, since: datetime, watchlist: str | None
) -> list[tuple[PreviewRow, StoredArticle]]:
    pairs = []
    for stored in pipeline.storage.recent_articles(since):
        row = _preview_row(pipeline, stored, watchlist)
        if row is not None:
            pairs.append((row, stored))
    return pairs


def _preview_row(pipeline: Pipeline, stored: StoredArticle, watchlist: str | None) -> PreviewRow | None:
    record = stored.record
    tags = pipeline.feed_tags(record.feed_url)
    matches = [
        m
        for m in pipeline.match(pipeline.article_from_record(record), tags)
        if _wanted(m.watchlist, watchlist)
    ]
    then = tuple(name for name in stored.watchlists_alerted() if _wanted(name, watchlist))
    if not matches and not then:
        return None
    verdict = (ALERTED if then else NEW) if matches else DROPPED
    return PreviewRow(
        article_id=stored.id,
        verdict=verdict,
        title=record.title,
        url=record.canonical_url or record.url,
        first_seen=record.first_seen_at,
        watchlists_now=tuple(m.watchlist for m in matches),
        watchlists_then=then,
        terms_now=tuple(dict.fromkeys(t for m in matches for t in m.terms)),
    )


def _wanted(name: str, watchlist: str | None) -> bool:
    return watchlist is None or name == watchlist


async def backfill(pipeline: Pipeline, since: datetime) -> list[PreviewRow]:
    """Queue alerts for recent articles the current watchlists match and that were never alerted."""
    now = pipeline.clock()
    queued = []
    for row, stored in _reviewed(pipeline, since, None):
        if row.verdict != NEW or stored.record.outcome == "copy":
            continue  # a copy's original stands for it
        article = pipeline.article_from_record(stored.record)
        if pipeline.too_old(article.published, now):
            continue  # poll.max_age holds for backfill too: no alerts about old news
        source = pipeline.source_name(stored.record.feed_url)
        matches, alerts = pipeline.analyse(article, source, pipeline.feed_tags(stored.record.feed_url))
        alerts = [dataclasses.replace(alert, backfilled=True) for alert in alerts]  # each says it came late
        # An alert queued before that never reached anyone (its channel failed, its watchlist was gone)
        # is tried again; the sender routes it where its watchlists go now (rerouting.py).
        revived = pipeline.storage.requeue_undelivered(row.article_id)
        # Oldest first, like the live pipeline: a story's first article alerts, other outlets reply.
        entries = pipeline.story_messages(pipeline.storage.story_of(row.article_id), alerts, source)
        added = entries and pipeline.storage.queue_alerts(row.article_id, entries, now, matches_json(matches))
        if revived or added:
            queued.append(row)
    return queued


def render_preview(rows: list[PreviewRow]) -> str:
    if not rows:
        return "No stored article in that window matches the current watchlists or was alerted."
    counts = {verdict: sum(r.verdict == verdict for r in rows) for verdict in (ALERTED, NEW, DROPPED)}
    summary = f"{counts[NEW]} new · {counts[ALERTED]} alerted and still matching"
    lines = [f"{summary} · {counts[DROPPED]} no longer match"]
    for row in rows:
        # Titles and URLs come from feeds and pages: one line each, no control characters, no secrets.
        lists = safe_line(", ".join(row.watchlists_now or row.watchlists_then))
        terms = f" [{safe_line(', '.join(row.terms_now))}]" if row.terms_now else ""
        lines.append(f"  {row.verdict:<17} {cut(safe_line(row.title), 70)}  ({lists}){terms}")
        lines.append(f"  {'':<17} {safe_line(row.url)}")
    return "\n".join(lines)


def cmd_preview(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.watchlist and args.watchlist not in {w.name for w in config.watchlists}:
        known = ", ".join(w.name for w in config.watchlists)
        raise ConfigError(
            f"no watchlist named {args.watchlist!r} (watchlists: {known})", path=str(config.path)
        )

    async def run(pipeline: Pipeline) -> list[PreviewRow]:
        return preview(pipeline, pipeline.clock() - args.since, args.watchlist)

    rows = asyncio.run(with_pipeline(config, run))
    if args.json:
        echo_json([r.as_json() for r in rows])
    else:
        echo(render_preview(rows))
    return EXIT_OK


def cmd_backfill(args: argparse.Namespace) -> int:
    config = load_config(args.config)

    async def run(pipeline: Pipeline) -> list[PreviewRow]:
        pipeline.outbox.start()
        rows = await backfill(pipeline, pipeline.clock() - args.since)
        pipeline.outbox.wake()
        await pipeline.outbox.drain()
        return rows

    rows = asyncio.run(with_pipeline(config, run))
    echo(f"backfill: {len(rows)} article(s) queued and sent" + "".join(f"\n  {r.title}" for r in rows))
    return EXIT_OK


def add_commands(commands: Commands) -> None:
    preview = commands.add_parser(
        "preview", help="what the current watchlists match among stored recent articles"
    )
    preview.add_argument("watchlist", nargs="?", metavar="WATCHLIST", help="only this watchlist")
    preview.add_argument("--since", type=duration_arg, default="7d", help="how far back (default: 7d)")
    preview.add_argument("--json", action="store_true", help="print JSON instead of text")
    preview.set_defaults(handler=cmd_preview)
    backfill = commands.add_parser("backfill", help="post what the current watchlists match among stored "
                                   "articles that were never alerted")  # fmt: skip
    backfill.add_argument("--since", type=duration_arg, required=True, help="how far back, e.g. 24h")
    backfill.set_defaults(handler=cmd_backfill)
