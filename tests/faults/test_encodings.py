"""Malformed encodings: nothing crashes, and every item feedparser can read still comes through."""

from __future__ import annotations

import pytest

from monitor.errors import FeedError
from monitor.stages.poll import parse_feed
from tests.support.feeds import rss_feed
from tests.support.world import World, hours_ago

FEED_URL = "https://feeds.example/broken.xml"
RSS_HEADERS = {"content-type": "application/rss+xml"}
TITLE = "Alibaba “quoted” café €5"
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
STORY = "".join(
    f"<p>Alibaba opened office number {n} in Hangzhou this week, the company said in a statement.</p>"
    for n in range(5)
)


def two_items(first_title: str = TITLE, second_title: str = "Second story") -> str:
    return rss_feed(
        "Feed",
        [
            {"title": first_title, "link": "https://x.example/1", "description": "Résumé — naïve"},
            {"title": second_title, "link": "https://x.example/2"},
        ],
    )


def titles(body: bytes, headers: dict[str, str] = RSS_HEADERS) -> tuple[list[str], str | None]:
    _, items, problem = parse_feed(FEED_URL, body, headers)
    return [item.title for item in items], problem


def test_invalid_bytes_in_a_feed_declared_utf8_lose_no_items() -> None:
    body = two_items().encode().replace("café".encode(), b"caf\xe9\xff")
    found, problem = titles(body)
    # feedparser falls back to a single-byte encoding: the non-ASCII text is garbled, the rest is not.
    assert len(found) == 2 and found[0].startswith("Alibaba") and found[1] == "Second story"
    assert problem and "declared as utf-8" in problem


@pytest.mark.parametrize(
    "headers", [RSS_HEADERS, {"content-type": "application/rss+xml; charset=utf-8"}], ids=["none", "HTTP"]
)
def test_a_windows_1252_feed_without_a_declaration_reads_correctly(headers: dict[str, str]) -> None:
    body = two_items().removeprefix(XML_DECLARATION).encode("cp1252")
    found, problem = titles(body, headers)
    assert found == [TITLE, "Second story"]
    assert problem and "windows-1252" in problem


def test_mojibake_is_read_and_even_repaired() -> None:
    double_encoded = two_items().encode().decode("latin-1")  # UTF-8 bytes read as Latin-1, written as UTF-8
    found, _ = titles(double_encoded.encode())
    assert found == [TITLE, "Second story"]  # feedparser undoes the double encoding of text it reads


def test_nul_bytes_in_titles_lose_no_items() -> None:
    body = two_items(second_title="Second\x00story").encode()
    found, problem = titles(body)
    assert [title.replace("\x00", "") for title in found] == [TITLE, "Secondstory"]
    assert problem  # expat refuses NUL; feedparser's loose parser reads the items


def test_emoji_written_as_surrogate_pair_references_lose_no_items() -> None:
    # Some CMSs write an emoji as the halves of its UTF-16 surrogate pair; feedparser's loose parser
    # used to fail on them (UnicodeEncodeError), losing the whole feed for one character.
    body = two_items(second_title="Second story EMOJI").replace("EMOJI", "&#55357;&#56832;").encode()
    assert titles(body)[0] == [TITLE, "Second story 😀"]


@pytest.mark.parametrize("reference", ["&#xD800;", "&#56832;", "&#x110000;", "&#99999999999;"])
def test_references_to_no_character_become_a_replacement_character(reference: str) -> None:
    body = two_items(second_title="Second REFERENCE").replace("REFERENCE", reference).encode()
    assert titles(body)[0] == [TITLE, "Second \ufffd"]


@pytest.mark.parametrize(
    "body,headers",
    [
        (two_items().encode(), {"content-type": "application/rss+xml; charset=undefined"}),
        (two_items().replace("utf-8", "undefined").encode(), RSS_HEADERS),
        (two_items().encode(), {"content-type": "application/rss+xml; charset=utf-16"}),
    ],
    ids=["HTTP undefined", "XML undefined", "HTTP utf-16 for UTF-8 bytes"],
)
def test_an_unusable_charset_is_a_feed_error(body: bytes, headers: dict[str, str]) -> None:
    # Python's "undefined" codec raises UnicodeError for any input; feedparser lets it escape.
    with pytest.raises(FeedError, match="not a valid RSS/Atom feed"):
        parse_feed(FEED_URL, body, headers)


def test_a_feed_with_an_unusable_charset_fails_alone(world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.web.add("/undefined.xml", two_items(), content_type="application/rss+xml; charset=undefined")
    world.feeds.append({"url": world.web.url("/undefined.xml")})
    article = world.web.add("/news/1.html", f"<html><body><article>{STORY}</article></body></html>")
    world.add_feed(
        "/news.xml",
        rss_feed("News", [{"title": "Alibaba office", "link": article, "pub_date": hours_ago(1)}]),
    )
    assert world.once() == 0
    assert world.titles_posted() == ["Alibaba office"]
    failed = [r.getMessage() for r in caplog.records if r.getMessage().startswith("feed.failed")]
    assert any("/undefined.xml" in line and "UnicodeError" in line for line in failed)


def test_a_feed_with_a_nul_in_a_title_still_alerts(world: World) -> None:
    article = world.web.add("/news/1.html", f"<html><body><article>{STORY}</article></body></html>")
    feed = rss_feed("News", [{"title": "Alibaba NULTITLE office", "link": article, "pub_date": hours_ago(1)}])
    world.add_feed("/news.xml", feed.replace("NULTITLE", "\x00"))
    assert world.once() == 0
    [title] = world.titles_posted()
    assert " ".join(title.replace("\x00", " ").split()) == "Alibaba office"  # Slack text is sent without NUL


def html_page(story: str, encoding: str) -> bytes:
    return f"<html><body><article>{story}</article></body></html>".encode(encoding, "replace")


ACCENTED_STORY = STORY.replace("Hangzhou", "Hángzhōu “Zhejiang”")


@pytest.mark.parametrize(
    "page,charset",
    [
        (html_page(ACCENTED_STORY, "cp1252"), "utf-8"),
        (html_page(ACCENTED_STORY, "utf-8"), "iso-8859-1"),
        (html_page(STORY, "utf-8"), "undefined"),
        (html_page(STORY, "utf-8"), "no-such-charset"),
        (html_page(STORY, "utf-16"), "utf-8"),
    ],
    ids=["cp1252 labelled utf-8", "utf-8 labelled latin-1", "undefined", "unknown", "utf-16 labelled utf-8"],
)
def test_a_page_with_a_wrong_charset_header_is_still_read(world: World, page: bytes, charset: str) -> None:
    link = world.web.add("/page.html", page, content_type=f"text/html; charset={charset}")
    item = {"title": "Alibaba office", "link": link, "pub_date": hours_ago(1), "description": "x"}
    world.add_feed("/news.xml", rss_feed("News", [item]))
    assert world.once() == 0
    [message] = world.slack.messages()
    # The summary comes from the page (the feed's description is just "x").
    assert "the company said in a statement" in message["blocks"][2]["text"]["text"]
