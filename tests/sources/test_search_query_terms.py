"""A watchlist's `query:` as each provider's query: narrowed where the provider can say it, widened
(never narrowed) where it cannot, with a note for `check` on each thing left to the local match."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.config import WatchlistConfig
from monitor.sources.search.bing_news import bing_news_plan
from monitor.sources.search.gdelt import MAX_QUERY_CHARS, gdelt_plan
from monitor.sources.search.google_news import google_news_plan

PLA = {"term": "PLA", "case_sensitive": True, "aliases": ["People's Liberation Army"]}
TENCENT = {"term": "Tencent", "aliases": ["Tencent Holdings"]}


def watchlist(query: str | None, *terms: Any) -> WatchlistConfig:
    written = {"query": query} if query is not None else {}
    return WatchlistConfig(name="w", terms=list(terms) or ["Alibaba"], **written)


def gdelt(query: str, *terms: Any) -> tuple[str, list[str]]:
    plan = gdelt_plan(watchlist(query, *terms))
    [written] = plan.queries
    return written, list(plan.notes)


def google(query: str, *terms: Any) -> tuple[str, list[str]]:
    plan = google_news_plan(watchlist(query, *terms))
    [written] = plan.queries
    return written, list(plan.notes)


def test_gdelt_writes_and_or_and_not_in_its_syntax() -> None:
    query, notes = gdelt('Alibaba (military OR "zero-day") NOT Tencent', "Alibaba", TENCENT)
    assert query == 'Alibaba (military OR "zero-day") -Tencent -"Tencent Holdings"'
    assert notes == []


def test_google_writes_and_or_not_and_title_in_its_syntax() -> None:
    query, notes = google('Alibaba (military OR "zero-day") -Tencent title:cloud', "Alibaba", TENCENT)
    assert (
        query == '"Alibaba" ("military" OR "zero-day") intitle:"cloud" -"Tencent" -"Tencent Holdings" when:1d'
    )
    assert notes == []


def test_a_term_reference_searches_its_aliases_by_the_providers_rules() -> None:
    query, notes = gdelt("Alibaba PLA", "Alibaba", PLA)
    assert query == 'Alibaba "People\'s Liberation Army"'
    assert any("'PLA' searched through its aliases only" in note for note in notes)
    query, _ = google("Alibaba PLA", "Alibaba", PLA)
    assert query == '"Alibaba" ("PLA" OR "People\'s Liberation Army") when:1d'


def test_near_is_gdeltss_near_for_two_words_and_and_otherwise() -> None:
    assert gdelt("Alibaba NEAR/20 military") == ('near20:"Alibaba military"', [])
    query, notes = gdelt('Alibaba NEAR/20 "zero-day"')
    assert query == 'Alibaba "zero-day"' and notes == ["NEAR/20 at column 1 searched as AND"]
    query, notes = google("Alibaba NEAR/20 military")
    assert query == '"Alibaba" "military" when:1d' and notes == ["NEAR/20 at column 1 searched as AND"]


def test_gdelts_near_is_not_put_in_an_or_group() -> None:
    query, notes = gdelt("Alibaba (Tencent OR Baidu NEAR/5 military)")
    assert query == "Alibaba"
    assert notes == ["the OR at column 9 left to the local match: it holds a NEAR"]


def test_gdelt_drops_the_title_scope_and_still_ands_it() -> None:
    query, notes = gdelt("Alibaba title:military")
    assert query == "Alibaba military"
    assert notes == ["title:military searched anywhere: GDELT has no title search"]


@pytest.mark.parametrize(
    ("query", "terms", "why"),
    [
        ('Alibaba NOT title:"PLA filament"', [], "title-scoped: GDELT would exclude it anywhere"),
        ("Alibaba NOT PLA", [PLA], "case-sensitive term: the provider ignores case"),
        ("Alibaba NOT PLA", [{"term": "PLA", "exclude": ["PLA filament"]}], "a term with excludes"),
        ("Alibaba NOT chip*", [], "a prefix"),
        ("Alibaba NOT (military Taiwan)", [], "an AND: -(a b) is not GDELT's"),
        ("Alibaba NOT (military NEAR/5 Taiwan)", [], "a NEAR"),
    ],
)
def test_a_not_the_provider_cannot_say_exactly_is_dropped(query: str, terms: list[Any], why: str) -> None:
    written, notes = gdelt(query, "Alibaba", *terms)
    assert written == "Alibaba", why
    assert any("NOT at column" in note and "left to the local match" in note for note in notes), why


def test_an_or_with_a_side_the_provider_cannot_search_is_left_out_not_narrowed() -> None:
    query, notes = gdelt("Alibaba (chip* OR military)")
    assert query == "Alibaba"
    assert notes == ["'chip*' left to the local match: GDELT has no prefix search"]
    query, _ = gdelt('Alibaba (Tencent OR "zero-day" NOT Taiwan)')
    # An OR over an AND keeps the AND's first group: wider than the side, never narrower.
    assert query == 'Alibaba (Tencent OR "zero-day")'


def test_an_or_over_a_not_matches_anything() -> None:
    assert gdelt("Alibaba (military OR NOT Taiwan)")[0] == "Alibaba"


def test_a_regex_term_in_the_query_is_left_to_the_local_match() -> None:
    query, notes = gdelt("Alibaba chipmakers", "Alibaba", {"term": "chipmakers", "regex": r"chip(s|makers?)"})
    assert query == "Alibaba"
    assert notes == ["'chipmakers' left to the local match: a pattern cannot be searched for"]


def test_a_term_gdelt_cannot_write_at_all_is_left_to_the_local_match() -> None:
    query, notes = gdelt("Alibaba NEAR/5 AI", "Alibaba", "AI")
    assert query == "Alibaba"
    assert any("'AI' left out" in note for note in notes)


def test_a_query_with_nothing_to_search_falls_back_to_the_terms_with_a_note() -> None:
    plan = gdelt_plan(watchlist("chip* NOT Alibaba", "Alibaba"))
    assert plan.queries == ("Alibaba",)
    assert plan.notes[0] == (
        "query: left to the local match (nothing in it narrows a GDELT search): "
        "its terms are searched for instead"
    )
    plan = google_news_plan(watchlist("chip* NOT Alibaba", "Alibaba"))
    assert plan.queries == ('"Alibaba" when:1d',)
    assert plan.notes[0].startswith("query: left to the local match (nothing in it narrows a Google search)")


def test_a_query_too_long_for_gdelt_falls_back_to_the_terms() -> None:
    names = [f"Company{index:03d}" for index in range(40)]
    plan = gdelt_plan(watchlist(" ".join(names), *names))
    assert len(" ".join(names)) > MAX_QUERY_CHARS
    assert plan.notes[0].startswith(f"query: left to the local match (over {MAX_QUERY_CHARS} characters)")
    assert all(len(query) <= MAX_QUERY_CHARS and " OR " in query for query in plan.queries)


def test_bing_keeps_one_request_per_term_and_notes_the_query_left_to_the_local_match() -> None:
    plan = bing_news_plan(watchlist("Alibaba NEAR/5 military NOT Tencent", "Alibaba"))
    assert plan.queries == ('"Alibaba"',)
    assert plan.notes[0].startswith("query: left to the local match: Bing ignores OR")


def test_without_a_query_the_plans_are_as_before() -> None:
    plan = gdelt_plan(watchlist(None, "Alibaba", TENCENT))
    assert plan.queries == ('(Alibaba OR Tencent OR "Tencent Holdings")',) and plan.notes == ()
    plan = google_news_plan(watchlist(None, "Alibaba", TENCENT))
    assert plan.queries == ('("Alibaba" OR "Tencent" OR "Tencent Holdings") when:1d',)


def test_a_named_regex_term_is_left_out_of_the_or_of_terms_as_a_pattern() -> None:
    # The local match runs its pattern, not its name: searching the name would miss "chips".
    plan = gdelt_plan(watchlist(None, "Alibaba", {"term": "chipmakers", "regex": r"chip(s|makers?)"}))
    assert plan.queries == ("Alibaba",)
    assert plan.notes == ("regex 'chip(s|makers?)' left out: a pattern cannot be searched for",)
