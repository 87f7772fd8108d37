"""Summaries: 2-4 sentences, the lede first, sentences with matches preferred, no boilerplate."""

from __future__ import annotations

from monitor.config import TermConfig
from monitor.models import Article
from monitor.stages.match import CompiledWatchlist, compile_term, match_article
from monitor.stages.summarise import MAX_SUMMARY_CHARS, summarise_article
from monitor.text import split_sentences

WATCHLIST = CompiledWatchlist(name="w", channel="#c", terms=(compile_term(TermConfig(term="Alibaba")),))

TEXT = """Advertisement
Chinese tech giant Alibaba denied allegations that it helped Beijing target the United States.
Also Read | Alibaba stock is on a tear. Why China AI excitement is building.
The weather in the capital was mild for the season and nobody commented on it.
Trade tensions between the two countries have eased since a truce in late October.
A spokesperson said the memo about Alibaba was a malicious PR operation by a rogue voice.
Leave a Reply
Your email address will not be published. Required fields are marked *"""


def summary_of(text: str) -> str:
    article = Article(url="u", title="Alibaba denies", text=text)
    return summarise_article(article, match_article(article, [WATCHLIST]))


def test_lede_and_matching_sentences_in_reading_order() -> None:
    summary = summary_of(TEXT)
    assert summary.startswith("Chinese tech giant Alibaba denied allegations")
    assert summary.endswith("malicious PR operation by a rogue voice.")
    assert "weather" not in summary
    assert 2 <= len(split_sentences(summary)) <= 4


def test_boilerplate_never_appears() -> None:
    summary = summary_of(TEXT)
    for noise in ("Advertisement", "Also Read", "Leave a Reply", "email address"):
        assert noise not in summary


def test_at_least_two_sentences_when_the_text_has_them() -> None:
    text = "Alibaba shares rose sharply on Monday morning. The index closed higher across the board today."
    assert len(split_sentences(summary_of(text))) == 2


def test_long_texts_are_capped() -> None:
    text = " ".join(f"Alibaba sentence number {i} is long enough to count as prose here." for i in range(200))
    assert len(summary_of(text)) <= MAX_SUMMARY_CHARS


def test_text_without_prose_falls_back_to_a_cut() -> None:
    assert summary_of("Alibaba") == "Alibaba"
