"""Slack recovery: from Slack answering again to the alerts that waited for it being posted.

    python bench/slack_recovery.py [--probes 1 3 6] [--alerts 4] [--json out.json]

`python -m monitor --config ... run` runs as a real process against the local feed server and the Slack
fake (tests/support/), with the default pacing (1 s per channel) and `--alerts` alerts over two channels.
The fake fails every chat.postMessage and auth.test (HTTP 503 and dropped connections, alternating) until
the service has probed it `N` times (an outage of about 5 s for N=1, a minute for N=6, when the probe
interval has reached its ceiling), then answers again. Measured for each N: the seconds from Slack's
return to the first and to the last alert posted, and how many posts the service tried while Slack was
down (one: the post that found it down).

Before this (news-monitor up to issue 13), each alert kept its own backoff (10 s, 20 s ... 30 min), so
after an outage of a few minutes alerts could wait up to 30 minutes after Slack was back.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.feeds import rss_feed  # noqa: E402
from tests.support.slack_fake import SlackFake  # noqa: E402
from tests.support.store import sqlite_store  # noqa: E402
from tests.support.web_server import WebServer  # noqa: E402
from tests.support.world import World, hours_ago  # noqa: E402

CHANNELS = ("#desk-a", "#desk-b")
# A bound for a hung service, not a figure: a trial that takes this long failed.
TRIAL_TIMEOUT_SECONDS = 300


def build(world: World, alerts: int) -> None:
    items = []
    for number in range(alerts):
        title = f"Alibaba story {number}"
        page = f"<html><body><article>{f'<p>{title}: Alibaba opened office {number}.</p>' * 3}</article>"
        link = world.web.add(f"/story-{number}.html", page + "</body></html>", content_type="text/html")
        items.append({"title": title, "link": link, "guid": f"s{number}", "pub_date": hours_ago(1)})
    world.add_feed("/feed.xml", rss_feed("Desk", items), name="Desk")
    world.watchlists = [
        {"name": f"w{number}", "channel": channel, "terms": ["Alibaba"]}
        for number, channel in enumerate(CHANNELS)
    ]
    world.settings = {"slack": {"min_post_interval": "1s"}}


def wait(condition: Any, seconds: float = TRIAL_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the trial did not finish")
        time.sleep(0.01)


def trial(probes: int, alerts: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder, WebServer() as web, SlackFake(channels=CHANNELS) as slack:
        world = World(Path(folder), web, slack, sqlite_store(Path(folder)))
        build(world, alerts)
        for method in ("chat.postMessage", "auth.test"):
            for _ in range(500):
                slack.inject(method, "http_503_html")
                slack.inject(method, "drop_connection")
        service = world.spawn("run")
        try:
            wait(lambda: len(slack.requests("auth.test")) >= probes)
            posts_while_down = len(slack.requests("chat.postMessage"))
            slack.clear_faults()
            back = time.monotonic()
            expected = alerts * len(CHANNELS)
            wait(lambda: len(slack.messages()) >= 1)
            first = time.monotonic() - back
            wait(lambda: len(slack.messages()) >= expected)
            last = time.monotonic() - back
        finally:
            service.terminate()
            service.communicate(timeout=30)
        return {"failed_probes": probes, "posts_while_down": posts_while_down, "alerts": expected,
                "first_after_s": round(first, 2), "last_after_s": round(last, 2)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--probes", type=int, nargs="+", default=[1, 3, 6])
    parser.add_argument("--alerts", type=int, default=4, help="articles, each alerted in both channels")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = [trial(probes, args.alerts) for probes in args.probes]
    header = ("failed probes", "posts while down", "alerts", "first after", "last after")
    print(f"{header[0]:>13} {header[1]:>16} {header[2]:>6} {header[3]:>11} {header[4]:>10}")
    for row in rows:
        print(f"{row['failed_probes']:>13} {row['posts_while_down']:>16} {row['alerts']:>6} "
              f"{row['first_after_s']:>10.1f}s {row['last_after_s']:>9.1f}s")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
