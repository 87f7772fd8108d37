"""Edits to a watchlist that would have removed its alerts judged not relevant, each backtested by running
the match stage again, with the edited watchlist compiled, on the stored texts of the period's alerts.

An `exclude` phrase is the matched words with a neighbouring word, as the not-relevant alerts' matched
sentences write them and the relevant ones' do not ("PLA filament"); `min_mentions` is tried when the
relevant alerts mention the watchlist more often than the others; `case_sensitive` when a term matched
in another case. Suggestions that remove no not-relevant alert are left out; the rest are ranked by their
backtest: fewest relevant alerts lost, then most not-relevant ones removed, then fewest others removed.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import dataclass

from ..config import WatchlistConfig
from ..models import TermHit
from ..stages.match import compile_watchlist, match_article, mention_score
from .alerted import AlertedArticle, WatchlistAlerts

MAX_EXCLUDES = 3  # exclude phrases tried per watchlist, the most common first
_NEIGHBOURS = r"(?:(\w[\w'-]*)\s+)?(?<!\w){}(?!\w)(?:\s+(\w[\w'-]*))?"


@dataclass(frozen=True)
class Change:
    """One edit, as the round-trip editor makes it (monitor.config.tune_edit)."""

    kind: str  # exclude | min_mentions | case_sensitive
    term: str | None  # the term it applies to (None: the watchlist)
    value: str | int | bool

    def describe(self) -> str:
        if self.kind == "exclude":
            return f"exclude {self.value!r} from term {self.term!r}"
        if self.kind == "case_sensitive":
            return f"make term {self.term!r} case-sensitive"
        return f"min_mentions: {self.value}"


@dataclass(frozen=True)
class Backtest:
    kept: int
    removed: int
    not_relevant_removed: int
    relevant_lost: int


@dataclass(frozen=True)
class Suggestion:
    watchlist: str
    change: Change
    backtest: Backtest

    def rank_key(self) -> tuple[int, int, int]:
        b = self.backtest
        return (b.relevant_lost, -b.not_relevant_removed, b.removed - b.not_relevant_removed)


def suggest(alerts: WatchlistAlerts) -> list[Suggestion]:
    """The ranked suggestions for one watchlist; [] when no alert of it was judged not relevant."""
    if not alerts.not_relevant:
        return []
    hits = {a.article_id: _hits(alerts, alerts.watchlist, a) for a in alerts.articles}
    changes = [*_excludes(alerts, hits), *_min_mentions(alerts, hits), *_case_sensitive(alerts, hits)]
    tested = [
        Suggestion(alerts.watchlist.name, c, backtest(alerts, edited(alerts.watchlist, c))) for c in changes
    ]
    return sorted((s for s in tested if s.backtest.not_relevant_removed), key=Suggestion.rank_key)


def backtest(alerts: WatchlistAlerts, watchlist: WatchlistConfig) -> Backtest:
    """The period's alerts matched again with `watchlist` in place of the one that alerted them."""
    removed = [a for a in alerts.articles if not _hits(alerts, watchlist, a)]
    return Backtest(
        kept=len(alerts.articles) - len(removed),
        removed=len(removed),
        not_relevant_removed=sum(a.relevant is False for a in removed),
        relevant_lost=sum(a.relevant is True for a in removed),
    )


def edited(watchlist: WatchlistConfig, change: Change) -> WatchlistConfig:
    """The watchlist with the change made (in memory: the file is edited by monitor.config.tune_edit)."""
    if change.kind == "min_mentions":
        return watchlist.model_copy(update={"min_mentions": change.value})
    terms = []
    for term in watchlist.terms:
        if term.name == change.term and change.kind == "exclude":
            term = term.model_copy(update={"exclude": [*term.exclude, str(change.value)]})
        elif term.name == change.term and change.kind == "case_sensitive":
            term = term.model_copy(update={"case_sensitive": True})
        terms.append(term)
    return watchlist.model_copy(update={"terms": terms})


def _hits(alerts: WatchlistAlerts, watchlist: WatchlistConfig, alerted: AlertedArticle) -> list[TermHit]:
    """The watchlist's hits in the article; [] when it does not match. Feed tags are not asked again:
    the article was alerted for this watchlist, so it came from a feed the watchlist covers."""
    compiled = dataclasses.replace(compile_watchlist(watchlist, alerts.channel), feed_tags=None)
    return [hit for match in match_article(alerted.article, [compiled]) for hit in match.hits]


def _excludes(alerts: WatchlistAlerts, hits: dict[int, list[TermHit]]) -> list[Change]:
    """Matched words with a neighbour, common to the not-relevant alerts and absent from the relevant."""
    counts: Counter[tuple[str, str]] = Counter()
    spelling: dict[tuple[str, str], str] = {}
    relevant: set[tuple[str, str]] = set()
    for alerted in alerts.articles:
        found = {key: text for hit in hits[alerted.article_id] for key, text in _phrases(hit)}
        if alerted.relevant is True:
            relevant.update(found)
        elif alerted.relevant is False:
            counts.update(found.keys())
            for key, text in found.items():
                spelling.setdefault(key, text)
    common = min(2, alerts.not_relevant)  # shared by the not-relevant alerts, not one's turn of phrase
    ranked = sorted(
        (key for key, count in counts.items() if count >= common and key not in relevant),
        key=lambda key: (-counts[key], len(key[1])),
    )
    return [Change("exclude", key[0], spelling[key]) for key in ranked[:MAX_EXCLUDES]]


def _phrases(hit: TermHit) -> list[tuple[tuple[str, str], str]]:
    """(term, the phrase folded) -> the phrase as written: the matched words with the word after, before,
    and both, as the hit's sentence has them."""
    found = []
    pattern = _NEIGHBOURS.format(re.escape(hit.matched_text))
    for m in re.finditer(pattern, hit.sentence):
        before, after = m.group(1), m.group(2)
        for words in (
            (hit.matched_text, after),
            (before, hit.matched_text),
            (before, hit.matched_text, after),
        ):
            if all(words):
                text = " ".join(words)
                found.append(((hit.term, text.casefold()), text))
    return found


def _min_mentions(alerts: WatchlistAlerts, hits: dict[int, list[TermHit]]) -> list[Change]:
    """A min_mentions above every not-relevant alert's mentions, when the relevant ones have more."""
    scores = {a.article_id: mention_score(hits[a.article_id]) for a in alerts.articles}
    worst = max(scores[a.article_id] for a in alerts.articles if a.relevant is False)
    relevant = [scores[a.article_id] for a in alerts.articles if a.relevant is True]
    value = worst + 1
    if value <= alerts.watchlist.min_mentions or value > 1000 or (relevant and min(relevant) < value):
        return []
    return [Change("min_mentions", None, value)]


def _case_sensitive(alerts: WatchlistAlerts, hits: dict[int, list[TermHit]]) -> list[Change]:
    """Each phrase term, not case-sensitive, that a not-relevant alert matched in another case."""
    terms = {t.name: t for t in alerts.watchlist.terms if t.term is not None and not t.case_sensitive}
    changes = []
    for name, term in terms.items():
        spellings = {term.term, *term.aliases}
        if any(
            hit.term == name and hit.matched_text not in spellings
            for a in alerts.articles
            if a.relevant is False
            for hit in hits[a.article_id]
        ):
            changes.append(Change("case_sensitive", name, True))
    return changes
