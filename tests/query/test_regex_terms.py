"""`regex:` terms: checked at load, run on normalised text, and a runaway pattern cannot hang matching."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from monitor.config import TermConfig, WatchlistConfig
from monitor.models import Article
from monitor.query import RegexTimeout, compile_user_regex
from monitor.stages.match import compile_term, compile_watchlist, match_article


def matched(terms: list[Any], text: str, query: str | None = None) -> list[tuple[str, str]]:
    written: dict[str, Any] = {"name": "w", "terms": terms, **({"query": query} if query else {})}
    compiled = compile_watchlist(WatchlistConfig.model_validate(written), "#c")
    matches = match_article(Article(url="u", title="", text=text), [compiled])
    return [(hit.term, hit.matched_text) for m in matches for hit in m.hits]


def test_a_regex_term_reports_hits_under_its_pattern_or_its_name() -> None:
    assert matched([{"regex": r"T-?Head\b"}], "THead and T-Head") == [
        (r"T-?Head\b", "THead"),
        (r"T-?Head\b", "T-Head"),
    ]
    named = {"term": "T-Head", "regex": r"T-?Head\b"}
    assert matched([named], "THead") == [("T-Head", "THead")]


def test_a_regex_runs_on_normalised_text_case_insensitively_unless_told() -> None:
    assert matched([{"regex": r"T-Head"}], "t\u2011head") == [("T-Head", "t-head")]  # non-breaking hyphen
    assert matched([{"regex": r"T-Head", "case_sensitive": True}], "t-head") == []
    assert matched([{"regex": r"\bÜber\b"}], "über alles") == [(r"\bÜber\b", "über")]  # Unicode \b


def test_a_regex_term_keeps_its_excludes() -> None:
    term = {"regex": r"PLA\b", "case_sensitive": True, "exclude": ["PLA filament"]}
    assert matched([term], "PLA filament, and the PLA") == [(r"PLA\b", "PLA")]


def test_a_named_regex_term_can_be_used_in_a_query() -> None:
    term = {"term": "XuanTie", "regex": r"Xuan-?Tie\s*C9\d\d"}
    assert matched([term], "the XuanTie C910 and RISC-V", query="XuanTie NEAR/3 RISC-V") == [
        ("XuanTie", "XuanTie C910"),
        ("RISC-V", "RISC-V"),
    ]


def test_a_regex_that_matches_empty_text_only_reports_real_matches() -> None:
    assert matched([{"regex": r"\bAlibaba\b|(?=x)"}], "x Alibaba") == [(r"\bAlibaba\b|(?=x)", "Alibaba")]


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (r"T-(Head", "invalid regex 'T-(Head': missing )"),
        (r"[a-", "invalid regex '[a-'"),
        (r"a*", "matches an empty text, so it would match every article"),
        (r"(x)?", "matches an empty text"),
    ],
)
def test_a_bad_pattern_is_refused_when_compiled(pattern: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        compile_user_regex(pattern)


def test_the_catastrophic_pattern_from_the_brief_does_not_hang() -> None:
    # (a+)+$ on 'a'*50+'b' takes the stdlib `re` longer than the age of the universe; `regex` sees through it.
    pattern = compile_user_regex(r"(a+)+$")
    assert pattern.finditer("a" * 50 + "b") == []  # within the time limit, or RegexTimeout would say so


def test_a_runaway_pattern_is_stopped_after_the_timeout() -> None:
    # (a|aa)+$ does run away in `regex`: exponential in the number of a's. The time limit stops it.
    # Unstopped, it would run for hours and trip the per-test limit; how soon it stops: bench/guards.py.
    pattern = compile_user_regex(r"(a|aa)+$")
    with pytest.raises(RegexTimeout, match=r"took longer than 0\.1s"):
        pattern.finditer("a" * 40 + "b")


def test_a_timed_out_watchlist_sits_the_article_out_and_the_others_still_match(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runaway = {"term": "Runaway", "regex": r"(a|aa)+$"}
    # Under NOT the runaway pattern must not let the query through either.
    risky = WatchlistConfig.model_validate(
        {"name": "risky", "terms": [runaway], "query": "Alibaba NOT Runaway"}
    )
    plain = WatchlistConfig.model_validate({"name": "plain", "terms": ["Alibaba"]})
    watchlists = [compile_watchlist(risky, "#c"), compile_watchlist(plain, "#c")]
    article = Article(url="https://x.example/a", title="", text="Alibaba " + "a" * 40 + "b")
    with caplog.at_level(logging.WARNING, logger="monitor.match"):
        matches = match_article(article, watchlists)
    assert [m.watchlist for m in matches] == ["plain"]
    [record] = caplog.records
    assert record.getMessage().startswith(
        "match.regex_timeout watchlist=risky article_url=https://x.example/a"
    )


def test_compile_term_builds_the_regex_with_the_case_rule() -> None:
    term = compile_term(TermConfig(regex="pla", case_sensitive=True))
    assert [s.text for s in term.spans("PLA pla")] == ["pla"]
