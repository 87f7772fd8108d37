"""One outbox entry the sender cannot handle fails alone: the alerts queued behind it still go out."""

from __future__ import annotations

import pytest

from tests.support.feeds import rss_feed
from tests.support.world import World, hours_ago

# Two unrelated Alibaba stories, so that each is an alert of its own (not a story's alert and its reply).
STORIES = (
    (
        "Alibaba cloud signs province deal",
        "Alibaba's cloud unit signed a data-centre deal with Zhejiang province.",
    ),
    (
        "Alibaba shares fall in Hong Kong",
        "Alibaba shares fell in Hong Kong after quarterly revenue missed forecasts.",
    ),
)


def two_alerts(world: World) -> None:
    items = [
        {
            "title": title,
            "link": world.web.url(f"/missing-{n}.html"),  # 404: alerted on the feed's own text
            "guid": f"poison-{n}",
            "description": f"<p>{text}</p>",
            "pub_date": hours_ago(n),
        }
        for n, (title, text) in enumerate(STORIES, start=1)
    ]
    world.add_feed("/feed.xml", rss_feed("Wire", items), name="Wire")


def test_an_unreadable_entry_fails_alone_and_the_rest_are_delivered(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    two_alerts(world)
    world.slack.inject("chat.postMessage", "internal_error", times=10)  # both stay queued
    assert world.once() == 0
    assert world.slack.messages() == []
    pending = world.store.rows("SELECT id FROM alerts WHERE status = 'pending' ORDER BY id")
    assert len(pending) == 2
    # An entry written by a buggy or older version: its payload no longer reads as an alert.
    world.store.execute("UPDATE alerts SET payload = '{}' WHERE id = :id", id=pending[0][0])
    world.slack.reset()
    world.let_backoff_pass()

    assert world.once() == 0
    assert len(world.top_level()) == 1
    statuses = world.store.rows("SELECT status, error FROM alerts ORDER BY id")
    assert statuses[0][0] == "failed" and "could not be sent" in statuses[0][1]
    assert statuses[1][0] == "sent"
    assert not [r for r in caplog.records if "outbox.pass_failed" in r.getMessage()]
