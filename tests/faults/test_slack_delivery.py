"""Delivery faults against the Slack fake: 429 bursts, 5xx, permanent errors, lost replies, pacing.

The Outbox runs here with the real SlackNotifier (slack-sdk's AsyncWebClient over HTTP to the fake)
and real SQLite storage; only the clock of the backoff schedule is read from the store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from monitor.delivery.notifiers.slack import SlackNotifier
from monitor.delivery.outbox import BACKOFF_BASE, Outbox, backoff_delay
from monitor.models import Alert, Article
from monitor.storage import ArticleKey, ArticleRecord, OutboxEntry, QueuedAlert, SQLStorage, open_storage
from monitor.storage.fleet import LONGEST_CHANNEL_HOLD
from tests.support.slack_fake import SlackFake
from tests.support.store import Store


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def storage(store: Store) -> Iterator[SQLStorage]:
    opened = open_storage(store.url)
    yield opened
    opened.close()


def queue_alerts(storage: SQLStorage, channel: str, count: int, start: int = 0) -> list[OutboxEntry]:
    """Store `count` articles, each with one queued alert for `channel`."""
    entries = []
    for number in range(start, start + count):
        url = f"https://news.example/{channel.strip('#')}/{number}"
        article = Article(url=url, title=f"Alibaba story {number}", text="Alibaba did something.")
        alert = Alert(channel, article, "News", "Alibaba did something.", ("w",), ("Alibaba",))
        record = ArticleRecord("https://news.example/rss", str(number), url, None, article.title,
                               article.text, None, now(), None, "alerted")  # fmt: skip
        result = storage.record_article(
            record, [ArticleKey("url", url)], [QueuedAlert(channel, alert.to_json())]
        )
        entries.extend(result.outbox)
    return entries


def deliver(storage: SQLStorage, fake: SlackFake, *, fingerprint: str = "config-1", pace: float = 0.0,
            token: str | None = None, timeout: float = 5.0) -> Outbox:  # fmt: skip
    """One delivery pass, as the sender loop does it."""

    async def go() -> Outbox:
        notifier = SlackNotifier(token or fake.token, api_url=fake.api_url, timeout=timeout)
        outbox = Outbox(storage, notifier, config_fingerprint=fingerprint, clock=now, pace=pace)
        try:
            outbox.requeue_after_config_change()
            await outbox.deliver_due()
        finally:
            await notifier.close()
        return outbox

    return asyncio.run(go())


def statuses(storage: SQLStorage) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in storage.outbox_entries(("pending", "sent", "failed")):
        counts[entry.status] = counts.get(entry.status, 0) + 1
    return counts


def make_due(storage: SQLStorage) -> None:
    """Time passes: every postponed alert is due."""
    with storage.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alerts SET next_attempt_at = NULL")


def test_sent_alerts_are_marked_with_their_ts(storage: SQLStorage, slack_fake: SlackFake) -> None:
    queue_alerts(storage, "#china-tech", 2)
    deliver(storage, slack_fake)
    sent = storage.outbox_entries(("sent",))
    assert [e.ts for e in sent] == [m["ts"] for m in slack_fake.messages()]
    assert all(isinstance(e.ts, str) and "." in e.ts for e in sent)
    deliver(storage, slack_fake)
    assert len(slack_fake.messages()) == 2  # nothing is sent twice


def test_server_errors_are_retried_with_backoff(storage: SQLStorage, slack_fake: SlackFake) -> None:
    queue_alerts(storage, "#china-tech", 1)
    slack_fake.inject("chat.postMessage", "http_503_html")
    before = now()
    deliver(storage, slack_fake)
    [entry] = storage.outbox_entries(("pending",))
    assert entry.attempts == 1 and entry.error and "503" in entry.error
    assert entry.next_attempt_at is not None
    wait = entry.next_attempt_at - before
    assert BACKOFF_BASE / 2 <= wait <= BACKOFF_BASE + timedelta(seconds=2)
    deliver(storage, slack_fake)
    assert slack_fake.messages() == []  # not due yet
    make_due(storage)
    deliver(storage, slack_fake)
    assert len(slack_fake.messages()) == 1 and statuses(storage) == {"sent": 1}


@pytest.mark.parametrize(
    "kind", ["http_500_html", "internal_error", "service_unavailable", "drop_connection"]
)
def test_transient_faults_keep_the_alert(storage: SQLStorage, slack_fake: SlackFake, kind: str) -> None:
    queue_alerts(storage, "#china-tech", 1)
    slack_fake.inject("chat.postMessage", kind)
    deliver(storage, slack_fake)
    assert statuses(storage) == {"pending": 1}
    make_due(storage)
    deliver(storage, slack_fake)
    assert statuses(storage) == {"sent": 1} and len(slack_fake.messages()) == 1


def test_backoff_grows_exponentially_to_a_cap() -> None:
    delays = [backoff_delay(n).total_seconds() for n in range(1, 12)]
    assert 5 <= delays[0] <= 10 and 10 <= delays[1] <= 20 and 20 <= delays[2] <= 40
    assert max(delays) <= 30 * 60 and delays[-1] >= 15 * 60


def test_429_pauses_only_that_channel(storage: SQLStorage) -> None:
    with SlackFake(channels=["#china-tech", "#news-alerts"], rate_limit=True, burst=2) as fake:
        queue_alerts(storage, "#china-tech", 4)
        queue_alerts(storage, "#news-alerts", 2, start=100)
        deliver(storage, fake)
        assert len(fake.messages("#china-tech")) == 2  # the burst, then 429
        assert len(fake.messages("#news-alerts")) == 2  # the other channel went on
        limited = [r for r in fake.requests("chat.postMessage") if r["status"] == 429]
        assert len(limited) == 1  # after one 429 the channel is left alone until Retry-After
        pending = storage.outbox_entries(("pending",))
        assert len(pending) == 2
        assert all(e.next_attempt_at and e.next_attempt_at > now() for e in pending)
        assert all(e.attempts <= 1 for e in pending)  # a postponed alert did not spend an attempt
        time.sleep(2.1)  # Retry-After: 1, and the fake's bucket refills at 1/s
        deliver(storage, fake, pace=1.0)
        assert len(fake.messages("#china-tech")) == 4 and statuses(storage) == {"sent": 6}


def test_posts_to_one_channel_are_paced(storage: SQLStorage) -> None:
    with SlackFake(channels=["#china-tech"], rate_limit=True, rate_per_second=4, burst=1) as fake:
        queue_alerts(storage, "#china-tech", 4)
        started = time.monotonic()
        deliver(storage, fake, pace=0.3)
        assert len(fake.messages()) == 4
        assert all(r["status"] == 200 for r in fake.requests("chat.postMessage"))  # never a 429
        assert time.monotonic() - started >= 0.9


def test_instances_sharing_a_store_pace_a_channel_together(store: Store) -> None:
    # Slack: "If you attempt bursts, there is no guarantee that messages will be stored or displayed"
    # (SLACK.md §3): two instances each keeping to the pace on its own would post twice as fast.
    first, second = open_storage(store.url), open_storage(store.url)

    async def both(fake: SlackFake) -> tuple[int, int]:
        notifiers = [SlackNotifier(fake.token, api_url=fake.api_url, timeout=5) for _ in range(2)]
        a, b = (Outbox(s, n, config_fingerprint="c", clock=now, pace=0.4)
                for s, n in zip((first, second), notifiers, strict=True))  # fmt: skip
        try:
            queue_alerts(first, "#china-tech", 3)
            sending = asyncio.create_task(a.deliver_due())
            while not a.in_hand:  # the first instance has claimed its three
                await asyncio.sleep(0.01)
            queue_alerts(first, "#china-tech", 3, start=10)  # ... and the second takes these
            stats = await asyncio.gather(sending, b.deliver_due())
        finally:
            for notifier in notifiers:
                await notifier.close()
        return stats[0].sent, stats[1].sent

    try:
        with SlackFake(channels=["#china-tech"], rate_limit=True, rate_per_second=3, burst=1) as fake:
            assert asyncio.run(both(fake)) == (3, 3)  # each instance sent the three it claimed
            assert len(fake.messages("#china-tech")) == 6
            assert [r["status"] for r in fake.requests("chat.postMessage")] == [200] * 6  # never a 429
    finally:
        first.close()
        second.close()


def test_a_channel_held_by_another_instance_postpones_its_alerts_without_stalling(store: Store) -> None:
    other, storage = open_storage(store.url), open_storage(store.url)
    try:
        with SlackFake(channels=["#china-tech", "#news-alerts"]) as fake:
            queue_alerts(storage, "#china-tech", 2)
            queue_alerts(storage, "#news-alerts", 1, start=100)
            # Its 429 said Retry-After: 5 minutes. Asleep for that, the pass would trip the per-test limit.
            other.hold_channel("#china-tech", now() + LONGEST_CHANNEL_HOLD)
            deliver(storage, fake, pace=0.3)
            assert [m["text"] for m in fake.messages("#news-alerts")] and fake.messages("#china-tech") == []
            held = storage.outbox_entries(("pending",))
            assert len(held) == 2 and all(e.attempts == 0 for e in held)  # postponed, not failed
            later = now() + LONGEST_CHANNEL_HOLD - timedelta(seconds=30)
            assert all(e.next_attempt_at and e.next_attempt_at > later for e in held)
    finally:
        other.close()
        storage.close()


def test_a_blocked_channel_fails_its_alerts_without_waiting_turns(storage: SQLStorage) -> None:
    with SlackFake(channels=["#china-tech"]) as fake:
        queue_alerts(storage, "#no-such-channel", 6)
        # A turn of 60 s each: waiting them out, the pass would trip the per-test limit.
        deliver(storage, fake, pace=60)
        assert statuses(storage) == {"failed": 6}
        assert len(fake.requests("chat.postMessage")) == 1  # the refused one; the rest failed unasked


def test_pacing_holds_when_the_wall_clock_stands_still(storage: SQLStorage, slack_fake: SlackFake) -> None:
    # One instance paces itself on the monotonic clock: a wall clock set back or stopped (a VM paused
    # and resumed) must not stall it behind the posting turn it wrote itself.
    queue_alerts(storage, "#china-tech", 3)
    frozen = now()

    async def go() -> None:
        notifier = SlackNotifier(slack_fake.token, api_url=slack_fake.api_url, timeout=5)
        outbox = Outbox(storage, notifier, config_fingerprint="c", clock=lambda: frozen, pace=0.2)
        try:
            await asyncio.wait_for(outbox.deliver_due(), timeout=10)
        finally:
            await notifier.close()

    asyncio.run(go())
    assert len(slack_fake.messages("#china-tech")) == 3


def test_channel_errors_fail_the_channel_once_and_are_retried_after_a_config_change(
    storage: SQLStorage, slack_fake: SlackFake, caplog: pytest.LogCaptureFixture
) -> None:
    queue_alerts(storage, "#no-such-channel", 3)
    queue_alerts(storage, "#china-tech", 1, start=100)
    caplog.set_level(logging.INFO)
    deliver(storage, slack_fake)
    failed = storage.outbox_entries(("failed",))
    assert len(failed) == 3 and all("channel_not_found" in (e.error or "") for e in failed)
    assert "check the channel name" in (failed[0].error or "")
    posts = slack_fake.requests("chat.postMessage")
    assert len(posts) == 2  # one refused post for the bad channel, one sent to the good one
    assert sum("alert.failed" in r.getMessage() for r in caplog.records) == 1  # logged once
    deliver(storage, slack_fake)  # same config: nothing is retried
    assert len(slack_fake.requests("chat.postMessage")) == 2
    slack_fake.add_channel("#no-such-channel")  # the operator fixes it ...
    deliver(storage, slack_fake, fingerprint="config-2")  # ... and the config changed
    assert statuses(storage) == {"sent": 4}


def test_a_revoked_token_stops_all_posting(storage: SQLStorage, slack_fake: SlackFake) -> None:
    queue_alerts(storage, "#china-tech", 5)
    slack_fake.revoke_token()
    deliver(storage, slack_fake)
    assert len(slack_fake.requests("chat.postMessage")) == 1
    assert statuses(storage) == {"failed": 5}
    assert "reinstall the Slack app" in (storage.outbox_entries(("failed",))[0].error or "")


def test_a_lost_reply_can_post_once_more_the_documented_window(
    storage: SQLStorage, slack_fake: SlackFake
) -> None:
    queue_alerts(storage, "#china-tech", 1)
    slack_fake.inject("chat.postMessage", "slow", seconds=3)  # Slack stores it, the reply comes too late
    deliver(storage, slack_fake, timeout=1)
    assert statuses(storage) == {"pending": 1}
    make_due(storage)
    deliver(storage, slack_fake)
    assert statuses(storage) == {"sent": 1}
    assert len(slack_fake.messages()) == 2  # one duplicate: the window README documents, and no more
