"""`news-monitor run` as a real process: polls on schedule, picks up new items, stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.feeds import rss_feed
from tests.support.slack_fake import SlackFake
from tests.support.store import Store
from tests.support.web_server import WebServer
from tests.support.world import World, hours_ago

ARTICLE = (
    "<html><body><article>" + "<p>Alibaba's chip unit T-Head shipped a new processor to data centres.</p>" * 4
)
# Another story (an alert of its own, not a reply in the first one's thread).
OTHER_STORY = (
    "<html><body><article>"
    + "<p>Alibaba Cloud opened a region in Riyadh with a Saudi telecoms partner, its third in the Gulf.</p>"
    * 4
)


def wait_for(condition: Callable[[], bool], timeout: float, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            pytest.fail(f"the service exited early ({process.returncode}): {process.communicate()[1]}")
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"timed out; service stderr:\n{process.communicate()[1]}")


@pytest.mark.timeout(90)
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_run_polls_on_schedule_and_stops_cleanly(
    tmp_path: Path, web_server: WebServer, slack_fake: SlackFake, store: Store, stop_signal: signal.Signals
) -> None:
    world = World(tmp_path, web_server, slack_fake, store)
    first = web_server.add("/a1.html", ARTICLE + "</article></body></html>", content_type="text/html")
    world.add_feed(
        "/feed.xml",
        rss_feed("F", [{"title": "T-Head ships", "link": first, "guid": "1", "pub_date": hours_ago(1)}]),
        interval="2s",
    )
    service = world.spawn("run")
    try:
        wait_for(lambda: len(slack_fake.messages()) == 1, 30, service)
        second = web_server.add(
            "/a2.html", OTHER_STORY + "</article></body></html>", content_type="text/html"
        )
        items = [
            {"title": "T-Head ships", "link": first, "guid": "1", "pub_date": hours_ago(1)},
            {
                "title": "Alibaba opens a Saudi region",
                "link": second,
                "guid": "2",
                "pub_date": hours_ago(0.1),
            },
        ]
        web_server.add("/feed.xml", rss_feed("F", items), content_type="application/rss+xml")
        wait_for(lambda: len(slack_fake.messages()) == 2, 30, service)
        assert web_server.hits("/feed.xml") >= 2
        service.send_signal(stop_signal)
        _, stderr = service.communicate(timeout=15)
    finally:
        if service.poll() is None:
            service.kill()
    assert service.returncode == 0, stderr
    assert "service.stopped" in stderr
    assert [m["text"].split(" (")[0] for m in slack_fake.messages()] == [
        "T-Head ships",
        "Alibaba opens a Saudi region",
    ]
