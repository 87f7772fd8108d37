"""A configured feed's secrets never reach an output through what the feed says: its items' relative
links, links carrying userinfo, titles that fall back to links, query parameters under any name, a
password holding a space, a URL written as a YAML key; and masking never shows a host a URL does not
go to. Through the real outputs: `once` (log and Slack, the fake), `status`, `stories`, `preview`
(text and JSON), `check`, the Slack admin notice after a refused live edit (issue 12, class 4; review
round 3, breaks 1, 3, 4, 5 and 9).

Every secret is fenced by MARK (upper-case; hosts, paths and user names here are lower-case), so any
end of it that leaks leaks a MARK.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.feeds import atom_feed, rss_feed
from tests.support.world import World, hours_ago

MARK = "QZX"
PAGE = "<html><body><article>" + "<p>Alibaba's cloud unit signed a deal with the PLA's suppliers.</p>" * 4
PAGE += "</article></body></html>"
SUMMARY = "Alibaba denies helping the PLA, the People's Liberation Army."
READING_COMMANDS = (
    ["status"],
    ["status", "--json"],
    ["stories", "--all"],
    ["stories", "--all", "--json"],
    ["preview"],
    ["preview", "--json"],
)


def everything_shown(world: World, capfd: pytest.CaptureFixture[str]) -> str:
    """What `once` logged and printed, what Slack was sent, and every reading command's output."""
    for command in READING_COMMANDS:
        assert world.run_cli(*command) in (0, 1), command
    output = capfd.readouterr()
    return output.out + output.err + json.dumps(world.slack.requests(), ensure_ascii=False)


def with_secret(feed_url: str, where: str) -> str:
    secret = f"{MARK}S3cretFeedT0ken{MARK}"
    if where == "userinfo":
        return feed_url.replace("http://", f"http://reader:{secret}@")
    if where == "userinfo with a space":
        return feed_url.replace("http://", f"http://reader:{MARK}open sesame99{MARK}@")
    if where == "known parameter":
        return f"{feed_url}?apikey={secret}"
    return f"{feed_url}?user=desk&pw={secret}&hash={MARK}0f3c9a{MARK}&access_code={MARK}AcCeSs{MARK}"


SECRET_PLACES = ("userinfo", "userinfo with a space", "known parameter", "parameters under any name")


@pytest.mark.parametrize("where", SECRET_PLACES)
@pytest.mark.parametrize(
    "item",
    [
        {"title": None, "link": "/news/alibaba-pla-1"},  # no title: the link is the title
        {"title": "Alibaba and the PLA: relative", "link": "news/alibaba-pla-1"},
        {"title": "Alibaba and the PLA: fragment", "link": "#a1"},
        {"title": None, "link": "?id=1"},
    ],
    ids=["path-no-title", "relative-path", "fragment", "query-no-title"],
)
def test_a_feed_secret_never_reaches_an_output_through_its_items_links(
    world: World, capfd: pytest.CaptureFixture[str], where: str, item: dict[str, Any]
) -> None:
    world.web.add("/news/alibaba-pla-1", PAGE, content_type="text/html")
    world.web.add("/private/news/alibaba-pla-1", PAGE, content_type="text/html")
    entry = {**item, "guid": "g1", "pub_date": hours_ago(1), "description": SUMMARY}
    feed = world.web.add("/private/feed.xml", rss_feed("", [entry]), content_type="application/rss+xml")
    world.feeds.append({"url": with_secret(feed, where)})  # no name, no <title>: named by its URL

    assert world.once() == 0
    [alert] = world.top_level("#china-tech")
    shown = everything_shown(world, capfd)
    assert MARK not in shown
    assert world.web.requests("/private/feed.xml")  # the feed itself is read with its secrets
    for request in world.web.requests():
        if not request["headers"].get("accept", "").startswith("application/rss+xml"):
            assert "authorization" not in request["headers"], request  # its items' pages are not
            assert MARK not in request["target"], request
    assert "127.0.0.1" in alert["blocks"][0]["text"]["text"]  # the link still goes to the feed's host


@pytest.mark.parametrize("build", [rss_feed, atom_feed], ids=["rss", "atom"])
def test_an_item_link_with_userinfo_is_fetched_and_shown_without_it(
    world: World, capfd: pytest.CaptureFixture[str], build: Any
) -> None:
    # An absolute link: the fast parser (fastfeedparser) reads this feed; the userinfo is dropped at
    # parse time whichever parser read it, so the page gets no Basic auth and no output shows it.
    page = world.web.add("/story.html", PAGE, content_type="text/html")
    link = page.replace("http://", f"http://reader:{MARK}t0ken{MARK}@")
    item = {"title": "Alibaba deal", "link": link, "guid": "g1", "pub_date": hours_ago(1)}
    world.add_feed("/feed.xml", build("Wire", [item]), name="Wire")
    assert world.once() == 0
    [request] = world.web.requests("/story.html")
    assert "authorization" not in request["headers"]
    assert MARK not in everything_shown(world, capfd)
    assert world.run_cli("stories", "--all", "--json") == 0
    [story] = json.loads(capfd.readouterr().out)
    assert story["articles"][0]["url"] == page


