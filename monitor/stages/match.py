"""Match stage: which watchlists an article matches, with the terms and sentences that matched.

Matching runs on the normalised title and main text (extraction already removed navigation, sidebars,
ads and comments). A term matches whole words, case-insensitively unless `case_sensitive`; terms in
CJK scripts match without word boundaries. An `exclude` phrase cancels only the occurrences it covers.
A `regex:` term matches what its pattern matches, within a time limit (monitor.query.patterns).

A watchlist with only `terms:` matches on any term's hits. One with a `query:` matches when the query
holds (docs/query-language.md); its hits are the occurrences the query reports. Either way the hits
must add up to min_mentions.

With thousands of terms, scanning the article once per term is what costs (issue 6), so the compiled
watchlists carry one index of every phrase (monitor.query.anchors): one pass over the article says
which watchlists, and which of their terms, can match at all, and where; only those run their patterns,
only there. A watchlist that cannot match is skipped: a query true only through NOT has no hits.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
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
from ..query.anchors import AnchorIndex
from ..query.patterns import BoundedRegex, PhrasePattern, alternation
from ..query.syntax import Scope
from ..text import SentenceFinder, normalise_text

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


class CompiledWatchlists(tuple[CompiledWatchlist, ...]):
    """A configuration's watchlists, in order, with the index of their phrases (built once, here)."""

    phrase_index: _WatchlistIndex

    def __new__(cls, watchlists: Iterable[CompiledWatchlist]) -> CompiledWatchlists:
        self = super().__new__(cls, watchlists)
        self.phrase_index = _WatchlistIndex.of(self)
        return self


def compile_watchlists(config: Config) -> CompiledWatchlists:
    """Compile every watchlist once, at start-up and on reload, so matching an article compiles nothing."""
    return CompiledWatchlists(compile_watchlist(w, config.channel_for(w)) for w in config.watchlists)


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


_FIELDS: tuple[Scope, ...] = ("title", "text")
_QUERY = -1  # in _WatchlistIndex, "the watchlist's query" where a term's position would be


@dataclass(frozen=True)
class _WatchlistIndex:
    """Which watchlists, and which of their terms, an article can match: those whose phrases it holds."""

    anchors: AnchorIndex
    triggers: dict[str, list[tuple[int, int]]]  # anchor -> (watchlist, term or _QUERY) it may match
    always: list[tuple[int, int]]  # regex terms and queries with one: a regex has no anchors
    every: list[tuple[int, int]]  # every (watchlist, term or _QUERY)

    @classmethod
    def of(cls, watchlists: Sequence[CompiledWatchlist]) -> _WatchlistIndex:
        triggers: dict[str, list[tuple[int, int]]] = {}
        always: list[tuple[int, int]] = []
        every: list[tuple[int, int]] = []
        anchors: set[str] = set()
        for w, watchlist in enumerate(watchlists):
            if watchlist.query is None:
                targets = [((w, t), term) for t, term in enumerate(watchlist.terms)]
            else:
                # A query is worth evaluating only when one of the terms it needs for a hit is there.
                targets = [((w, _QUERY), term) for term in watchlist.query.needs()]
                every.append((w, _QUERY))
                anchors.update(a for term in watchlist.query.terms() for a in term.anchors())
            for target, term in targets:
                every.append(target)
                anchors.update(term.anchors())
                own = term.pattern.anchors if isinstance(term.pattern, PhrasePattern) else ()
                if not own:
                    always.append(target)
                for anchor in own:
                    triggers.setdefault(anchor, []).append(target)
        return cls(AnchorIndex(anchors), triggers, always, every)

    def candidates(self, text: ArticleText) -> dict[int, set[int]]:
        """Watchlist position -> the positions of the terms (or _QUERY) that may match the article."""
        fields = [text.found(field) for field in _FIELDS]
        targets = [
            target
            for anchors in fields
            if anchors is not None
            for a in anchors.anchors()
            for target in self.triggers.get(a, ())
        ]
        if None in fields:  # a text the index cannot fold: every term scans it in full
            targets = self.every
        found: dict[int, set[int]] = {}
        for w, t in self.always + targets:
            found.setdefault(w, set()).add(t)
        return found


class _ArticleFields:
    """The article's normalised headline and body, and the sentence each hit is in."""

    def __init__(self, article: Article, index: AnchorIndex):
        self.title = normalise_text(article.title)
        body = normalise_text(article.text)
        self.text = ArticleText(self.title, body, index)
        # Only the sentences holding hits are read, not the whole body (monitor.text.SentenceFinder).
        self.body_sentences = SentenceFinder(body)

    def hit(self, occurrence: Occurrence) -> TermHit:
        in_title = occurrence.field == "title"
        return TermHit(
            term=occurrence.term,
            matched_text=occurrence.text,
            in_title=in_title,
            # The headline is one sentence, as it is.
            sentence=self.title if in_title else self.body_sentences.sentence_at(occurrence.start),
            start=occurrence.start,
            end=occurrence.end,
        )


def match_article(
    article: Article, watchlists: Sequence[CompiledWatchlist], feed_tags: frozenset[str] = frozenset()
) -> list[Match]:
    """Every watchlist the article matches (enough mentions, from a feed it covers); [] when none does."""
    index = (
        watchlists.phrase_index
        if isinstance(watchlists, CompiledWatchlists)
        else _WatchlistIndex.of(watchlists)
    )
    fields = _ArticleFields(article, index.anchors)
    matches = []
    for position, terms in sorted(index.candidates(fields.text).items()):
        watchlist = watchlists[position]
        if not watchlist.applies_to(feed_tags):
            continue
        hits = _watchlist_hits(
            watchlist, [watchlist.terms[t] for t in sorted(terms) if t != _QUERY], fields, article.url
        )
        if hits and mention_score(hits) >= watchlist.min_mentions:
            matches.append(
                Match(
                    watchlist.name, watchlist.channel, tuple(hits), watchlist.priority, watchlist.notify_here
                )
            )
    return matches


# An alert names at most this many spellings; a long list of variants says no more than the first ones.
MAX_MATCHED_WORDS = 20
# What a regex term matched can be a paragraph: no word a reader looks for, and not worth an outbox payload.
MAX_MATCHED_WORD_CHARS = 100


def matched_words(matches: Iterable[Match]) -> tuple[str, ...]:
    """The words that matched as the article writes them ("chipmakers", not the query's chip*): each
    spelling once (case kept: the summary is searched for exactly these), headline first."""
    hits = sorted((hit for match in matches for hit in match.hits), key=lambda hit: not hit.in_title)
    words = (hit.matched_text for hit in hits if 0 < len(hit.matched_text) <= MAX_MATCHED_WORD_CHARS)
    return tuple(dict.fromkeys(words))[:MAX_MATCHED_WORDS]


def mention_score(hits: Sequence[TermHit]) -> int:
    return sum(TITLE_WEIGHT if hit.in_title else 1 for hit in hits)


def _watchlist_hits(
    watchlist: CompiledWatchlist, terms: Sequence[CompiledTerm], fields: _ArticleFields, article_url: str
) -> list[TermHit]:
    """The hits, of the query or else of `terms` (those of the watchlist's terms that can match)."""
    try:
        if watchlist.query is None:
            return _term_hits(terms, fields)
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
