"""Metadata without authors: the same title, date and site name as trafilatura's full search, for less work.

The pipeline extracts with `authors=False`; page_metadata.search_metadata then runs only the parts of
trafilatura's metadata search that find what the <head> left out. These tests take trafilatura's full
search (`authors=True`) as the reference.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
import trafilatura.metadata

from monitor.models import Article, Page
from monitor.stages.extract import extract_article

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
URL = "https://www.financeblog.example/2025/11/15/alibaba-denies-report/?utm_source=rss"

# Head tags to take out of a golden page, so that the metadata search has to find the field elsewhere.
HEAD_TAGS = {
    "title": r'<meta property="og:title"[^>]*>',
    "date": r'<meta property="article:published_time"[^>]*>',
    "site": r'<meta property="og:site_name"[^>]*>',
    "author": r'<meta name="author"[^>]*>',
}


def golden_without(name: str, *fields: str) -> str:
    html = (PAGES / f"{name}.html").read_text(encoding="utf-8")
    for field in fields:
        html = re.sub(HEAD_TAGS[field], "", html)
    return html


def article_page(head: str, body: str) -> str:
    paragraph = "<p>The council voted on Tuesday to rebuild the old bridge over the river by 2027.</p>"
    return f"<html><head>{head}</head><body><article>{body}{paragraph * 8}</article></body></html>"


VARIANTS = {
    "golden, no og:title": golden_without("financeblog-alibaba-pla", "title"),
    "golden, no published time": golden_without("financeblog-alibaba-pla", "date"),
    "golden, no og:site_name": golden_without("mint-alibaba-denies", "site"),
    "golden, none of the three": golden_without("mint-alibaba-denies", "title", "date", "site"),
    "golden, no date or author": golden_without("financeblog-alibaba-pla", "date", "author"),
    "site name in the title": article_page("<title>Bridge vote | Riverside Gazette</title>", ""),
    "site name from a twitter handle": article_page(
        '<title>Bridge vote</title><meta name="twitter:site" content="@riversidegazette">', ""
    ),
    "date in the body, JSON-LD publisher": article_page(
        '<title>Bridge vote</title><script type="application/ld+json">{"@context": "https://schema.org",'
        ' "@type": "NewsArticle", "publisher": {"@type": "Organization", "name": "Gazette"}}</script>',
        '<h1>Bridge vote</h1><time datetime="2026-03-04T10:00:00Z">4 March 2026</time>',
    ),
    "nothing named anywhere": article_page("", ""),
}


def extract(html: str, *, authors: bool) -> Article:
    return extract_article(Page(url=URL, html=html), authors=authors)


@pytest.mark.parametrize("html", VARIANTS.values(), ids=VARIANTS.keys())
def test_without_authors_title_date_and_site_name_are_trafilaturas(html: str) -> None:
    full = extract(html, authors=True)
    quick = extract(html, authors=False)
    assert quick.authors == ()
    assert quick == dataclasses.replace(full, authors=())


class Calls:
    """Counts the calls to a trafilatura function, then calls it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: Any, name: str):
        self.real = getattr(owner, name)
        self.count = 0
        monkeypatch.setattr(owner, name, self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.count += 1
        return self.real(*args, **kwargs)


def test_without_authors_no_author_category_or_licence_search_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    # trafilatura's author search copies the whole tree and runs dozens of XPath queries on it: on the
    # extraction benchmark, more time than the rest of the metadata search together.
    searches = [
        Calls(monkeypatch, trafilatura.metadata, name)
        for name in ("extract_author", "extract_catstags", "extract_license")
    ]
    html = golden_without("financeblog-alibaba-pla", "date", "author")
    extract(html, authors=False)
    assert [search.count for search in searches] == [0, 0, 0]
    extract(html, authors=True)  # the reference path still runs them: the counting works
    assert all(search.count for search in searches)
