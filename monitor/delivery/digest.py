"""Digests: a watchlist with `delivery: digest` gets one message per schedule: its stories since the last.

When: the schedule (cron, in the watchlist's time zone) last fired at F. Unless a digest of the watchlist
already ends at F or later, one is built for the period (end of the previous digest, F] (for the first:
the fire time before F) and queued in the outbox, which sends it like an alert.

What: the stories with an article the watchlist matched in the period, ranked by how many outlets carried
them (copies on other sites count), then by their latest article; MAX_STORIES are listed, the rest counted.
A story is listed under each article the watchlist matched, with its own headline (copies aside: their
text is their original's): an article joined to the wrong story shows under its own title, never hidden
under another's. Its other articles (matched by nothing here) are counted among its outlets.

Never lost, never twice; the outbox row is the record:
- its dedup_key `digest:<watchlist>:<period end, UTC>` is unique, so two processes (a `run` and a cron'd
  `once`) queue one digest per fire time, and the next period starts where the last queued one ended;
- an article first seen before F but stored after the digest was built (a slow page) is not lost: a digest
  keeps the newest article id it considered, and the next one takes every article stored after it;
- an empty period posts nothing (a daily "nothing new" is noise) and writes no row, so the next digest's
  period starts at the end of the last one queued.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from apscheduler.triggers.cron import CronTrigger

from ..config import Config, WatchlistConfig
from ..config.cron import last_fire_time, parse_crontab
from ..logs import log_event
from ..models import Digest, DigestHeadline, DigestStory
from ..storage import Storage, Story, StoryArticle

log = logging.getLogger("monitor.digest")

# Twenty headlines is what a reader takes in at a glance; it also keeps the message well inside Slack's
# 50 blocks and ~12,000 characters of block text (../shared/SLACK.md §2).
MAX_STORIES = 20


@dataclass(frozen=True)
class DigestPeriod:
    """(start, end] in UTC; articles stored after `after_id` count too, even if first seen before `start`."""

    start: datetime
    end: datetime
    after_id: int | None = None


def digest_watchlists(config: Config) -> list[WatchlistConfig]:
    return [w for w in config.watchlists if w.delivery == "digest"]


def schedule_of(watchlist: WatchlistConfig) -> CronTrigger:
    return parse_crontab(watchlist.digest or "", watchlist.timezone)


def dedup_key(watchlist: str, end: datetime) -> str:
    """`digest:<name>:<end>`; the end in one fixed-width UTC format, so keys of a watchlist sort by time."""
    return f"{key_prefix(watchlist)}{end.astimezone(UTC).isoformat(timespec='seconds')}"


def key_prefix(watchlist: str) -> str:
    return f"digest:{watchlist}:"


def queue_due_digests(storage: Storage, config: Config, now: datetime) -> int:
    """Queue the digest of every digest watchlist whose schedule fired since its last digest."""
    queued = 0
    for watchlist in digest_watchlists(config):
        fired = last_fire_time(schedule_of(watchlist), now)
        period = None if fired is None else next_period(storage, watchlist, fired)
        if period is None:
            continue
        digest = build_digest(storage, config, watchlist, period)
        if not digest.stories:
            log_event(log, logging.DEBUG, "digest.empty", watchlist=watchlist.name, period_end=period.end)
            continue
        queued += queue_digest(storage, digest, now)
    return queued


def queue_digest(storage: Storage, digest: Digest, now: datetime) -> bool:
    """Put the digest in the outbox; False when this watchlist's digest for that period is there already."""
    name = digest.watchlists[0]
    done = storage.queue_digest(digest.channel, digest.to_json(), dedup_key(name, digest.period_end), now)
    if done:
        stories = len(digest.stories) + digest.more
        log_event(log, logging.INFO, "digest.queued", watchlist=name, channel=digest.channel,
                  stories=stories, period_end=digest.period_end.isoformat())  # fmt: skip
    return done


def next_period(storage: Storage, watchlist: WatchlistConfig, end: datetime) -> DigestPeriod | None:
    """The period a digest ending at `end` covers; None when the last digest already reaches `end`."""
    end = end.astimezone(UTC)
    last = storage.last_digest(key_prefix(watchlist.name))
    if last is None:
        return DigestPeriod(start=_fire_before(schedule_of(watchlist), end), end=end)
    previous = Digest.from_json(last.payload)
    if previous.period_end >= end:
        return None
    return DigestPeriod(start=previous.period_end, end=end, after_id=previous.last_article_id)


def build_digest(
    storage: Storage, config: Config, watchlist: WatchlistConfig, period: DigestPeriod
) -> Digest:
    """The stories `watchlist` matched in `period`, most outlets first."""
    newest = storage.last_article_id()
    stories = storage.matched_stories(
        watchlist.name,
        after=period.start,
        after_id=newest if period.after_id is None else period.after_id,
        until=period.end,
        up_to_id=newest,
    )
    ranked = rank_stories(stories)
    return Digest(
        channel=config.channel_for(watchlist),
        watchlists=(watchlist.name,),
        period_start=period.start,
        period_end=period.end,
        timezone=watchlist.timezone,
        stories=tuple(digest_story(story, watchlist.name) for story in ranked[:MAX_STORIES]),
        more=max(len(ranked) - MAX_STORIES, 0),
        last_article_id=newest,
    )


def rank_stories(stories: list[Story]) -> list[Story]:
    """Most outlets first; among equals, the one with the latest article first."""
    return sorted(stories, key=lambda s: (len(_outlets(s)), s.articles[-1].first_seen_at), reverse=True)


def digest_story(story: Story, watchlist: str) -> DigestStory:
    """The story led by the first article `watchlist` matched, its other matched articles listed after."""
    lead, *others = _headlined(story, watchlist)
    return DigestStory(
        title=lead.title,
        url=lead.url,
        source=lead.source or _host(lead.url),
        outlets=tuple(_outlets(story)),
        articles=len(story.articles),
        first_seen=story.articles[0].first_seen_at,
        also=tuple(DigestHeadline(a.title, a.url, a.source or _host(a.url)) for a in others),
    )


def _headlined(story: Story, watchlist: str) -> list[StoryArticle]:
    """The articles listed under their own headline: those the watchlist matched, copies left out unless
    only copies matched; the story's first article for a story stored without its matches."""
    matched = [a for a in story.articles if watchlist in a.watchlists]
    return [a for a in matched if a.outcome != "copy"] or matched or [story.articles[0]]


def _outlets(story: Story) -> list[str]:
    """The outlets in the order they carried the story: the feed's name, else the site's host."""
    return list(dict.fromkeys(a.source or _host(a.url) for a in story.articles))


def _host(url: str) -> str:
    return (urlsplit(url).hostname or url).removeprefix("www.")


def _fire_before(trigger: CronTrigger, end: datetime) -> datetime:
    """The fire time before the last one at or before `end`: where a watchlist's first digest starts."""
    latest = last_fire_time(trigger, end) or end
    # A year back at most (schedules are found within a year); a day when the schedule fires more rarely.
    return last_fire_time(trigger, latest - timedelta(seconds=1)) or latest - timedelta(days=1)


def digest_now(storage: Storage, config: Config, watchlist: WatchlistConfig, now: datetime) -> Digest | None:
    """What `watchlist` would get if its digest were sent now: the stories since its last digest.

    None when the last digest already reaches `now` (one was just sent)."""
    period = next_period(storage, watchlist, now)
    return None if period is None else build_digest(storage, config, watchlist, period)
