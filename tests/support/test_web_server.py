"""The local web server and feed builders, seen through real urllib / http.client / aiohttp clients."""

from __future__ import annotations

import asyncio
import gzip
import http.client
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta, timezone
from email.utils import formatdate, parsedate_to_datetime
from xml.etree import ElementTree as ET

import aiohttp
import feedparser
import pytest

from tests.support.feeds import atom_feed, rfc822_date, rfc3339_date, rss_feed

PAGE = "<html><body><p>Article body</p></body></html>"


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, dict, bytes]:
    """(status, headers, body) without raising on 3xx/4xx/5xx and without following redirects."""
    split = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(split.hostname, split.port, timeout=5)
    try:
        connection.request(
            method, split.path + (f"?{split.query}" if split.query else ""), headers=headers or {}
        )
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


# --- basic serving ---


def test_get_and_head_serve_the_body_and_its_headers(web_server):
    url = web_server.add("/a/1", PAGE, headers={"Cache-Control": "max-age=60"})

    status, headers, body = fetch(url)
    head_status, head_headers, head_body = fetch(url, method="HEAD")

    assert (status, body.decode()) == (200, PAGE)
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "max-age=60"
    assert (head_status, head_body) == (200, b"")
    assert head_headers["Content-Length"] == str(len(PAGE.encode()))
    assert head_headers["ETag"] == headers["ETag"]


def test_scripted_status_and_headers(web_server):
    url = web_server.add("/busy", "try later", status=503, headers={"Retry-After": "120"})

    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url, timeout=5)

    assert caught.value.code == 503
    assert caught.value.headers["Retry-After"] == "120"
    caught.value.close()


def test_replaced_content_is_served_and_removed_path_is_404(web_server):
    url = web_server.add("/page", "first")
    web_server.add("/page", "second")

    assert fetch(url)[2] == b"second"
    web_server.remove("/page")
    assert fetch(url)[0] == 404
    assert fetch(web_server.url("/never-added"))[0] == 404


def test_query_string_routes_take_precedence_over_the_bare_path(web_server):
    web_server.add("/search", "bare")
    web_server.add("/search?q=chips", "chips")

    assert fetch(web_server.url("/search?q=chips"))[2] == b"chips"
    assert fetch(web_server.url("/search?q=other"))[2] == b"bare"


# --- conditional requests ---


def test_if_none_match_gets_304_until_the_content_changes(web_server):
    url = web_server.add("/feed.xml", "v1", content_type="application/rss+xml")
    etag = fetch(url)[1]["ETag"]

    not_modified = fetch(url, {"If-None-Match": etag})
    web_server.add("/feed.xml", "v1", content_type="application/rss+xml")  # same bytes: still unchanged
    still_not_modified = fetch(url, {"If-None-Match": f"W/{etag}"})
    web_server.add("/feed.xml", "v2", content_type="application/rss+xml")
    changed = fetch(url, {"If-None-Match": etag})

    assert (not_modified[0], not_modified[2], not_modified[1]["ETag"]) == (304, b"", etag)
    assert still_not_modified[0] == 304
    assert (changed[0], changed[2]) == (200, b"v2")
    assert changed[1]["ETag"] != etag


def test_if_modified_since_gets_304_and_sees_a_change_within_the_same_second(web_server):
    url = web_server.add("/feed.xml", "v1")
    last_modified = fetch(url)[1]["Last-Modified"]

    unchanged = fetch(url, {"If-Modified-Since": last_modified})
    web_server.add("/feed.xml", "v2")
    changed = fetch(url, {"If-Modified-Since": last_modified})

    assert unchanged[0] == 304
    assert changed[0] == 200
    assert parsedate_to_datetime(changed[1]["Last-Modified"]) > parsedate_to_datetime(last_modified)


def test_if_none_match_wins_over_if_modified_since(web_server):
    url = web_server.add("/feed.xml", "v1")
    last_modified = fetch(url)[1]["Last-Modified"]

    response = fetch(url, {"If-None-Match": '"other"', "If-Modified-Since": last_modified})

    assert response[0] == 200


def test_explicit_last_modified_and_unconditional_routes(web_server):
    modified = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    dated = web_server.add("/dated", "x", last_modified=modified)
    plain = web_server.add("/plain", "x", conditional=False)

    dated_headers = fetch(dated)[1]
    earlier = formatdate((modified - timedelta(days=1)).timestamp(), usegmt=True)

    assert parsedate_to_datetime(dated_headers["Last-Modified"]) == modified
    assert fetch(dated, {"If-Modified-Since": earlier})[0] == 200
    assert "ETag" not in fetch(plain)[1]
    assert fetch(plain, {"If-None-Match": "*"})[0] == 200


# --- redirects, gzip ---


def test_redirect_sends_location_and_urllib_follows_it(web_server):
    web_server.add("/new", "moved here")
    old = web_server.redirect("/old", "/new", status=301)

    status, headers, _ = fetch(old)
    with urllib.request.urlopen(old, timeout=5) as response:
        final_url, body = response.url, response.read()

    assert (status, headers["Location"]) == (301, web_server.url("/new"))
    assert (final_url, body) == (web_server.url("/new"), b"moved here")
    assert web_server.hits("/old") == 2 and web_server.hits("/new") == 1


def test_gzip_only_for_clients_that_accept_it(web_server):
    url = web_server.add("/big", PAGE * 20, gzip=True)

    _, zipped_headers, zipped = fetch(url, {"Accept-Encoding": "gzip"})
    _, plain_headers, plain = fetch(url)

    assert zipped_headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped).decode() == PAGE * 20
    assert len(zipped) < len(plain)
    assert "Content-Encoding" not in plain_headers and plain.decode() == PAGE * 20


