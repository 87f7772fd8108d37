"""`news-monitor once` on feed URLs that serve JSON Feed, news sitemaps, sitemaps and sitemap indexes
(issue 16), end to end: the real CLI, the local web server, a real store, the Slack fake.

The documents are the formats' own published examples (tests/fixtures/sources/README.md) with their
example hosts, dates and titles replaced.
"""

from __future__ import annotations

import gzip
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.stages.sitemap_index import MAX_CHILD_SITEMAPS
from tests.support.feeds import rfc3339_date, rss_feed
from tests.support.world import World, hours_ago, page

SOURCES = Path(__file__).parent / "fixtures" / "sources"
MATCHING_TITLE = "Alibaba fires back at allegations of assisting Chinese Military"
OTHER_TITLE = "Cold snap grips northern Europe"


def fixture(name: str) -> str:
    return (SOURCES / name).read_text(encoding="utf-8")


def news_sitemap(urls: list[tuple[str, str, datetime]]) -> str:
    """Google's example news sitemap with one <url> per (loc, title, publication date)."""
    document = fixture("google-news-sitemap.xml")
    template = re.search(r"  <url>.*?</url>\n", document, re.S)
    assert template is not None
    blocks = [
        template.group()
        .replace("http://www.example.org/business/article55.html", loc)
        .replace("2008-12-23", rfc3339_date(published))
        .replace("Companies A, B in Merger Talks", title)
        for loc, title, published in urls
    ]
    return document.replace(template.group(), "".join(blocks))


def plain_sitemap(urls: list[tuple[str, datetime | None]]) -> str:
    """The sitemaps.org sample urlset with one <url> per (loc, lastmod); None leaves lastmod out."""
    document = fixture("sitemaps-org-urlset.xml")
    template = re.search(r"   <url>.*?</url>\n", document, re.S)
    assert template is not None
    blocks = []
    for loc, lastmod in urls:
        block = template.group().replace("http://www.example.com/", loc)
        lastmod_line = "      <lastmod>2005-01-01</lastmod>\n\n"
        blocks.append(block.replace(lastmod_line, "" if lastmod is None else lastmod_line.replace(
            "2005-01-01", rfc3339_date(lastmod))))  # fmt: skip
    return document.replace(template.group(), "".join(blocks))


def sitemap_index(children: list[tuple[str, datetime]]) -> str:
    """The sitemaps.org sample index with one <sitemap> per (loc, lastmod)."""
    document = fixture("sitemaps-org-index.xml")
    template = re.search(r"   <sitemap>.*?</sitemap>\n", document, re.S)
    assert template is not None
    blocks = [
        "   <sitemap>\n\n      <loc>LOC</loc>\n\n      <lastmod>LASTMOD</lastmod>\n\n   </sitemap>\n".replace(
            "LOC", loc
        ).replace("LASTMOD", rfc3339_date(lastmod))
        for loc, lastmod in children
    ]
    start, end = template.start(), document.index("</sitemapindex>")
    return document[:start] + "".join(blocks) + "\n" + document[end:]


def serve_pages(world: World) -> tuple[str, str]:
    web = world.web
    matching = web.add("/news/alibaba.html", page("mint-alibaba-denies.html"), content_type="text/html")
    other = web.add("/news/weather.html", page("weather-with-trending.html"), content_type="text/html")
    return matching, other


