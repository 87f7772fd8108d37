"""A suggested edit, and its backtest: the match stage run again, with the edited watchlist compiled, on the
stored texts of the period's alerts (alerts kept, removed, not-relevant ones removed, relevant ones lost)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

from ..config import WatchlistConfig
from ..config.tune_edit import QUERY_KINDS
from ..models import TermHit
from ..stages.match import CompiledWatchlist, compile_watchlist, match_article
from .alerted import AlertedArticle, WatchlistAlerts


@dataclass(frozen=True)
class Change:
    """One edit, as the round-trip editor makes it (monitor.config.tune_edit)."""

    kind: str  # exclude | min_mentions | case_sensitive | near | title
    term: str | None  # the term it applies to (None: the watchlist)
    value: str | int | bool
    # What a query edit does, in words ("'PLA' within 10 words of 'Alibaba'"): not part of the edit.
    note: str = dataclasses.field(default="", compare=False)

    def describe(self) -> str:
        if self.kind == "exclude":
            return f"exclude {self.value!r} from term {self.term!r}"
        if self.kind == "case_sensitive":
            return f"make term {self.term!r} case-sensitive"
        if self.kind in QUERY_KINDS:
            return f"set query: {self.value} ({self.note})" if self.note else f"set query: {self.value}"
        return f"min_mentions: {self.value}"


@dataclass(frozen=True)
class Backtest:
    kept: int
    removed: int
    not_relevant_removed: int
    relevant_lost: int
    # The headlines of the alerts nobody judged that the edit would remove: a count alone hides what goes.
    unjudged_removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    watchlist: str
    change: Change
    backtest: Backtest

    @property
    def id(self) -> str:
        """Six hex digits derived from what the edit is, so `tune --apply ID` makes this edit or none: a
        number is a place in a list that feedback arriving since can reorder."""
        c = self.change
        content = json.dumps([self.watchlist, c.kind, c.term, c.value], ensure_ascii=False)
        return hashlib.sha256(content.encode("utf-8")).hexdigest()[:6]

    def rank_key(self) -> tuple[int, int]:
        """Most not-relevant alerts removed, then fewest others (none suggested loses a relevant one)."""
        b = self.backtest
        return (-b.not_relevant_removed, b.removed - b.not_relevant_removed)


def backtest(alerts: WatchlistAlerts, watchlist: WatchlistConfig) -> Backtest:
    """The period's alerts matched again with `watchlist` in place of the one that alerted them."""
    compiled = [_compiled(alerts, watchlist)]  # once: a query edit is backtested for several windows
    removed = [a for a in alerts.articles if not match_article(a.article, compiled)]
    return Backtest(
        kept=len(alerts.articles) - len(removed),
        removed=len(removed),
        not_relevant_removed=sum(a.relevant is False for a in removed),
        relevant_lost=sum(a.relevant is True for a in removed),
        unjudged_removed=tuple(a.article.title for a in removed if a.relevant is None),
    )


def edited(watchlist: WatchlistConfig, change: Change) -> WatchlistConfig:
    """The watchlist with the change made (in memory: the file is edited by monitor.config.tune_edit)."""
    if change.kind == "min_mentions":
        return watchlist.model_copy(update={"min_mentions": change.value})
    if change.kind in QUERY_KINDS:
        return watchlist.model_copy(update={"query": change.value})
    terms = []
    for term in watchlist.terms:
        if term.name == change.term and change.kind == "exclude":
            term = term.model_copy(update={"exclude": [*term.exclude, str(change.value)]})
        elif term.name == change.term and change.kind == "case_sensitive":
            term = term.model_copy(update={"case_sensitive": True})
        terms.append(term)
    return watchlist.model_copy(update={"terms": terms})


def watchlist_hits(
    alerts: WatchlistAlerts, watchlist: WatchlistConfig, alerted: AlertedArticle
) -> list[TermHit]:
    """The watchlist's hits in the article; [] when it does not match. Feed tags are not asked again:
    the article was alerted for this watchlist, so it came from a feed the watchlist covers."""
    return [
        hit for match in match_article(alerted.article, [_compiled(alerts, watchlist)]) for hit in match.hits
    ]


def _compiled(alerts: WatchlistAlerts, watchlist: WatchlistConfig) -> CompiledWatchlist:
    return dataclasses.replace(compile_watchlist(watchlist, alerts.channel), feed_tags=None)