def test_aiohttp_decodes_gzip_transparently(web_server):
    url = web_server.add("/big", PAGE * 20, gzip=True)

    async def get() -> tuple[str | None, str]:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return response.headers.get("Content-Encoding"), await response.text()

    encoding, text = asyncio.run(get())

    assert (encoding, text) == ("gzip", PAGE * 20)


# --- slow and hanging servers ---


def test_slow_drip_really_trickles(web_server):
    url = web_server.slow_drip("/slow", b"x" * 100, bytes_per_second=40)
    split = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(split.hostname, split.port, timeout=5)
    connection.request("GET", split.path)
    response = connection.getresponse()

    received, started = b"", time.monotonic()
    while time.monotonic() - started < 0.5:
        received += response.read1(100)
    connection.close()

    assert response.headers["Content-Length"] == "100"
    assert 0 < len(received) < 100  # ~20 bytes after 0.5 s at 40 B/s


def test_slow_drip_defeats_a_one_second_total_timeout(web_server):
    # 50 s of drip: a total timeout that did not hold would read the whole body instead of raising (no
    # wall-clock bound: CI's 2 cores are busy, and the exception already says the timeout held).
    url = web_server.slow_drip("/slow", b"x" * 1000, bytes_per_second=20)

    async def get() -> bytes:
        timeout = aiohttp.ClientTimeout(total=1)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
            return await response.read()

    with pytest.raises(TimeoutError):
        asyncio.run(get())


def test_hang_sends_nothing_and_the_request_is_logged(web_server):
    url = web_server.hang("/hang", seconds=5)

    with pytest.raises(TimeoutError):
        urllib.request.urlopen(url, timeout=0.5)

    assert web_server.hits("/hang") == 1


# --- request log ---


def test_request_log_keeps_method_path_query_and_headers(web_server):
    url = web_server.add("/feed.xml", "v1")
    request = urllib.request.Request(
        url + "?page=2", headers={"User-Agent": "news-monitor/0.1", "If-None-Match": '"abc"'}
    )
    with urllib.request.urlopen(request, timeout=5):
        pass
    fetch(url, method="HEAD")

    log = web_server.requests("/feed.xml")
    assert [(r["method"], r["path"], r["query"]) for r in log] == [
        ("GET", "/feed.xml", "page=2"),
        ("HEAD", "/feed.xml", ""),
    ]
    assert log[0]["headers"]["user-agent"] == "news-monitor/0.1"
    assert log[0]["headers"]["if-none-match"] == '"abc"'
    assert web_server.hits("/feed.xml?page=2") == 1
    web_server.clear_requests()
    assert web_server.requests() == []


# --- feed builders ---

ITEMS = [
    {
        "title": 'Chips & <Tariffs> "now"',
        "link": "http://example.test/a?x=1&y=2",
        "guid": "story-1",
        "description": "<p>Export rules &amp; more</p>",
        "pub_date": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        "categories": ["trade"],
    },
    {"title": "Undated", "link": "http://example.test/b", "pub_date": None},
]


def test_rss_feed_escapes_text_and_formats_rfc822_dates():
    document = rss_feed("Wire <News>", ITEMS)
    items = ET.fromstring(document.encode()).findall("./channel/item")

    assert ET.fromstring(document.encode()).findtext("./channel/title") == "Wire <News>"
    assert items[0].findtext("title") == 'Chips & <Tariffs> "now"'
    assert items[0].findtext("link") == "http://example.test/a?x=1&y=2"
    assert items[0].findtext("description") == "<p>Export rules &amp; more</p>"
    assert items[0].findtext("pubDate") == "Tue, 02 Jan 2024 03:04:05 GMT"
    assert items[0].find("guid").get("isPermaLink") == "false"
    assert items[1].find("pubDate") is None


def test_atom_feed_formats_rfc3339_dates_and_summaries():
    document = atom_feed("Wire", ITEMS)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = ET.fromstring(document.encode())
    entries = root.findall("a:entry", ns)

    assert root.findtext("a:updated", namespaces=ns) == "2024-01-02T03:04:05Z"
    assert entries[0].findtext("a:id", namespaces=ns) == "story-1"
    assert entries[0].findtext("a:published", namespaces=ns) == "2024-01-02T03:04:05Z"
    assert entries[0].findtext("a:summary", namespaces=ns) == "<p>Export rules &amp; more</p>"
    assert entries[1].findtext("a:id", namespaces=ns) == "http://example.test/b"
    assert entries[1].find("a:updated", ns) is None


def test_dates_keep_non_utc_offsets_and_reject_naive_datetimes():
    tokyo = datetime(2024, 1, 2, 12, 0, tzinfo=timezone(timedelta(hours=9)))

    assert rfc822_date(tokyo) == "Tue, 02 Jan 2024 12:00:00 +0900"
    assert rfc3339_date(tokyo) == "2024-01-02T12:00:00+09:00"
    with pytest.raises(ValueError, match="timezone-aware"):
        rfc822_date(datetime(2024, 1, 2))
    with pytest.raises(ValueError, match="unknown item keys"):
        rss_feed("x", [{"title": "t", "pubDate": "typo"}])


@pytest.mark.parametrize("build", [rss_feed, atom_feed])
def test_feedparser_reads_served_feeds(web_server, build):
    url = web_server.add("/feed", build("Wire", ITEMS), content_type="application/xml")

    with urllib.request.urlopen(url, timeout=5) as response:
        parsed = feedparser.parse(response.read())

    assert not parsed.bozo
    assert [entry.title for entry in parsed.entries] == ['Chips & <Tariffs> "now"', "Undated"]
    assert parsed.entries[0].link == "http://example.test/a?x=1&y=2"
    assert parsed.entries[0].published_parsed[:6] == (2024, 1, 2, 3, 4, 5)
