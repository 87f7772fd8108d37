"""Evaluating queries on articles: truth, the hits reported, NEAR windows, fields, term references."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.config import WatchlistConfig
from monitor.models import Article, Match
from monitor.query import ArticleText, compile_query, parse_query
from monitor.query.patterns import is_word_char, phrase_term
from monitor.stages.match import compile_watchlist, match_article

PLA = {"term": "PLA", "case_sensitive": True, "aliases": ["People's Liberation Army"]}
EXAMPLE = '(Alibaba OR "T-Head") NEAR/30 (PLA OR military OR "zero-day") NOT title:"PLA filament"'


def match(
    query: str, text: str, title: str = "", terms: list[Any] | None = None, **settings: Any
) -> Match | None:
    written = {"name": "w", "query": query, **({"terms": terms} if terms else {}), **settings}
    watchlist = WatchlistConfig.model_validate(written)
    matches = match_article(Article(url="u", title=title, text=text), [compile_watchlist(watchlist, "#c")])
    return matches[0] if matches else None


def hits(query: str, text: str, title: str = "", terms: list[Any] | None = None) -> list[str]:
    """The matched texts, headline ones marked with `title:`; [] when the watchlist does not match."""
    found = match(query, text, title, terms)
    return [("title:" if h.in_title else "") + h.matched_text for h in found.hits] if found else []


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("Alibaba AND cloud", "Alibaba Cloud grew.", ["Alibaba", "Cloud"]),
        ("Alibaba AND cloud", "Alibaba grew.", []),
        ("Alibaba cloud", "Alibaba grew. Cloud fell.", ["Alibaba", "Cloud"]),
        ("Alibaba OR Tencent", "Tencent grew.", ["Tencent"]),
        ("Alibaba OR Tencent", "Tencent and Alibaba grew.", ["Tencent", "Alibaba"]),
        ("Alibaba OR Tencent", "Baidu grew.", []),
        ("Alibaba NOT restaurant", "Alibaba grew.", ["Alibaba"]),
        ("Alibaba NOT restaurant", "The Alibaba restaurant.", []),
        ("Alibaba -restaurant", "The Alibaba restaurant.", []),
        ("Alibaba NOT (restaurant OR menu)", "Alibaba's menu.", []),
        ("Alibaba OR NOT Tencent", "Nothing here.", []),  # true, but nothing mentioned: no alert
        ("Alibaba OR NOT Tencent", "Alibaba here.", ["Alibaba"]),
        ('"Alibaba Cloud"', "Alibaba cloud, Alibaba's cloud.", ["Alibaba cloud"]),
        ("chip*", "Chips, chipmakers and a chip; no microchip.", ["Chips", "chipmakers", "chip"]),
        ("芯片*", "新芯片发布", ["芯片"]),  # a CJK stem matches itself: no word end to run to
        ('"zero-day"', "a zero\u2011day and a zero\u2014day and a zero day", ["zero-day", "zero-day"]),
        ('"People’s Liberation Army"', "the People's Liberation Army", ["People's Liberation Army"]),
        ("ALIBABA", "ＡＬＩＢＡＢＡ", ["ALIBABA"]),  # full-width text, any case
        ("平头哥", "阿里巴巴旗下平头哥发布新芯片", ["平头哥"]),
        ("Alibaba OR Alibaba", "Alibaba.", ["Alibaba"]),  # the same text is one hit, however it is reached
    ],
)
def test_boolean_operators_and_the_hits_they_report(query: str, text: str, expected: list[str]) -> None:
    assert hits(query, text) == expected


def test_an_empty_article_is_no_match_and_no_crash() -> None:
    assert hits("Alibaba NOT (PLA OR title:x)", "") == []
    assert hits("NOT A B", "", "") == []


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("Alibaba NEAR/3 PLA", "Alibaba one two three PLA", True),  # 3 words between
        ("Alibaba NEAR/2 PLA", "Alibaba one two three PLA", False),
        ("Alibaba NEAR/3 PLA", "PLA one two three Alibaba", True),  # either order
        ("Alibaba NEAR/0 PLA", "Alibaba PLA", True),  # side by side: no word between
        ("Alibaba NEAR/0 PLA", "Alibaba, PLA", True),  # punctuation is not a word
        ("Alibaba NEAR/0 PLA", "Alibaba's PLA", True),  # nor a possessive
        ("Alibaba NEAR/0 PLA", "Alibaba T-Head PLA", False),  # a hyphenated word is one word
        # Counted from where one side ends to where the other starts, so a long phrase is no handicap.
        ("PLA NEAR/1 Alibaba", "People's Liberation Army said Alibaba", True),
        ("PLA NEAR/0 Alibaba", "People's Liberation Army said Alibaba", False),
        ('"Alibaba Cloud" NEAR/0 Cloud', "Alibaba Cloud", True),  # overlapping sides are 0 words apart
        ("Alibaba NEAR/3 PLA", "Alibaba one two.\n\nThree. PLA", True),  # sentences and paragraphs: no matter
        ("平头哥 NEAR/2 芯片", "平头哥旗下芯片", True),  # each CJK character is a word: 旗, 下
        ("平头哥 NEAR/1 芯片", "平头哥旗下芯片", False),
        ("平头哥 NEAR/1 chip", "平头哥的 chip", True),
        ("(Alibaba OR Tencent) NEAR/1 (PLA OR army)", "Tencent and army", True),
        ("Alibaba NEAR/1 PLA NEAR/1 Taiwan", "Alibaba x PLA x Taiwan", True),
        ("Alibaba NEAR/1 PLA NEAR/1 Taiwan", "Alibaba x PLA x x Taiwan", False),
        ("Alibaba NEAR/5 chip*", "Alibaba chipmakers", True),
    ],
)
def test_near_counts_the_words_between_the_two_sides(query: str, text: str, expected: bool) -> None:
    assert bool(hits(query, text, terms=[PLA] if "PLA" in query else None)) is expected


def test_near_reports_only_the_occurrences_with_a_partner() -> None:
    text = (
        "Alibaba grew. "
        + "Filler words here. " * 20
        + "Alibaba and the PLA. "
        + "More filler. " * 20
        + "Alibaba."
    )
    assert hits("Alibaba NEAR/5 PLA", text, terms=[PLA]) == ["Alibaba", "PLA"]


def test_near_never_pairs_the_headline_with_the_body() -> None:
    assert hits("Alibaba NEAR/5 military", "Military parade.", title="Alibaba") == []
    assert hits("Alibaba NEAR/5 military", "", title="Alibaba military") == [
        "title:Alibaba",
        "title:military",
    ]


@pytest.mark.parametrize(
    ("query", "title", "text", "expected"),
    [
        ("title:PLA", "PLA drills", "Nothing.", ["title:PLA"]),
        ("title:PLA", "Drills", "The PLA.", []),
        ("text:PLA", "PLA drills", "Nothing.", []),
        ("text:PLA", "Drills", "The PLA.", ["PLA"]),
        ("PLA", "PLA drills", "The PLA.", ["title:PLA", "PLA"]),
        ('Alibaba NOT title:"PLA filament"', "PLA filament deals", "Alibaba sells it.", []),
        ('Alibaba NOT title:"PLA filament"', "Deals", "Alibaba sells PLA filament.", ["Alibaba"]),
        ("title:(Alibaba OR Tencent) PLA", "Tencent deal", "with the PLA", ["title:Tencent", "PLA"]),
    ],
)
def test_fields(query: str, title: str, text: str, expected: list[str]) -> None:
    assert (
        hits(query, text, title, terms=[PLA] if "PLA" in query and "filament" not in query else None)
        == expected
    )


def test_a_word_naming_a_term_brings_its_aliases_case_rule_and_excludes() -> None:
    pla = {**PLA, "exclude": ["PLA filament"]}
    assert hits("PLA", "the People's Liberation Army", terms=[pla]) == ["People's Liberation Army"]
    assert hits("PLA", "the pla said", terms=[pla]) == []  # case_sensitive
    assert hits("PLA", "PLA filament and the PLA", terms=[pla]) == ["PLA"]
    assert hits("pla", "the PLA said", terms=[pla]) == ["PLA"]  # the name is found whatever its case
    assert hits('"PLA"', "the PLA said", terms=[pla]) == ["PLA"]  # quoted too
    assert hits("PLA* OR PLA", "the pla said", terms=[pla]) == ["pla"]  # a prefix is never a reference


def test_hits_are_reported_under_the_term_name_or_the_query_word() -> None:
    found = match(EXAMPLE, "Alibaba's T-Head works with the People's Liberation Army.", terms=[PLA])
    assert found is not None
    assert [(h.term, h.matched_text) for h in found.hits] == [
        ("Alibaba", "Alibaba"),
        ("T-Head", "T-Head"),
        ("PLA", "People's Liberation Army"),
    ]
    assert found.terms == ("Alibaba", "T-Head", "PLA")
    assert found.hits[0].sentence == "Alibaba's T-Head works with the People's Liberation Army."


def test_min_mentions_counts_the_query_hits_with_the_headline_weight() -> None:
    query = "Alibaba NOT restaurant"
    assert match(query, "Alibaba once.", min_mentions=2) is None
    assert match(query, "Alibaba once. Alibaba twice.", min_mentions=2) is not None
    assert match(query, "", title="Alibaba", min_mentions=2) is not None
    assert match("Alibaba NEAR/1 PLA", "Alibaba PLA", terms=[PLA], min_mentions=3) is None
    assert match("Alibaba NEAR/1 PLA", "Alibaba PLA", terms=[PLA], min_mentions=2) is not None


def test_terms_only_watchlists_are_untouched_by_queries() -> None:
    watchlist = WatchlistConfig.model_validate({"name": "w", "terms": ["Alibaba", PLA]})
    compiled = compile_watchlist(watchlist, "#c")
    assert compiled.query is None
    [found] = match_article(Article(url="u", title="PLA", text="Alibaba and pla."), [compiled])
    assert [(h.term, h.in_title) for h in found.hits] == [("PLA", True), ("Alibaba", False)]


def test_compile_query_can_be_used_on_its_own() -> None:
    query = compile_query(parse_query("Alibaba NEAR/2 cloud"), {"alibaba": phrase_term("Alibaba")})
    result = query.evaluate(ArticleText("", "Alibaba's big cloud"))
    assert result.matched and [o.text for o in result.occurrences] == ["Alibaba", "cloud"]
    assert not query.evaluate(ArticleText("", "")).matched


def test_the_left_word_boundary_check_agrees_with_the_regex_one() -> None:
    import re

    word = re.compile(r"\w")
    assert all(
        is_word_char(chr(c)) == bool(word.match(chr(c))) for c in range(0x110000) if not 0xD800 <= c < 0xE000
    )


def test_a_query_on_a_5000_word_article_matches_the_same_each_time() -> None:
    # Its speed (well under 10 ms a query) is measured by bench/guards.py, not asserted on a busy machine.
    vocabulary = ["the", "company", "said", "on", "Monday", "that", "its", "cloud", "unit", "grew", "and"]
    words = [vocabulary[(i * 7) % len(vocabulary)] for i in range(5000)]
    words[1000], words[1010], words[4000] = "Alibaba", "PLA", "T-Head"
    text = ". ".join(" ".join(words[i : i + 20]) for i in range(0, 5000, 20))
    watchlist = WatchlistConfig.model_validate({"name": "w", "terms": [PLA], "query": EXAMPLE})
    query = compile_watchlist(watchlist, "#c").query
    assert query is not None

    for _ in range(3):
        assert query.evaluate(ArticleText("Alibaba results", text)).matched  # a fresh article: nothing cached
