"""Match stage: which watchlists an article matches, with the terms and sentences that matched.

Matching runs on the normalised title and main text (extraction already removed navigation, sidebars,
ads and comments). A term matches whole words, case-insensitively unless `case_sensitive`; terms in
CJK scripts match without word boundaries. An `exclude` phrase cancels only the occurrences it covers.
A `regex:` term matches what its pattern matches, within a time limit (monitor.query.patterns).

A watchlist with only `terms:` matches on any term's hits. One with a `query:` matches when the query
holds (docs/query-language.md); its hits are the occurrences the query reports. Either way the hits
must add up to min_mentions.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..config import Config, TermConfig, WatchlistConfig
from ..logs import log_event
from ..models import Article, Match, TermHit
from ..query import (
    REGEX_TIMEOUT,
    ArticleText,
    CompiledQuery,
    CompiledTerm,
    Occurrence,
    RegexTimeout,
    compile_query,
    compile_user_regex,
    parse_query,
    reference_key,
)
from ..query.patterns import BoundedRegex, PhrasePattern, alternation
from ..text import Sentence, normalise_text, split_sentences

log = logging.getLogger("monitor.match")


@dataclass(frozen=True)
class CompiledWatchlist:
    name: str
    channel: str
    terms: tuple[CompiledTerm, ...]
    min_mentions: int = 1
    priority: str = "normal"
    notify_here: bool = False
    feed_tags: frozenset[str] | None = None  # None: every feed
    query: CompiledQuery | None = None  # when set, it decides, and `terms` are what it refers to

    def applies_to(self, feed_tags: frozenset[str]) -> bool:
        return self.feed_tags is None or bool(self.feed_tags & feed_tags)


# A mention in the headline says more about what the article is about than one in passing in the body;
# with min_mentions: 2, a headline mention alone is enough.
TITLE_WEIGHT = 2


def compile_watchlists(config: Config) -> tuple[CompiledWatchlist, ...]:
    """Compile every watchlist once, at start-up, so matching an article does no regex compilation."""
    return tuple(compile_watchlist(w, config.channel_for(w)) for w in config.watchlists)


def compile_watchlist(watchlist: WatchlistConfig, channel: str) -> CompiledWatchlist:
    terms = tuple(compile_term(t) for t in watchlist.terms)
    query = watchlist.query
    return CompiledWatchlist(
        name=watchlist.name,
        channel=channel,
        terms=terms,
        min_mentions=watchlist.min_mentions,
        priority=watchlist.priority,
        notify_here=watchlist.notify == "here",
        feed_tags=frozenset(watchlist.feeds) if watchlist.feeds is not None else None,
        query=_compile_query(query, watchlist.terms, terms) if query is not None else None,
    )


def compile_term(term: TermConfig) -> CompiledTerm:
    exclude = alternation(term.exclude, re.IGNORECASE) if term.exclude else None
    pattern: PhrasePattern | BoundedRegex
    if term.regex is not None:
        pattern = compile_user_regex(term.regex, case_sensitive=term.case_sensitive)
    else:
        pattern = alternation([term.name, *term.aliases], 0 if term.case_sensitive else re.IGNORECASE)
    return CompiledTerm(term=term.name, pattern=pattern, exclude=exclude)


def _compile_query(
    source: str, configs: Sequence[TermConfig], terms: Sequence[CompiledTerm]
) -> CompiledQuery:
    """The query with its words resolved: a word or phrase equal to a term's name means that term."""
    named = {reference_key(config.name): term for config, term in zip(configs, terms, strict=True)}
    return compile_query(parse_query(source), named)


@dataclass(frozen=True)
class _ArticleFields:
    """The article's normalised headline and body, split into sentences, ready for every watchlist."""

    text: ArticleText
    title_sentences: list[Sentence]
    body_sentences: list[Sentence]

    @classmethod
    def of(cls, article: Article) -> _ArticleFields:
        title = normalise_text(article.title)
        body = normalise_text(article.text)
        return cls(ArticleText(title, body), [Sentence(0, len(title), title)], split_sentences(body))

    def hit(self, occurrence: Occurrence) -> TermHit:
        in_title = occurrence.field == "title"
        sentences = self.title_sentences if in_title else self.body_sentences
        return TermHit(
            term=occurrence.term,
            matched_text=occurrence.text,
            in_title=in_title,
            sentence=_sentence_at(sentences, occurrence.start),
        )


def match_article(
    article: Article, watchlists: Sequence[CompiledWatchlist], feed_tags: frozenset[str] = frozenset()
) -> list[Match]:
    """Every watchlist the article matches (enough mentions, from a feed it covers); [] when none does."""
    fields = _ArticleFields.of(article)
    matches = []
    for watchlist in watchlists:
        if not watchlist.applies_to(feed_tags):
            continue
        hits = _watchlist_hits(watchlist, fields, article.url)
        if hits and mention_score(hits) >= watchlist.min_mentions:
            matches.append(
                Match(
                    watchlist.name, watchlist.channel, tuple(hits), watchlist.priority, watchlist.notify_here
                )
            )
    return matches


def mention_score(hits: Sequence[TermHit]) -> int:
    return sum(TITLE_WEIGHT if hit.in_title else 1 for hit in hits)


def _watchlist_hits(watchlist: CompiledWatchlist, fields: _ArticleFields, article_url: str) -> list[TermHit]:
    try:
        if watchlist.query is None:
            return _term_hits(watchlist.terms, fields)
        result = watchlist.query.evaluate(fields.text)
        return [fields.hit(o) for o in result.occurrences] if result.matched else []
    except RegexTimeout as exc:
        # A runaway pattern must decide nothing, not even through a NOT: the watchlist sits this article out.
        log_event(log, logging.WARNING, "match.regex_timeout", watchlist=watchlist.name,
                  article_url=article_url, regex=exc.source, timeout_s=REGEX_TIMEOUT)  # fmt: skip
        return []


def _term_hits(terms: Sequence[CompiledTerm], fields: _ArticleFields) -> list[TermHit]:
    """Every occurrence of every term: the headline's first, each field in the watchlist's term order."""
    return [
        fields.hit(occurrence)
        for field in ("title", "text")
        for term in terms
        for occurrence in fields.text.occurrences(term, field)
    ]


def _sentence_at(sentences: list[Sentence], offset: int) -> str:
    """The sentence holding `offset` (binary search: an article can have thousands of sentences)."""
    index = bisect.bisect_right(sentences, offset, key=lambda sentence: sentence.start) - 1
    if index >= 0 and offset < sentences[index].end:
        return sentences[index].text
    return ""
