"""Edits to a watchlist that would have removed its alerts judged not relevant, each backtested by running
the match stage again, with the edited watchlist compiled, on the stored texts of the period's alerts.

An `exclude` phrase is the matched words with a neighbouring word, as the not-relevant alerts' matched
sentences write them and the relevant ones' do not ("PLA filament"); `min_mentions` is tried when the
relevant alerts mention the watchlist more often than the others; `case_sensitive` when a term matched
in another case; a `query:` that needs the terms near each other, or one term in the headline, comes from
suggest_query. Suggestions that remove no not-relevant alert, or lose a relevant one, are left out; the
rest are ranked by their backtest: most not-relevant alerts removed, then fewest others removed.
"""

from __future__ import annotations

import re
from collections import Counter

from ..models import TermHit
from ..stages.match import mention_score
from .alerted import WatchlistAlerts
from .backtest import Change, Suggestion, backtest, edited, watchlist_hits
from .suggest_query import query_suggestions

__all__ = ["Change", "Suggestion", "suggest"]

MAX_EXCLUDES = 3  # exclude phrases tried per watchlist, the most common first
_NEIGHBOURS = r"(?:(\w[\w'-]*)\s+)?(?<!\w){}(?!\w)(?:\s+(\w[\w'-]*))?"


def suggest(alerts: WatchlistAlerts) -> list[Suggestion]:
    """The ranked suggestions for one watchlist: edits that remove alerts judged not relevant and keep every
    one judged relevant; [] when no alert of it was judged not relevant."""
    if not alerts.not_relevant:
        return []
    found = {a.article_id: watchlist_hits(alerts, alerts.watchlist, a) for a in alerts.articles}
    changes = [*_excludes(alerts, found), *_min_mentions(alerts, found), *_case_sensitive(alerts, found)]
    tested = [
        Suggestion(alerts.watchlist.name, c, backtest(alerts, edited(alerts.watchlist, c))) for c in changes
    ]
    tested += query_suggestions(alerts, found)
    # An edit that loses a relevant alert is not suggested: the buttons said those alerts were wanted.
    useful = (s for s in tested if s.backtest.not_relevant_removed and not s.backtest.relevant_lost)
    return sorted(useful, key=Suggestion.rank_key)


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