def feed_status(world: World, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert world.run_cli("status", "--json") == 0
    return list(json.loads(capsys.readouterr().out)["feeds"])


def test_a_news_sitemap_polls_like_rss(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    matching, other = serve_pages(world)
    body = news_sitemap([(matching, MATCHING_TITLE, hours_ago(1)), (other, OTHER_TITLE, hours_ago(2))])
    url = world.web.add("/news-sitemap.xml", body, content_type="application/xml")
    world.feeds.append({"url": url})
    assert world.once() == 0
    assert world.titles_posted() == [MATCHING_TITLE]
    assert "The Example Times" in json.dumps(world.slack.messages()[0]["blocks"])  # news:name: the source
    [status] = feed_status(world, capsys)
    assert (status["kind"], status["result"]) == ("news_sitemap", "2 items")
    assert world.once() == 0
    assert world.titles_posted() == [MATCHING_TITLE]  # not again
    assert world.web.hits("/news/alibaba.html") == 1


def test_a_json_feed_polls_like_rss(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    matching, other = serve_pages(world)
    feed = json.loads(fixture("jsonfeed-1.1-example.json"))
    second, first = feed["items"]
    second.update(url=other, date_published=rfc3339_date(hours_ago(2)))
    first.update(url=matching, title=MATCHING_TITLE, date_published=rfc3339_date(hours_ago(1)))
    url = world.web.add("/feed.json", json.dumps(feed), content_type="application/feed+json")
    world.feeds.append({"url": url})
    assert world.once() == 0
    assert world.titles_posted() == [MATCHING_TITLE]
    [status] = feed_status(world, capsys)
    assert (status["kind"], status["name"], status["result"]) == ("json_feed", "My Example Feed", "2 items")
    assert world.once() == 0
    assert world.titles_posted() == [MATCHING_TITLE]
    assert world.web.requests("/feed.json")[-1]["headers"].get("if-none-match")  # conditional GET


def test_first_poll_of_a_plain_sitemap_alerts_no_undated_backlog(world: World) -> None:
    matching, _ = serve_pages(world)
    url = world.web.add("/sitemap.xml", plain_sitemap([(matching, None)]), content_type="application/xml")
    world.feeds.append({"url": url})
    assert world.once() == 0
    assert world.titles_posted() == []  # undated, on a first poll: recorded, not alerted
    assert world.web.hits("/news/alibaba.html") == 0
    fresh = world.web.add("/news/fresh.html", page("mint-alibaba-denies.html"), content_type="text/html")
    updated = plain_sitemap([(matching, None), (fresh, hours_ago(1))])
    world.web.add("/sitemap.xml", updated, content_type="application/xml")
    assert world.once() == 0
    assert len(world.titles_posted()) == 1  # the new URL, titled by its page
    assert world.web.hits("/news/fresh.html") == 1


def _gz(text: str) -> bytes:
    return gzip.compress(text.encode())


def test_a_sitemap_index_reads_its_most_recent_gzip_children(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    matching, other = serve_pages(world)
    web = world.web
    children = []
    for day in range(5):  # day 0 is the newest
        title, loc = (MATCHING_TITLE, matching) if day == 0 else (OTHER_TITLE, other)
        path = f"/sitemaps/news-{day}.xml.gz"
        child = news_sitemap([(loc + f"?d={day}", title, hours_ago(1 + day))])
        web.add(path, _gz(child), content_type="application/x-gzip")
        children.append((web.url(path), hours_ago(1 + day)))
    url = web.add(
        "/sitemap_index.xml", sitemap_index(list(reversed(children))), content_type="application/xml"
    )
    world.feeds.append({"url": url})
    assert world.once() == 0
    assert world.titles_posted() == [MATCHING_TITLE]
    read = [day for day in range(5) if web.hits(f"/sitemaps/news-{day}.xml.gz")]
    assert read == list(range(MAX_CHILD_SITEMAPS))  # the most recent, bounded in count
    [status] = feed_status(world, capsys)
    assert status["kind"] == "sitemap_index"
    assert world.once() == 0
    assert world.titles_posted() == [MATCHING_TITLE]


def test_a_sitemap_index_of_thousands_of_children_reads_a_few(world: World) -> None:
    matching, _ = serve_pages(world)
    web = world.web
    web.add(
        "/sitemaps/newest.xml",
        news_sitemap([(matching, MATCHING_TITLE, hours_ago(1))]),
        content_type="text/xml",
    )
    children = [(web.url(f"/sitemaps/old-{n}.xml"), hours_ago(48 + n)) for n in range(5_000)]
    children.insert(2_500, (web.url("/sitemaps/newest.xml"), hours_ago(1)))
    world.feeds.append(
        {"url": web.add("/index.xml", sitemap_index(children), content_type="application/xml")}
    )
    assert world.once() == 0
    assert world.titles_posted() == [MATCHING_TITLE]
    children_requested = [r for r in web.requests() if r["path"].startswith("/sitemaps/")]
    assert len(children_requested) == MAX_CHILD_SITEMAPS


def test_a_sitemap_index_pointing_at_a_private_address_is_refused(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    matching, _ = serve_pages(world)
    web = world.web
    web.add(
        "/internal/news.xml",
        news_sitemap([(matching, MATCHING_TITLE, hours_ago(1))]),
        content_type="text/xml",
    )
    index = sitemap_index([(web.url("/internal/news.xml"), hours_ago(1))])
    world.feeds.append({"url": web.add("/index.xml", index, content_type="application/xml")})
    world.settings["fetch"] = {"allow_private_addresses": False}
    world.once()
    # The configured index is the operator's and is fetched; the child it names, on 127.0.0.1, is not.
    assert web.hits("/index.xml") == 1
    assert web.hits("/internal/news.xml") == 0
    assert world.titles_posted() == []
    [status] = feed_status(world, capsys)
    assert status["state"] == "failing"
    assert "child sitemap" in status["result"] and "refusing a non-public address" in status["result"]


def test_a_gzip_bomb_child_is_refused(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    web = world.web
    bomb = gzip.compress(b"<" + b" " * 50_000_000, compresslevel=9)  # 50 MB of spaces, about 50 kB sent
    assert len(bomb) < 100_000
    web.add("/sitemaps/bomb.xml.gz", bomb, content_type="application/x-gzip")
    index = sitemap_index([(web.url("/sitemaps/bomb.xml.gz"), hours_ago(1))])
    world.feeds.append({"url": web.add("/index.xml", index, content_type="application/xml")})
    world.settings["fetch"] = {"max_feed_bytes": 1_000_000}
    world.once()
    [status] = feed_status(world, capsys)
    assert "decompresses to more than 1,000,000 bytes" in status["result"]


def test_an_html_page_where_a_feed_was_expected_says_what_to_run(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    url = world.web.add("/blog/", page("weather-with-trending.html"), content_type="text/html; charset=utf-8")
    world.feeds.append({"url": url})
    assert world.once() == 1  # no feed could be read
    [status] = feed_status(world, capsys)
    assert "sent a web page, not a feed (Content-Type: text/html)" in status["result"]
    assert f"news-monitor feeds discover {url}" in status["result"]


def test_entries_sharing_one_link_alert_separately(world: World) -> None:
    """Podcast episodes with their own GUIDs and titles, all linking the show's home page."""
    show = world.web.add("/show/", page("weather-with-trending.html"), content_type="text/html")
    episodes = [
        ("ep-1", "Episode 1: Alibaba's cloud results", "Alibaba reported quarterly cloud revenue growth."),
        ("ep-2", "Episode 2: chips from T-Head", "Pingtouge, the chip unit, shipped a new server processor."),
        ("ep-3", "Episode 3: gardening", "Tomatoes, and when to plant them."),
    ]
    items = [
        {"title": title, "link": show, "guid": guid, "description": text, "pub_date": hours_ago(1 + n)}
        for n, (guid, title, text) in enumerate(episodes)
    ]
    items.append(dict(items[0]))  # the same GUID again: a true duplicate
    world.add_feed("/show/rss.xml", rss_feed("The Show", items))
    assert world.once() == 0
    assert sorted(world.titles_posted()) == [episodes[0][1], episodes[1][1]]
    assert world.web.hits("/show/") == 0  # each episode's text is the feed's own
    assert world.once() == 0
    assert len(world.titles_posted()) == 2


def test_a_json_feed_item_whose_url_is_no_url_fails_nothing_else(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # `http://[::1` made urljoin raise and every `once` exit 1 with a traceback, the good feed beside it
    # never recorded (found by an outside review).
    matching, _ = serve_pages(world)
    feed = json.loads(fixture("jsonfeed-1.1-example.json"))
    broken, _ = feed["items"]
    broken.update(
        url="http://[::1", title="Alibaba item with a broken link", date_published=rfc3339_date(hours_ago(2))
    )
    feed["items"] = [broken]
    world.feeds.append(
        {"url": world.web.add("/bad.json", json.dumps(feed), content_type="application/feed+json")}
    )
    good = [{"title": MATCHING_TITLE, "link": matching, "guid": "g1", "pub_date": hours_ago(1)}]
    world.feeds.append({"url": world.web.add("/good.xml", rss_feed("Good wire", good))})
    assert world.once() == 0
    assert sorted(world.titles_posted()) == sorted([MATCHING_TITLE, "Alibaba item with a broken link"])
    assert {status["result"] for status in feed_status(world, capsys)} == {"1 item"}
