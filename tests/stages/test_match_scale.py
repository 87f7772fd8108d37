"""Matching through the phrase index gives exactly what one regex per term gives (bench/matching.py).

Compared: the matches (watchlists, in order), their hits (term, matched text, headline or body,
sentence, in order, so also their count), every term's positions in the headline and body, and every
query's occurrences; on the labelled set and on generated watchlists and articles (several seeds).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root: bench/ is not installed

from bench.matching import (
    ReferenceWatchlist,
    generate_article,
    generate_watchlists,
    reference_match,
    reference_watchlists,
)
from monitor.config import WatchlistConfig
from monitor.models import Article
from monitor.query import ArticleText
from monitor.query.anchors import _EQUAL_IGNORING_CASE, fold
from monitor.stages.match import CompiledWatchlists, compile_watchlist, match_article
from monitor.text import normalise_text

LABELLED = Path(__file__).resolve().parents[1] / "query" / "labelled.yaml"


def assert_same_as_reference(configs: list[WatchlistConfig], article: Article) -> None:
    ours = CompiledWatchlists(compile_watchlist(c, "#c") for c in configs)
    reference = reference_watchlists(configs)
    assert match_article(article, ours) == reference_match(article, reference)
    title, body = normalise_text(article.title), normalise_text(article.text)
    indexed = ArticleText(title, body, ours.phrase_index.anchors)
    for compiled, expected in zip(ours, reference, strict=True):
        assert_same_positions(compiled.terms, expected, indexed, title, body)
        if compiled.query is not None:
            assert compiled.query.evaluate(indexed) == compiled.query.evaluate(ArticleText(title, body))


def assert_same_positions(
    terms: Any, expected: ReferenceWatchlist, indexed: ArticleText, *texts: str
) -> None:
    for term, reference in zip(terms, expected.terms, strict=True):
        for field, text in zip(("title", "text"), texts, strict=True):
            found = [(o.start, o.end, o.text) for o in indexed.occurrences(term, field)]
            assert found == reference.spans(text), (term.term, field)


def labelled_set() -> tuple[list[WatchlistConfig], list[Article]]:
    data: Any = YAML(typ="safe").load(LABELLED.read_text(encoding="utf-8"))
    configs = [WatchlistConfig.model_validate(w) for w in data["watchlists"]]
    articles = [Article(url="u", title=c["title"], text=c["text"]) for c in data["cases"]]
    return configs, articles


def test_the_labelled_set_matches_as_the_reference_does() -> None:
    configs, articles = labelled_set()
    assert len(articles) >= 60
    for article in articles:
        assert_same_as_reference(configs, article)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_generated_watchlists_match_as_the_reference_does(seed: int) -> None:
    configs = generate_watchlists(1000, seed)
    for mentions in (5, 40, 200):
        article = generate_article(configs, seed * 100 + mentions, mentions=mentions)
        assert_same_as_reference(configs, article)


def test_the_generated_article_is_worth_comparing() -> None:
    configs = generate_watchlists(1000, 1)
    matches = reference_match(generate_article(configs, 1), reference_watchlists(configs))
    assert 10 <= len(matches) < len(configs)
    assert any(hit.in_title for match in matches for hit in match.hits)


@pytest.mark.parametrize(
    ("phrases", "text"),
    [
        (["People's Liberation Army"], "the People's\n\nLiberation \n Army said"),  # a paragraph break
        (["PLA"], "PLA filament, PLA\n\n\nPLA. XPLA PLAX pla"),
        (["ΣΟΦΙΑ"], "σοφια and σοφιας, ΣΟΦΙΑ's"),  # final sigma
        (["Istanbul"], "İSTANBUL and ıstanbul"),  # dotted capital I, dotless i
        (["straße"], "STRASSE, Straße, ſtraße"),
        (["平头哥"], "阿里巴巴旗下平头哥发布新芯片\n平头哥"),
        (["U.S."], "U.S.S.R. and the U.S. and u.s."),
        (["Foo Bar", "Baz"], "  Foo  Bar\n\n\nBaz \n \n Foo \n\n Bar    Baz  "),  # runs of every length
        (["chip export controls"], "Chip   export\n\ncontrols; chip export controls."),
    ],
)
def test_edge_cases_match_as_the_reference_does(phrases: list[str], text: str) -> None:
    for case_sensitive in (False, True):
        term = {"term": phrases[0], "case_sensitive": case_sensitive, "aliases": phrases[1:]}
        configs = [WatchlistConfig.model_validate({"name": "w", "terms": [term]})]
        assert_same_as_reference(configs, Article(url="u", title=text, text=f"Before.\n\n{text}\n\nAfter."))


def test_fold_lowercases_as_the_regex_engine_does() -> None:
    tolower = pytest.importorskip("_sre").unicode_tolower
    for code in range(0x110000):
        if 0xD800 <= code < 0xE000:
            continue
        char = chr(code)
        assert fold(char) == (" " if char == "\n" else chr(tolower(code))) or _equal_ignoring_case(
            fold(char), chr(tolower(code))
        ), hex(code)


def test_fold_knows_every_character_the_regex_engine_treats_as_equal() -> None:
    casefix = pytest.importorskip("re._casefix")
    groups: set[frozenset[str]] = set()
    for code, others in casefix._EXTRA_CASES.items():
        groups.add(frozenset([chr(code), *map(chr, others)]))
    assert groups == {frozenset(group) for group in _EQUAL_IGNORING_CASE}
    for group in _EQUAL_IGNORING_CASE:
        assert {fold(char) for char in group} == {group[0]}
        assert all(re.fullmatch(re.escape(group[0]), char, re.IGNORECASE) for char in group)


def _equal_ignoring_case(a: str | None, b: str) -> bool:
    return any(a in group and b in group for group in _EQUAL_IGNORING_CASE)
