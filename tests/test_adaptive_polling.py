"""Adaptive polling: a feed is polled about as often as it publishes, within poll.min/max_interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import PollSettings
from monitor.pipeline.feed_schedule import adaptive_interval
from monitor.stages.poll import cache_max_age, rss_ttl
from tests.support.feeds import rss_feed
from tests.support.world import World, hours_ago

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
BOUNDS = {"default": timedelta(minutes=10), "minimum": timedelta(minutes=2), "maximum": timedelta(minutes=30)}


def every(minutes: float, count: int = 20) -> list[datetime | None]:
    return [NOW - timedelta(minutes=minutes * n + 1) for n in range(count)]


def test_the_interval_follows_how_often_a_feed_publishes() -> None:
    # 20 items over the last 571 minutes: one every 28.55 minutes.
    assert adaptive_interval(NOW, every(30), **BOUNDS) == timedelta(minutes=571 / 20)
    assert adaptive_interval(NOW, every(0.5), **BOUNDS) == timedelta(minutes=2)  # a firehose: the floor
    assert adaptive_interval(NOW, every(60 * 24), **BOUNDS) == timedelta(minutes=30)  # daily: the ceiling
    # Quiet for more than a week (only old items): the ceiling; no dates at all: the default.
    assert adaptive_interval(NOW, [NOW - timedelta(days=30)], **BOUNDS) == timedelta(minutes=30)
    assert adaptive_interval(NOW, [None, None], **BOUNDS) == timedelta(minutes=10)
    # A feed that stopped an hour ago slows down although its last items came quickly.
    stopped = [NOW - timedelta(hours=1, minutes=n) for n in range(3)]
    assert adaptive_interval(NOW, stopped, **BOUNDS) > timedelta(minutes=20)


def test_the_servers_hint_is_a_floor_up_to_the_ceiling() -> None:
    busy = every(1)
    assert adaptive_interval(NOW, busy, **BOUNDS, server_hint=timedelta(minutes=15)) == timedelta(minutes=15)
    assert adaptive_interval(NOW, busy, **BOUNDS, server_hint=timedelta(days=1)) == timedelta(minutes=30)


def test_hints_are_read_from_cache_control_and_rss_ttl() -> None:
    assert cache_max_age("public, max-age=900") == timedelta(minutes=15)
    assert (
        cache_max_age("no-cache") is None
        and cache_max_age(None) is None
        and cache_max_age("max-age=0") is None
    )
    assert rss_ttl(b"<rss><channel><title>x</title><ttl>60</ttl><item/></channel></rss>") == timedelta(
        hours=1
    )
    assert rss_ttl(b"<rss><channel></channel></rss>") is None


def test_bounds_widen_to_include_an_older_configs_interval() -> None:
    assert PollSettings(interval="6h").longest == timedelta(hours=6)  # written before adaptive polling
    assert PollSettings(interval="1m").shortest == timedelta(minutes=1)
    with pytest.raises(ValueError, match=r"poll.interval \(10m\) must lie between poll.min_interval \(15m\)"):
        PollSettings(min_interval="15m")


def stored_interval(world: World) -> tuple[int, float]:
    [(interval, last, next_)] = world.store.rows(
        "SELECT poll_interval, last_polled_at, next_poll_at FROM feeds",
        datetimes=("last_polled_at", "next_poll_at"),
    )
    return interval, (next_ - last).total_seconds()


def test_a_busy_feed_is_polled_more_often_and_a_304_keeps_its_interval(world: World) -> None:
    items = [{"title": f"Weather {n}", "link": world.web.url(f"/w/{n}"), "guid": f"w{n}",
              "pub_date": hours_ago(0.1 * n)} for n in range(20)]  # fmt: skip
    world.add_feed("/busy.xml", rss_feed("Busy", items))  # one item every 6 minutes
    assert world.once() == 0
    interval, gap = stored_interval(world)
    assert 5 * 60 <= interval <= 7 * 60 and abs(gap - interval) <= 60  # jitter: at most a minute
    assert world.once() == 0  # unchanged: 304
    assert stored_interval(world)[0] == interval


def test_a_feed_with_its_own_interval_keeps_it(world: World) -> None:
    items = [{"title": "Weather", "link": world.web.url("/w"), "guid": "w", "pub_date": hours_ago(0.1)}]
    world.add_feed("/own.xml", rss_feed("Own", items), interval="45m")
    assert world.once() == 0
    assert stored_interval(world)[0] == 45 * 60
