"""Feed kinds read from their bytes (feed_kind.py, sitemap_parse.py, json_feed.py) and the dedup keys of
entries sharing one link (dedupe.mark_shared_links), on the formats' published examples."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import FeedError
from monitor.models import FeedItem
from monitor.stages.dedupe import item_keys, mark_shared_links
from monitor.stages.feed_kind import gunzip_capped
from monitor.stages.poll import read_source

SOURCES = Path(__file__).parents[1] / "fixtures" / "sources"
URL = "https://news.example/source"


def read(name: str) -> tuple[str, tuple[FeedItem, ...], str | None, str]:
    return read_source(URL, (SOURCES / name).read_bytes(), {"content-type": "application/xml"})


def test_googles_news_sitemap_example() -> None:
    title, [item], problem, kind = read("google-news-sitemap.xml")
    assert (kind, title, problem) == ("news_sitemap", "The Example Times", None)
    assert (item.link, item.guid, item.title) == (
        "http://www.example.org/business/article55.html",
        "http://www.example.org/business/article55.html",
        "Companies A, B in Merger Talks",
    )
    assert item.published == datetime(2008, 12, 23, tzinfo=UTC)


def test_the_sitemaps_org_urlset_and_index_examples() -> None:
    _, [item], _, kind = read("sitemaps-org-urlset.xml")
    assert (kind, item.link, item.published) == (
        "sitemap",
        "http://www.example.com/",
        datetime(2005, 1, 1, tzinfo=UTC),
    )
    _, items, problem, kind = read("sitemaps-org-index.xml")
    assert (kind, items) == ("sitemap_index", ())
    assert problem is None  # a well-formed index: its children are read when polled


def test_the_json_feed_1_1_example() -> None:
    title, items, _, kind = read("jsonfeed-1.1-example.json")
    assert (kind, title) == ("json_feed", "My Example Feed")
    assert [(i.guid, i.link, i.summary_text) for i in items] == [
        ("2", "https://example.org/second-item", "This is a second item."),
        ("1", "https://example.org/initial-post", "Hello, world!"),
    ]


@pytest.mark.parametrize(
    "body,reason",
    [
        (b'{"version": "1", "items": []}', "JSON, but not a JSON Feed"),
        (b"[" * 100_000, "not JSON"),
        (b"<!DOCTYPE html><html><head><title>Blog</title></head></html>", "news-monitor feeds discover"),
        (b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>', "not a valid sitemap"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><urlset/>', "declares XML entities"),
    ],
)
def test_what_is_not_a_source_is_a_clear_error(body: bytes, reason: str) -> None:
    with pytest.raises(FeedError, match=reason):
        read_source(URL, body, {"content-type": "text/html"})


def test_an_image_loc_is_not_the_pages_loc() -> None:
    body = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
      xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"><url><loc>https://a.example/page</loc>
      <image:image><image:loc>https://a.example/photo.jpg</image:loc></image:image></url></urlset>"""
    _, [item], _, _ = read_source(URL, body, {})
    assert item.link == "https://a.example/page"


def test_gzip_is_decompressed_up_to_the_cap() -> None:
    assert gunzip_capped(URL, gzip.compress(b"x" * 1000), 1000) == b"x" * 1000
    with pytest.raises(FeedError, match="decompresses to more than 999 bytes"):
        gunzip_capped(URL, gzip.compress(b"x" * 1000), 999)
    assert gunzip_capped(URL, b"<rss/>", 10) == b"<rss/>"


def _item(guid: str, link: str, title: str) -> FeedItem:
    return FeedItem(URL, "F", guid, link, title, "", None)


def test_entries_with_own_ids_and_titles_sharing_a_link_have_no_link_key() -> None:
    day = "https://blog.example/2024/01/18"
    items = mark_shared_links(
        [
            _item(f"{day}#a", f"{day}#a", "Morning post"),  # the posts are #fragments of one day page
            _item(f"{day}#b", f"{day}#b", "Evening post"),
            _item("https://x.example/1", "https://x.example/1", "Alone"),
        ]
    )
    assert [item.link_shared for item in items] == [True, True, False]
    assert [key.kind for key in item_keys(items[0])] == ["guid"]
    assert [key.kind for key in item_keys(items[2])] == ["guid", "url"]


def test_true_duplicates_keep_their_link_key() -> None:
    link = "https://x.example/story"
    same_title = mark_shared_links([_item("id-1", link, "Story"), _item("id-2", link, "Story")])
    no_ids = mark_shared_links([_item(link, link, "Story"), _item(link, link, "Story, updated")])
    assert not any(item.link_shared for item in (*same_title, *no_ids))
