"""Matching: whole words, case rules, Unicode normalisation, CJK, excludes, title and body."""

from __future__ import annotations

import pytest

from monitor.config import TermConfig
from monitor.models import Article
from monitor.query import compile_query, parse_query
from monitor.stages.match import CompiledWatchlist, compile_term, match_article, matched_words
from monitor.text import normalise_text

WATCHLIST = CompiledWatchlist(
    name="alibaba-military",
    channel="#china-tech",
    terms=(
        compile_term(TermConfig(term="Alibaba")),
        compile_term(
            TermConfig(
                term="PLA",
                case_sensitive=True,
                aliases=["People's Liberation Army"],
                exclude=["PLA filament", "PLA plastic"],
            )
        ),
        compile_term(TermConfig(term="T-Head", aliases=["Pingtouge", "平头哥"])),
    ),
)


def matched_terms(text: str, title: str = "") -> list[str]:
    matches = match_article(Article(url="https://x.example/a", title=title, text=text), [WATCHLIST])
    return [hit.term for match in matches for hit in match.hits]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Alibaba reported earnings.", ["Alibaba"]),
        ("Alibaba's cloud unit grew.", ["Alibaba"]),
        ("alibaba and ALIBABA", ["Alibaba", "Alibaba"]),
        ("An Alibabaesque rally.", []),
        ("NotAlibaba", []),
        ("the PLA said", ["PLA"]),
        ("the pla said", []),  # case_sensitive
        ("the people's liberation army said", []),  # aliases follow the term's case rule
        ("the People’s Liberation Army said", ["PLA"]),  # curly apostrophe
        ("the People's\nLiberation  Army", ["PLA"]),  # line break and double space
        ("T\u2011Head chips", ["T-Head"]),  # non-breaking hyphen
        ("T\u2014Head or T\u2013Head", ["T-Head", "T-Head"]),  # dashes
        ("ＡＬＩＢＡＢＡ", ["Alibaba"]),  # full-width letters
        ("阿里巴巴旗下平头哥发布新芯片", ["T-Head"]),  # CJK: no word boundaries
        ("Pingtouge's chip", ["T-Head"]),
        ("Multiplayer PLAtform", []),
    ],
)
def test_term_matching(text: str, expected: list[str]) -> None:
    assert matched_terms(text) == expected


def test_exclude_suppresses_only_the_occurrences_it_covers() -> None:
    assert matched_terms("Buy PLA filament and PLA plastic.") == []
    assert matched_terms("Buy PLA filament. Meanwhile the PLA held drills.") == ["PLA"]


def test_title_hits_are_marked() -> None:
    matches = match_article(
        Article(url="u", title="Alibaba denies", text="The company denied it."), [WATCHLIST]
    )
    [hit] = matches[0].hits
    assert hit.in_title and hit.sentence == "Alibaba denies"


def test_hits_carry_their_sentence() -> None:
    text = "Markets fell. Analysts said the PLA used Alibaba cloud. Nothing else."
    matches = match_article(Article(url="u", title="", text=text), [WATCHLIST])
    assert {hit.sentence for hit in matches[0].hits} == {"Analysts said the PLA used Alibaba cloud."}
    assert matches[0].terms == ("Alibaba", "PLA")  # in the watchlist's order
    assert matches[0].channel == "#china-tech"


def test_no_match_is_an_empty_list() -> None:
    assert match_article(Article(url="u", title="Weather", text="Sunny in Paris."), [WATCHLIST]) == []


def test_hits_report_the_words_as_written_and_where_they_are() -> None:
    """A query's chip* reports "Chipmakers" and "chipmakers", each at its place in the normalised text;
    matched_words gives each spelling once, the headline's first, without the query syntax."""
    watchlist = CompiledWatchlist("chips", "#c", (), query=compile_query(parse_query("chip*"), {}))
    article = Article(
        url="https://x.example/a", title="Chipmakers rally", text="The chipmakers rose. A chip\u00a0shortage."
    )
    [match] = match_article(article, [watchlist])
    fields = {True: normalise_text(article.title), False: normalise_text(article.text)}
    assert [(hit.matched_text, fields[hit.in_title][hit.start : hit.end]) for hit in match.hits] == [
        ("Chipmakers", "Chipmakers"),
        ("chipmakers", "chipmakers"),
        ("chip", "chip"),
    ]
    assert matched_words([match]) == ("Chipmakers", "chipmakers", "chip")
    assert "chip*" not in matched_words([match])
