"""Several instances on one store: each due feed, each alert and each housekeeping run goes to one of them.

Two SQLStorage objects on one store are two instances (each has its own instance id), exactly as two
processes would be; the concurrency test runs them in threads against the same database.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event

from monitor.config import FleetSettings
from monitor.models import FeedItem
from monitor.pipeline.feed_schedule import JITTER_SHARE
from monitor.pipeline.held_items import HeldItems, ItemWork
from monitor.storage import ArticleKey, ArticleRecord, PollSuccess, QueuedAlert, SQLStorage, open_storage
from monitor.storage.fleet import DEFAULT_LEASE, FEED_HOLD_SHARE
from tests.support.store import Store

LEASE = timedelta(seconds=30)
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
FEEDS = [f"https://feeds.example/{n}.xml" for n in range(6)]


@pytest.fixture
def fleet(store: Store) -> Iterator[tuple[SQLStorage, SQLStorage]]:
    first = open_storage(store.url, lease=LEASE)
    second = open_storage(store.url, lease=LEASE)
    # Both live in this process, so neither may take the other for a dead predecessor with its pid.
    first.join_fleet(NOW, alive=lambda pid: True)
    second.join_fleet(NOW, alive=lambda pid: True)
    yield first, second
    first.close()
    second.close()


def polled(next_poll_at: datetime) -> PollSuccess:
    return PollSuccess(
        title="Feed", etag=None, last_modified=None, result="3 items", next_poll_at=next_poll_at
    )


def queue_alert(storage: SQLStorage, n: int) -> int:
    record = ArticleRecord("https://feeds.example/0.xml", f"g{n}", f"https://news.example/{n}", None,
                           f"Story {n}", "text", NOW, NOW, f"fp{n}", "alerted", source="Feed")  # fmt: skip
    result = storage.record_article(record, [ArticleKey("url", record.url)], [QueuedAlert("#alerts", "{}")])
    [entry] = result.outbox
    return entry.id


def test_a_due_feed_goes_to_one_instance_and_is_not_due_again_once_polled(fleet) -> None:
    a, b = fleet
    assert a.claim_feeds(FEEDS[:4], NOW) == FEEDS[:4]
    assert b.claim_feeds(FEEDS, NOW) == FEEDS[4:]  # the rest: nobody held them
    a.record_poll_successes([(url, polled(NOW + timedelta(minutes=10)), NOW) for url in FEEDS[:4]])
    # The poll is recorded and the claim given back, but the feed is not due for another 10 minutes.
    assert b.claim_feeds(FEEDS[:4], NOW + timedelta(seconds=1)) == []
    assert b.claim_feeds(FEEDS[:4], NOW + timedelta(minutes=10)) == FEEDS[:4]


def test_a_dead_instances_feeds_are_taken_over_when_its_lease_runs_out(fleet) -> None:
    a, b = fleet
    assert a.claim_feeds(FEEDS, NOW) == FEEDS  # ... and then `a` dies without recording anything
    assert b.claim_feeds(FEEDS, NOW + LEASE - timedelta(seconds=1)) == []
    assert b.claim_feeds(FEEDS, NOW + LEASE + timedelta(seconds=1)) == FEEDS


def test_renewed_leases_hold_and_only_for_the_feeds_still_being_worked_on(fleet) -> None:
    a, b = fleet
    a.claim_feeds(FEEDS[:2], NOW)
    a.renew_claims(NOW + LEASE / 2, feeds=[FEEDS[0]], alerts=[])  # FEEDS[1]'s poll crashed: not renewed
    later = NOW + LEASE + timedelta(seconds=1)
    assert b.claim_feeds(FEEDS[:2], later) == [FEEDS[1]]


def test_a_clean_stop_gives_everything_back_at_once(fleet) -> None:
    a, b = fleet
    alert = queue_alert(a, 1)
    a.claim_feeds(FEEDS, NOW)
    assert [entry.id for entry in a.claim_due_alerts(NOW)] == [alert]
    a.leave_fleet()
    assert b.claim_feeds(FEEDS, NOW) == FEEDS
    assert [entry.id for entry in b.claim_due_alerts(NOW)] == [alert]
    assert [instance.id for instance in b.instances(NOW)] == [b.instance_id]


def test_an_alert_is_claimed_by_one_instance_and_sent_state_ends_the_claim(fleet) -> None:
    a, b = fleet
    first, second = queue_alert(a, 1), queue_alert(a, 2)
    assert [entry.id for entry in a.claim_due_alerts(NOW, limit=1)] == [first]
    assert [entry.id for entry in b.claim_due_alerts(NOW)] == [second]
    assert a.claim_due_alerts(NOW) == [] and b.claim_due_alerts(NOW) == []
    a.mark_alert_sent(first, ts="1.0", at=NOW)
    b.release_alerts([second])  # b is stopping before it sent it
    assert [entry.id for entry in a.claim_due_alerts(NOW)] == [second]
    a.mark_alert_sent(second, ts="2.0", at=NOW)
    assert b.claim_due_alerts(NOW + LEASE + timedelta(seconds=1)) == []  # sent: never claimed again


def test_an_unsent_alert_of_a_dead_instance_is_sent_by_another_after_the_lease(fleet) -> None:
    a, b = fleet
    alert = queue_alert(a, 1)
    assert [entry.id for entry in a.claim_due_alerts(NOW)] == [alert]
    assert b.claim_due_alerts(NOW + LEASE - timedelta(seconds=1)) == []
    assert [entry.id for entry in b.claim_due_alerts(NOW + LEASE + timedelta(seconds=1))] == [alert]


def test_housekeeping_runs_once_per_due_time_across_the_fleet(fleet) -> None:
    a, b = fleet
    every = timedelta(hours=6)
    assert [a.claim_job("housekeeping", NOW, every), b.claim_job("housekeeping", NOW, every)] == [True, False]
    assert b.claim_job("housekeeping", NOW + timedelta(hours=5), every) is False
    assert b.claim_job("housekeeping", NOW + every, every) is True
    assert a.claim_job("housekeeping", NOW + every, every) is False


def test_status_lists_instances_with_what_they_hold(fleet) -> None:
    a, b = fleet
    queue_alert(a, 1)
    a.claim_feeds(FEEDS[:3], NOW)
    b.claim_due_alerts(NOW)
    held = {i.id: (i.feeds_held, i.alerts_held) for i in a.instances(NOW)}
    assert held == {a.instance_id: (3, 0), b.instance_id: (0, 1)}


def test_a_restarted_instance_frees_its_dead_predecessors_leases_at_once(store: Store) -> None:
    dead = open_storage(store.url, lease=LEASE)
    dead.join_fleet(NOW)
    dead.claim_feeds(FEEDS, NOW)  # ... and the process is killed
    successor = open_storage(store.url, lease=LEASE)
    try:
        successor.join_fleet(NOW, alive=lambda pid: False)  # the predecessor's pid is gone
        assert successor.claim_feeds(FEEDS, NOW) == FEEDS
        assert [i.id for i in successor.instances(NOW)] == [successor.instance_id]
    finally:
        dead.close()
        successor.close()


def test_racing_instances_never_both_win_a_feed_or_an_alert(store: Store) -> None:
    instances = [open_storage(store.url, lease=LEASE) for _ in range(4)]
    urls = [f"https://feeds.example/race/{n}.xml" for n in range(200)]
    alerts = [queue_alert(instances[0], n) for n in range(60)]
    won_feeds: list[list[str]] = [[] for _ in instances]
    won_alerts: list[list[int]] = [[] for _ in instances]
    start = threading.Barrier(len(instances))

    def compete(index: int) -> None:
        start.wait()
        for _ in range(5):
            won_feeds[index] += instances[index].claim_feeds(urls, NOW)
            won_alerts[index] += [entry.id for entry in instances[index].claim_due_alerts(NOW, limit=7)]

    threads = [threading.Thread(target=compete, args=(n,)) for n in range(len(instances))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        every_feed = [url for won in won_feeds for url in won]
        every_alert = [alert for won in won_alerts for alert in won]
        assert sorted(every_feed) == sorted(urls)  # each exactly once
        assert sorted(every_alert) == sorted(alerts)
    finally:
        for instance in instances:
            instance.close()


def test_a_sender_that_loses_a_race_takes_the_next_entries_instead_of_none(fleet) -> None:
    a, b = fleet
    alerts = [queue_alert(a, n) for n in range(14)]
    won_by_a: list[int] = []

    def a_claims_first(conn, cursor, statement: str, *args) -> None:  # just before b's claim is written
        if statement.lstrip().upper().startswith("UPDATE ALERTS") and not won_by_a:
            won_by_a.extend(entry.id for entry in a.claim_due_alerts(NOW, limit=7))

    event.listen(b.engine, "before_cursor_execute", a_claims_first)
    try:
        won_by_b = [entry.id for entry in b.claim_due_alerts(NOW, limit=7)]
    finally:
        event.remove(b.engine, "before_cursor_execute", a_claims_first)
    # A pick made before the other's claim and written after it found nothing left, though 7 were free
    # (the sender then idled a pass): the pick and the claim are now one step.
    assert len(won_by_a) == len(won_by_b) == 7
    assert sorted(won_by_a + won_by_b) == alerts


@pytest.mark.parametrize("channel", ["#alerts", "#" + "a-very-long-channel-name-" * 3])
def test_one_instance_at_a_time_takes_a_channels_turn_to_post(fleet, channel: str) -> None:
    a, b = fleet
    pace = timedelta(seconds=1)
    assert a.take_channel_turn(channel, NOW, pace) is None  # a posts now
    assert b.take_channel_turn(channel, NOW + timedelta(milliseconds=300), pace) == NOW + pace
    assert b.take_channel_turn("#other", NOW, pace) is None  # channels are paced apart
    assert b.take_channel_turn(channel, NOW + pace, pace) is None
    assert a.take_channel_turn(channel, NOW + pace, pace) == NOW + pace * 2


def test_the_instance_that_took_the_last_turn_may_take_the_next_whatever_its_clock_says(fleet) -> None:
    a, b = fleet
    pace = timedelta(seconds=1)
    assert a.take_channel_turn("#alerts", NOW, pace) is None
    # a's clock is set back an hour (or stands still): it paces itself on its monotonic clock, so the
    # turn it holds must not stall it for the hour.
    assert a.take_channel_turn("#alerts", NOW - timedelta(hours=1), pace) is None
    assert b.take_channel_turn("#alerts", NOW - timedelta(hours=1), pace) is not None  # but it is a's


def test_a_turn_further_ahead_than_any_hold_is_ignored(fleet) -> None:
    a, b = fleet
    pace = timedelta(seconds=1)
    assert a.take_channel_turn("#alerts", NOW + timedelta(hours=2), pace) is None  # a's clock runs ahead
    assert b.take_channel_turn("#alerts", NOW, pace) is None


def test_a_429_holds_the_channel_for_every_instance(fleet) -> None:
    a, b = fleet
    pace = timedelta(seconds=1)
    assert a.take_channel_turn("#alerts", NOW, pace) is None
    a.hold_channel("#alerts", NOW + timedelta(seconds=30))  # Slack said Retry-After: 30
    a.hold_channel("#alerts", NOW + timedelta(seconds=5))  # a shorter hold does not shorten it
    for instance in (a, b):  # the one that took the last turn too
        assert instance.take_channel_turn("#alerts", NOW + timedelta(seconds=10), pace) == NOW + timedelta(
            seconds=30
        )
    assert b.take_channel_turn("#alerts", NOW + timedelta(seconds=30), pace) is None


def test_a_dead_pollers_feed_waits_for_its_interval_not_just_the_lease(fleet) -> None:
    a, b = fleet
    interval = timedelta(minutes=10)
    intervals = dict.fromkeys(FEEDS[:2], interval)
    assert a.claim_feeds(FEEDS[:2], NOW, intervals=intervals) == FEEDS[:2]  # ... requested, then a dies
    a.renew_claims(NOW + timedelta(seconds=10), feeds=FEEDS[:2], alerts=[])  # renewal never shortens it
    # Its lease has long run out, but the feeds may have been requested just before a died: taking them
    # now would poll them twice within their interval. They are taken when they would be due anyway.
    assert b.claim_feeds(FEEDS[:2], NOW + LEASE * 2, intervals=intervals) == []
    assert (
        b.claim_feeds(FEEDS[:2], NOW + interval * 0.9 + timedelta(seconds=1), intervals=intervals)
        == FEEDS[:2]
    )


def test_the_adaptive_interval_stored_for_a_feed_sets_its_hold(fleet) -> None:
    a, b = fleet
    a.record_poll_successes([(FEEDS[0], dataclasses.replace(polled(NOW), poll_interval=300), NOW)])
    assert a.claim_feeds([FEEDS[0]], NOW, default_interval=timedelta(hours=1)) == [FEEDS[0]]
    assert b.claim_feeds([FEEDS[0]], NOW + timedelta(seconds=269)) == []
    assert b.claim_feeds([FEEDS[0]], NOW + timedelta(seconds=271)) == [FEEDS[0]]  # 90 % of 5 minutes


def test_an_instance_claims_no_more_feeds_than_it_is_given_room_for(fleet) -> None:
    a, b = fleet
    assert a.claim_feeds(FEEDS, NOW, limit=2) == FEEDS[:2]
    assert b.claim_feeds(FEEDS, NOW) == FEEDS[2:]


def test_the_hold_share_matches_the_schedulers_jitter() -> None:
    assert pytest.approx(1 - JITTER_SHARE) == FEED_HOLD_SHARE


def test_an_instance_forgotten_by_another_registers_again_when_it_renews(fleet) -> None:
    a, b = fleet
    b.leave_fleet()  # as if another instance had taken it for dead and forgotten it
    b.renew_claims(NOW, feeds=[], alerts=[])
    assert {instance.id for instance in a.instances(NOW)} == {a.instance_id, b.instance_id}


def work_for(n: int) -> str:
    link = f"https://news.example/{n}"
    item = FeedItem(FEEDS[0], "Feed", f"g{n}", link, f"Story {n}", "<p>Summary</p>", NOW)
    return ItemWork(item, "Outlet", first_poll=False).to_json()


def test_an_item_a_dead_instance_was_reading_is_taken_over_when_its_lease_runs_out(fleet) -> None:
    a, b = fleet
    claim = a.hold_item(FEEDS[0], work_for(1), NOW)  # ... a fetches the page, and dies
    assert b.claim_orphaned_items(NOW + LEASE - timedelta(seconds=1)) == []
    assert b.claim_orphaned_items(NOW + LEASE + timedelta(seconds=1)) == [(claim, work_for(1))]
    # b holds it now, for a lease of its own.
    assert a.claim_orphaned_items(NOW + LEASE + timedelta(seconds=2)) == []


def test_an_item_being_read_is_kept_by_renewals_and_gone_once_finished(fleet) -> None:
    a, b = fleet
    kept, finished = a.hold_item(FEEDS[0], work_for(1), NOW), a.hold_item(FEEDS[0], work_for(2), NOW)
    a.renew_claims(NOW + LEASE / 2, feeds=[], alerts=[], items=[kept, finished])
    a.finish_items([finished])  # recorded: nothing for anyone to take over
    assert b.claim_orphaned_items(NOW + LEASE + timedelta(seconds=1)) == []
    assert b.claim_orphaned_items(NOW + LEASE * 1.5 + timedelta(seconds=1)) == [(kept, work_for(1))]


def test_a_stopping_instance_gives_its_items_back_at_once(fleet) -> None:
    a, b = fleet
    claim = a.hold_item(FEEDS[0], work_for(1), NOW)
    a.leave_fleet()
    assert b.claim_orphaned_items(NOW) == [(claim, work_for(1))]


def test_an_item_claim_is_finished_unless_reading_it_was_cut_short(fleet) -> None:
    a, b = fleet
    held = HeldItems(a)
    done, failed, left, cancelled = (a.hold_item(FEEDS[0], work_for(n), NOW) for n in range(4))
    with held.holding(done):
        assert held.ids() == [done]  # renewed while it is read
    with pytest.raises(ValueError), held.holding(failed):
        raise ValueError("a parser bug: the item's own fault, not to be taken over again and again")
    with held.holding(left) as hold:
        hold.leave = True  # not read: the instance is stopping
    with pytest.raises(asyncio.CancelledError), held.holding(cancelled):
        raise asyncio.CancelledError
    assert held.ids() == []
    assert [claim for claim, _ in b.claim_orphaned_items(NOW + LEASE * 2)] == [left, cancelled]


def test_racing_instances_never_both_take_over_an_item(store: Store) -> None:
    dead, *instances = [open_storage(store.url, lease=LEASE) for _ in range(4)]
    claims = [dead.hold_item(FEEDS[0], work_for(n), NOW) for n in range(40)]
    taken: list[list[int]] = [[] for _ in instances]
    start = threading.Barrier(len(instances))

    def take_over(index: int) -> None:
        start.wait()
        for _ in range(3):
            taken[index] += [claim for claim, _ in instances[index].claim_orphaned_items(NOW + LEASE * 2)]

    threads = [threading.Thread(target=take_over, args=(n,)) for n in range(len(instances))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(claim for won in taken for claim in won) == claims  # each exactly once
    finally:
        for instance in (dead, *instances):
            instance.close()


def test_the_next_takeover_is_when_the_first_lease_of_another_instance_runs_out(fleet) -> None:
    a, b = fleet
    assert b.next_takeover_at(NOW) is None
    queue_alert(a, 1)
    queue_alert(a, 2)
    [first, _unsent] = a.claim_due_alerts(NOW)  # a's sender holds both until NOW + LEASE
    a.mark_alert_sent(first.id, ts="1.0", at=NOW)  # sent: nothing to take over
    a.hold_item(FEEDS[0], work_for(1), NOW + timedelta(seconds=5))
    assert a.next_takeover_at(NOW) is None  # its own leases are not for it to take over
    assert b.next_takeover_at(NOW) == NOW + LEASE  # the unsent alert's
    assert b.next_takeover_at(NOW + LEASE) == NOW + LEASE + timedelta(seconds=5)  # then the item's
    assert b.next_takeover_at(NOW + LEASE + timedelta(seconds=5)) is None


@given(
    text=st.text(),
    published=st.one_of(st.none(), st.datetimes(timezones=st.just(UTC))),
    first_poll=st.booleans(),
)
def test_an_item_taken_over_is_the_item_its_reader_held_whatever_it_holds(
    text: str, published: datetime | None, first_poll: bool
) -> None:
    item = FeedItem(FEEDS[0], text, text, text, text, text, published)
    work = ItemWork(item, text, first_poll)
    assert ItemWork.from_json(work.to_json()) == work


def test_the_default_lease_is_the_stores() -> None:
    assert FleetSettings().lease == DEFAULT_LEASE == timedelta(seconds=15)