def test_stories_masks_a_long_token_before_it_cuts_the_line(
    world: World, capfd: pytest.CaptureFixture[str]
) -> None:
    # A JWT-like token, longer than any column: cut first, the URL would lose its `@` and its token
    # would no longer look like one.
    token = f"{MARK}eyJhbGciOiJIUzI1NiJ9.{'A1b2C3d4E5' * 16}{MARK}"
    page = world.web.add("/story.html", PAGE, content_type="text/html")
    feed = world.web.url("/feed.xml")
    secret_url = feed.replace("http://", f"http://reader:{token}@")
    title = f"Alibaba and the PLA, as {secret_url} says"  # a feed that echoes its own URL
    item = {"title": title, "link": page, "guid": "g1", "pub_date": hours_ago(1)}
    world.web.add("/feed.xml", rss_feed("Wire", [item]), content_type="application/rss+xml")
    world.feeds.append({"url": secret_url, "name": "Wire"})
    assert world.once() == 0
    assert world.run_cli("stories", "--all") == 0
    output = capfd.readouterr()
    assert "STORY" in output.out
    assert MARK not in output.out + output.err


def test_query_secrets_under_any_name_are_hidden_where_the_feed_url_is_shown(
    world: World, capfd: pytest.CaptureFixture[str]
) -> None:
    page = world.web.add("/story.html", PAGE, content_type="text/html")
    item = {"title": "Alibaba deal", "link": page, "guid": "g1", "pub_date": hours_ago(1)}
    feed = world.web.add("/feed.xml", rss_feed("", [item]), content_type="application/rss+xml")
    world.feeds.append({"url": with_secret(feed, "parameters under any name")})
    assert world.once() == 0
    [alert] = world.top_level("#china-tech")
    assert (
        "/feed.xml?user=***&amp;pw=***&amp;hash=***&amp;access_code=***"
        in alert["blocks"][1]["elements"][0]["text"]
    )
    assert world.run_cli("status", "--json") == 0
    [status] = json.loads(capfd.readouterr().out)["feeds"]
    assert status["url"].endswith("/feed.xml?user=***&pw=***&hash=***&access_code=***")
    assert MARK not in everything_shown(world, capfd)


def test_a_feed_password_holding_a_space_is_never_shown(
    world: World, capfd: pytest.CaptureFixture[str]
) -> None:
    # The URL as written in monitor.yaml reaches log lines (feed_url=...), where masking would end the
    # URL at the space; the password is masked whole wherever it appears, in any spelling.
    page = world.web.add("/story.html", PAGE, content_type="text/html")
    item = {"title": "Alibaba deal", "link": page, "guid": "g1", "pub_date": hours_ago(1)}
    good = world.web.add("/feed.xml", rss_feed("Wire", [item]), content_type="application/rss+xml")
    world.feeds.append({"url": with_secret(good, "userinfo with a space")})
    missing = world.web.url("/gone.xml")  # 404: its failure is logged with its URL
    world.feeds.append({"url": with_secret(missing, "userinfo with a space").replace("99", "42")})
    world.once()
    shown = everything_shown(world, capfd)
    assert "gone.xml" in shown
    assert MARK not in shown
    assert "sesame" not in shown


def test_a_url_written_as_a_key_is_masked_in_configuration_errors(
    world: World, capfd: pytest.CaptureFixture[str]
) -> None:
    world.add_feed("/feed.xml", rss_feed("Good", []), name="Good")
    key = f"https://reader:{MARK}open sesame{MARK}@feeds.example/private.rss?pw={MARK}k3y{MARK}"
    world.feeds.append({key: {"name": "Private"}})  # an indentation slip
    assert world.run_cli("check") == 2
    output = capfd.readouterr()
    assert "feeds[1]" in output.out + output.err
    assert MARK not in output.out + output.err


def test_a_refused_live_edit_never_shows_a_password_from_a_key_in_the_admin_notice(world: World) -> None:
    from tests.test_secrets_outputs import admin_notice_after_a_live_edit

    def edit() -> None:  # a feed URL with credentials written as a key: an indentation slip
        world.feeds.append(
            {f"https://reader:{MARK}Zq8TOKENvalue1234{MARK}@feeds.example/x.rss": {"name": "P"}}
        )

    notice, log = admin_notice_after_a_live_edit(world, edit)
    assert "refused" in notice["text"] and "feeds[1]" in notice["text"]
    assert MARK not in notice["text"] and MARK not in log


def test_a_link_is_never_shown_with_a_host_it_does_not_go_to(
    world: World, capfd: pytest.CaptureFixture[str]
) -> None:
    # yarl (aiohttp) reads the host of `http://127.0.0.1:P#@public.example/g` as 127.0.0.1: masking
    # must not show it as `http://***@public.example/g`.
    world.web.add("/", PAGE, content_type="text/html")
    link = world.web.url("/").rstrip("/") + "#@public.example/g"
    item = {"title": "Alibaba deal", "link": link, "guid": "g1", "pub_date": hours_ago(1)}
    world.add_feed("/feed.xml", rss_feed("Wire", [item]), name="Wire")
    assert world.once() == 0
    shown = everything_shown(world, capfd)
    assert "127.0.0.1" in shown
    assert "***@public.example" not in shown
