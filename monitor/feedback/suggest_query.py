"""The `query:` edits `tune` suggests, for when the relevant alerts differ from the others in where the
terms are rather than in the words around them:

- near: the terms within n words of each other. A watchlist of terms only gets `A NEAR/n (B OR C)`,
  which names every term, as a watchlist with a query must (monitor.config.watchlists); one with a query
  Q gets `(Q) AND (A NEAR/n (B OR C))`. A is a term every relevant alert mentions. n is the smallest of
  WINDOWS that keeps every relevant alert: a pair within 5 words is within 10 too, so that window is
  also the one that removes the most.
- title: a term that the relevant alerts have in the headline and a not-relevant one only in the body,
  counted only in the headline: `title:A OR B OR C` (terms only), or required there: `(Q) AND title:A`.

Both are learnt from the relevant alerts, so a watchlist with none gets neither. Each query is validated
as the configuration would be, then backtested like the other edits; one that would lose a relevant
alert is not suggested.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..config import WatchlistConfig
from ..models import TermHit
from .alerted import WatchlistAlerts
from .backtest import Change, Suggestion, backtest

# Words between the terms, tried smallest first: round numbers, as an analyst writes them.
WINDOWS = (5, 10, 20, 30, 50)
MAX_NEAR_ANCHORS = 5  # terms tried on the left of NEAR, each a backtest per window
_QUOTES = (
    '"“”„‟″＂'  # what the query language reads as quotes (monitor.query.lexer): no term name may hold one
)
_OPERATORS = ("AND", "OR", "NOT")


def query_suggestions(alerts: WatchlistAlerts, found: dict[int, list[TermHit]]) -> list[Suggestion]:
    """The near and title suggestions, backtested, that keep every relevant alert."""
    names = _names(alerts.watchlist)
    if not alerts.relevant or names is None:
        return []
    return [*_near(alerts, found, names), *_title(alerts, found, names)]


def _names(watchlist: WatchlistConfig) -> list[str] | None:
    """The terms' names; None when one has no name a query could write (a regex without `term:`)."""
    names = [term.term for term in watchlist.terms]
    if any(name is None or any(q in name for q in _QUOTES) for name in names):
        return None
    return [name for name in names if name is not None]


def written(name: str) -> str:
    """A term's name as a query word: bare when the query language reads it as one word, else "quoted"."""
    upper = name.upper()
    bare = re.fullmatch(r"\w[\w'.-]*", name) and upper not in _OPERATORS and not upper.startswith("NEAR")
    return name if bare else f'"{name}"'


def _near(alerts: WatchlistAlerts, found: dict[int, list[TermHit]], names: list[str]) -> Iterator[Suggestion]:
    if not any(found[a.article_id] for a in alerts.articles if a.relevant is False):
        return  # the watchlist no longer matches its not-relevant alerts: nothing left to remove
    for anchor in _anchors(alerts, found, names):
        others = [name for name in names if name != anchor]
        right = written(others[0]) if len(others) == 1 else f"({' OR '.join(map(written, others))})"
        for window in WINDOWS:
            note = f"{anchor!r} within {window} words of {' or '.join(map(repr, others))}"
            change = Change(
                "near", anchor, _query(alerts.watchlist, f"{written(anchor)} NEAR/{window} {right}"), note
            )
            tested = _tested(alerts, change)
            if tested is None:  # not a valid query, whatever the window
                break
            if not tested.backtest.relevant_lost:
                if tested.backtest.not_relevant_removed:
                    yield tested
                break


def _anchors(alerts: WatchlistAlerts, found: dict[int, list[TermHit]], names: list[str]) -> list[str]:
    """The terms every relevant alert mentions, for the left of NEAR (one of two: A NEAR B is B NEAR A)."""
    if len(names) < 2:
        return []
    relevant = [{hit.term for hit in found[a.article_id]} for a in alerts.articles if a.relevant is True]
    anchors = [name for name in names if all(name in terms for terms in relevant)]
    return anchors[: 1 if len(names) == 2 else MAX_NEAR_ANCHORS]


def _title(
    alerts: WatchlistAlerts, found: dict[int, list[TermHit]], names: list[str]
) -> Iterator[Suggestion]:
    for name in names:
        if not _headline_tells(alerts, found, name):
            continue
        if alerts.watchlist.query is None:
            query = " OR ".join([f"title:{written(name)}", *(written(n) for n in names if n != name)])
            note = f"{name!r} counts only in the headline"
        else:
            query = _query(alerts.watchlist, f"title:{written(name)}")
            note = f"{name!r} needed in the headline"
        tested = _tested(alerts, Change("title", name, query, note))
        if tested is not None:  # suggest() keeps it only if it loses no relevant alert
            yield tested


def _headline_tells(alerts: WatchlistAlerts, found: dict[int, list[TermHit]], name: str) -> bool:
    """A relevant alert has the term in its headline, and a not-relevant one has it only in its body."""
    where = {
        a.article_id: {hit.in_title for hit in found[a.article_id] if hit.term == name}
        for a in alerts.articles
    }
    return any(a.relevant is True and True in where[a.article_id] for a in alerts.articles) and any(
        a.relevant is False and where[a.article_id] == {False} for a in alerts.articles
    )


def _query(watchlist: WatchlistConfig, condition: str) -> str:
    """The condition as the watchlist's query: alone, or added to the query it has."""
    return condition if watchlist.query is None else f"({watchlist.query.strip()}) AND ({condition})"


def _tested(alerts: WatchlistAlerts, change: Change) -> Suggestion | None:
    """The query edit backtested; None when the configuration would refuse the query."""
    try:
        watchlist = WatchlistConfig.model_validate(
            {**alerts.watchlist.model_dump(exclude_none=True), "query": change.value}
        )
    except ValueError:
        return None
    return Suggestion(alerts.watchlist.name, change, backtest(alerts, watchlist))
