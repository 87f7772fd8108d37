"""Live reload under a running service: a valid edit applies within seconds, a bad one changes nothing."""

from __future__ import annotations

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


def page(company: str, detail: str) -> str:
    return (
        "<html><body><article>" + f"<p>{company} announced {detail} to investors in Shenzhen today.</p>" * 4
    )


# A deadline, not a speed: a passing run never waits for it. On 2 busy cores the service's start alone
# took 16 s (the import), so 20 s was not enough.
def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        assert process.poll() is None, process.communicate()[1]
        time.sleep(0.1)
    process.terminate()
    pytest.fail(f"timed out; service log:\n{process.communicate(timeout=15)[1]}")


@pytest.mark.timeout(240)  # the deadlines of its waits (wait_for), should a busy machine need them
def test_edits_apply_without_restart_and_bad_edits_are_refused(
    tmp_path: Path, web_server: WebServer, slack_fake: SlackFake, store: Store
) -> None:
    slack_fake.add_channel("#ops")
    world = World(tmp_path, web_server, slack_fake, store)
    world.settings["slack"] = {"admin_channel": "#ops"}
    items = [{"title": "Huawei results", "link": web_server.add("/1.html", page("Huawei", "results")),
              "guid": "1", "pub_date": hours_ago(1)}]  # fmt: skip
    world.add_feed("/feed.xml", rss_feed("F", items), interval="1s")
    world.watchlists = [{"name": "huawei", "channel": "#china-tech", "terms": ["Huawei"]}]
    service = world.spawn("run")
    try:
        wait_for(lambda: len(slack_fake.messages("#china-tech")) == 1, service)

        # A valid edit: a new watchlist for Tencent, live within seconds.
        world.watchlists.append({"name": "tencent", "channel": "#china-tech", "terms": ["Tencent"]})
        world.write_config()
        time.sleep(2.5)
        link = web_server.add("/2.html", page("Tencent", "a deal"))
        items.append(
            {"title": "Tencent buys a studio", "link": link, "guid": "2", "pub_date": hours_ago(0.1)}
        )
        web_server.add("/feed.xml", rss_feed("F", items), content_type="application/rss+xml")
        wait_for(lambda: len(slack_fake.messages("#china-tech")) == 2, service)

        # An invalid edit: refused, one notice to the admin channel, the last good config keeps working.
        (tmp_path / "watchlists.yaml").write_text(
            "watchlists:\n  - name: broken\n    terms: []\n", encoding="utf-8"
        )
        wait_for(lambda: len(slack_fake.messages("#ops")) == 1, service)
        (tmp_path / "watchlists.yaml").write_text(
            "watchlists:\n  - name: broken\n    terms: []\n\n", encoding="utf-8"
        )
        time.sleep(2.5)
        assert len(slack_fake.messages("#ops")) == 1  # the same error again: no second notice
        link = web_server.add("/3.html", page("Tencent", "more news"))
        items.append({"title": "Tencent again", "link": link, "guid": "3", "pub_date": hours_ago(0.05)})
        web_server.add("/feed.xml", rss_feed("F", items), content_type="application/rss+xml")
        wait_for(lambda: len(slack_fake.messages("#china-tech")) == 3, service)
        time.sleep(2)
    finally:
        service.terminate()
        _, log = service.communicate(timeout=15)
    titles = [m["text"].split(" (")[0] for m in slack_fake.messages("#china-tech")]
    assert titles == ["Huawei results", "Tencent buys a studio", "Tencent again"]  # nothing alerted twice
    notice = slack_fake.messages("#ops")[0]["text"]
    assert "refused" in notice and "watchlists.yaml:3: watchlists[0].terms" in notice
    assert "config.reloaded watchlists_added=tencent" in log
    assert "config.rejected" in log and "kept=" in log
