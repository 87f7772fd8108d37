"""First-layer dedup keys: canonical URLs, GUIDs and text fingerprints."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.models import Article, FeedItem
from monitor.stages.dedupe import (
    article_keys,
    canonicalise_url,
    fingerprint_text,
    item_keys,
    plausible_canonical,
)

TEXT = " ".join(["Alibaba denied the claims made in a White House memo about data."] * 4)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.example.com/news/a-story/", "https://www.example.com/news/a-story"),
        ("HTTPS://WWW.EXAMPLE.COM/news/a-story", "https://www.example.com/news/a-story"),
        ("https://www.example.com:443/news/a-story#comments", "https://www.example.com/news/a-story"),
        (
            "https://www.example.com/news/a-story?utm_source=rss&utm_medium=feed",
            "https://www.example.com/news/a-story",
        ),
        ("https://www.example.com/news/a-story?fbclid=abc&gclid=def", "https://www.example.com/news/a-story"),
        ("https://www.example.com/news?id=7&utm_campaign=x", "https://www.example.com/news?id=7"),
        ("https://www.example.com/news?b=2&a=1", "https://www.example.com/news?a=1&b=2"),
        ("http://example.com:8080/x/", "http://example.com:8080/x"),
        ("https://example.com", "https://example.com/"),
    ],
)
def test_canonicalise_url(url: str, expected: str) -> None:
    assert canonicalise_url(url) == expected


def test_path_case_is_kept() -> None:
    assert canonicalise_url("https://example.com/Story") != canonicalise_url("https://example.com/story")


def test_fingerprint_ignores_markup_spacing_and_case() -> None:
    assert fingerprint_text(TEXT) == fingerprint_text(TEXT.upper().replace(" ", "  \n"))
    assert fingerprint_text(TEXT) != fingerprint_text(TEXT + " One more sentence.")


def test_short_texts_get_no_fingerprint() -> None:
    assert fingerprint_text("Read more") is None


def test_keys() -> None:
    item = FeedItem(
        feed_url="https://feed.example/rss",
        feed_title="Feed",
        guid="g-1",
        link="https://site.example/a?utm_source=rss",
        title="t",
        summary_html="",
        published=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert [(k.kind, k.key) for k in item_keys(item)] == [
        ("guid", "https://feed.example/rss g-1"),
        ("url", "https://site.example/a"),
    ]
    article = Article(
        url="https://site.example/a", title="t", text=TEXT, canonical_url="https://site.example/canon/"
    )
    kinds = [(k.kind, k.key) for k in article_keys(item, article)]
    assert ("url", "https://site.example/canon") in kinds
    assert ("fingerprint", fingerprint_text(TEXT)) in kinds
    assert len(kinds) == len(set(kinds)) == 4


@pytest.mark.parametrize(
    ("page", "canonical", "believed"),
    [
        ("https://www.mint.example/a?x=1", "https://www.mint.example/a", True),
        ("https://mint.example/a", "https://www.mint.example/a", True),
        (
            "https://amp.mint.example/a",
            "https://www.mint.example/a",
            False,
        ),  # siblings, not one inside the other
        ("https://www.mint.example/a", "https://mint.example/a", True),
        ("https://evil.example/a", "https://www.mint.example/a", False),  # speaking for another site
        ("https://www.mint.example/a", "https://www.mint.example/", False),  # the home page
    ],
)
def test_plausible_canonical(page: str, canonical: str | None, believed: bool) -> None:
    assert (plausible_canonical(page, canonical) == canonical) is believed
    if not believed:
        assert plausible_canonical(page, canonical) is None


@given(st.text(max_size=60).map(lambda tail: "http://" + tail))
def test_any_link_gets_a_key_and_never_fails_the_item(link: str) -> None:
    key = canonicalise_url(link)
    assert isinstance(key, str) and key
    assert plausible_canonical("https://example.com/a", link) in (None, link)
    assert plausible_canonical(link, "https://example.com/a") in (None, "https://example.com/a")
