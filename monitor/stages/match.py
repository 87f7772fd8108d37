"""Match stage: which watchlists an article matches, with the terms and sentences that matched.

Matching runs on the normalised title and main text (extraction already removed navigation, sidebars,
ads and comments). A term matches whole words, case-insensitively unless `case_sensitive`; terms in
CJK scripts match without word boundaries. An `exclude` phrase cancels only the occurrences it covers.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..config import Config, TermConfig, WatchlistConfig
from ..models import Article, Match, TermHit
from ..text import Sentence, is_cjk, normalise_text, split_sentences


@dataclass(frozen=True)
class CompiledTerm:
    """One watch term with its aliases in one regex, and its excludes in another."""

    term: str
    pattern: re.Pattern[str]
    exclude: re.Pattern[str] | None


@dataclass(frozen=True)
class CompiledWatchlist:
    name: str
    channel: str
    terms: tuple[CompiledTerm, ...]
    min_mentions: int = 1
    priority: str = "normal"
    notify_here: bool = False
    feed_tags: frozenset[str] | None = None  # None: every feed

    def applies_to(self, feed_tags: frozenset[str]) -> bool:
        return self.feed_tags is None or bool(self.feed_tags & feed_tags)


# A mention in the headline says more about what the article is about than one in passing in the body;
# with min_mentions: 2, a headline mention alone is enough.
TITLE_WEIGHT = 2


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    text: str


def compile_watchlists(config: Config) -> tuple[CompiledWatchlist, ...]:
    """Compile every watchlist once, at start-up, so matching an article does no regex compilation."""
    return tuple(compile_watchlist(w, config.channel_for(w)) for w in config.watchlists)


def compile_watchlist(watchlist: WatchlistConfig, channel: str) -> CompiledWatchlist:
    return CompiledWatchlist(
        name=watchlist.name,
        channel=channel,
        terms=tuple(compile_term(t) for t in watchlist.terms),
        min_mentions=watchlist.min_mentions,
        priority=watchlist.priority,
        notify_here=watchlist.notify == "here",
        feed_tags=frozenset(watchlist.feeds) if watchlist.feeds is not None else None,
    )


def compile_term(term: TermConfig) -> CompiledTerm:
    flags = 0 if term.case_sensitive else re.IGNORECASE
    phrases = [term.term, *term.aliases]
    exclude = _alternation(term.exclude, re.IGNORECASE) if term.exclude else None
    return CompiledTerm(term=term.term, pattern=_alternation(phrases, flags), exclude=exclude)


def _alternation(phrases: Iterable[str], flags: int) -> re.Pattern[str]:
    # Longest first, so "People's Liberation Army" wins over a shorter alias starting the same way.
    ordered = sorted({normalise_text(p).strip() for p in phrases}, key=len, reverse=True)
    return re.compile("|".join(_phrase_pattern(p) for p in ordered), flags)


def _phrase_pattern(phrase: str) -> str:
    # Word boundaries on both sides, also for phrases ending in punctuation ("U.S." must not match
    # inside "U.S.S.R."); none for CJK, which is written without spaces.
    body = r"\s+".join(re.escape(word) for word in phrase.split())
    left = "" if is_cjk(phrase[0]) else r"(?<!\w)"
    right = "" if is_cjk(phrase[-1]) else r"(?!\w)"
    return f"{left}{body}{right}"


def match_article(
    article: Article, watchlists: Sequence[CompiledWatchlist], feed_tags: frozenset[str] = frozenset()
) -> list[Match]:
    """Every watchlist the article matches (enough mentions, from a feed it covers); [] when none does."""
    title = normalise_text(article.title)
    text = normalise_text(article.text)
    title_sentences = [Sentence(0, len(title), title)]
    text_sentences = split_sentences(text)
    matches = []
    for watchlist in watchlists:
        if not watchlist.applies_to(feed_tags):
            continue
        hits = [
            *_hits_in(title, title_sentences, watchlist.terms, in_title=True),
            *_hits_in(text, text_sentences, watchlist.terms, in_title=False),
        ]
        if hits and mention_score(hits) >= watchlist.min_mentions:
            matches.append(
                Match(
                    watchlist.name, watchlist.channel, tuple(hits), watchlist.priority, watchlist.notify_here
                )
            )
    return matches


def mention_score(hits: Sequence[TermHit]) -> int:
    return sum(TITLE_WEIGHT if hit.in_title else 1 for hit in hits)


def _hits_in(
    text: str, sentences: list[Sentence], terms: Sequence[CompiledTerm], *, in_title: bool
) -> list[TermHit]:
    hits = []
    for term in terms:
        excluded = _spans(term.exclude, text) if term.exclude else []
        for span in _spans(term.pattern, text):
            if not any(e.start <= span.start and span.end <= e.end for e in excluded):
                sentence = _sentence_at(sentences, span.start)
                hits.append(
                    TermHit(term=term.term, matched_text=span.text, in_title=in_title, sentence=sentence)
                )
    return hits


def _spans(pattern: re.Pattern[str], text: str) -> list[_Span]:
    return [_Span(m.start(), m.end(), m.group()) for m in pattern.finditer(text)]


def _sentence_at(sentences: list[Sentence], offset: int) -> str:
    """The sentence holding `offset` (binary search: an article can have thousands of sentences)."""
    index = bisect.bisect_right(sentences, offset, key=lambda sentence: sentence.start) - 1
    if index >= 0 and offset < sentences[index].end:
        return sentences[index].text
    return ""
