"""Extraction does bounded work per page, whatever the page (issue 12, class 3).

Work is counted in what the real trafilatura functions are handed (wrapped, then called), never timed.
"""

from __future__ import annotations

from typing import Any

import pytest
import trafilatura
import trafilatura.core

from monitor.models import Page
from monitor.stages.extract import FALLBACK_MAX_TAGS, MAX_HTML_TAGS, extract_article


class TreeSizes:
    """Wraps a trafilatura function that takes a tree first: the number of elements of each tree."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: Any, name: str):
        self.real = getattr(owner, name)
        self.sizes: list[int] = []
        monkeypatch.setattr(owner, name, self)

    def __call__(self, tree: Any, *args: Any, **kwargs: Any) -> Any:
        self.sizes.append(sum(1 for _ in tree.iter()))
        return self.real(tree, *args, **kwargs)


def page_of(repeated: str, times: int) -> Page:
    html = f"<html><head><title>t</title></head><body>{repeated * times}</body></html>"
    return Page(url="https://news.example/a", html=html, status=200)


def test_the_fallback_extractors_never_read_a_page_too_big_for_them(monkeypatch: pytest.MonkeyPatch) -> None:
    # jusText looks for each short paragraph's neighbours one by one: 3,000 of these took about 9 s.
    fallbacks = TreeSizes(monkeypatch, trafilatura.core, "compare_extraction")
    extract_article(page_of("<div><p>x y z</p></div>", 3_000), authors=False)
    assert all(size <= FALLBACK_MAX_TAGS for size in fallbacks.sizes), fallbacks.sizes


def test_a_page_of_many_paragraphs_is_read_only_up_to_the_tag_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    passes = TreeSizes(monkeypatch, trafilatura, "bare_extraction")
    paragraph = "<p>Alibaba opened another office in Hangzhou this week, the company said.</p>"
    article = extract_article(page_of(paragraph, 40_000), authors=False)
    assert article.text.startswith("Alibaba opened")  # the article is kept
    # Each paragraph is two tags; the html, head, title and body elements are the rest.
    assert passes.sizes and max(passes.sizes) <= MAX_HTML_TAGS // 2 + 4, passes.sizes
