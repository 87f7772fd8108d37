"""The alerts of a period, per watchlist, with the verdict given on each (relevant, not relevant, none)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..config import Config, WatchlistConfig
from ..models import Article
from ..storage import Storage


@dataclass(frozen=True)
class AlertedArticle:
    article_id: int
    article: Article
    relevant: bool | None  # None: nobody judged its alert


@dataclass
class WatchlistAlerts:
    watchlist: WatchlistConfig
    channel: str
    articles: list[AlertedArticle] = field(default_factory=list)

    @property
    def relevant(self) -> int:
        return sum(a.relevant is True for a in self.articles)

    @property
    def not_relevant(self) -> int:
        return sum(a.relevant is False for a in self.articles)

    @property
    def judged(self) -> int:
        return self.relevant + self.not_relevant

    @property
    def precision(self) -> float | None:
        """Relevant / judged; None while nothing is judged."""
        return self.relevant / self.judged if self.judged else None


def alerts_by_watchlist(
    storage: Storage, config: Config, since: datetime, only: str | None = None
) -> list[WatchlistAlerts]:
    """Each configured watchlist (or only `only`) with the articles alerted for it since `since`."""
    verdicts = _verdicts(storage)
    found = [WatchlistAlerts(w, config.channel_for(w)) for w in config.watchlists if only in (None, w.name)]
    by_name = {w.watchlist.name: w for w in found}
    for stored in storage.recent_articles(since):
        for name in stored.watchlists_alerted():
            if (alerts := by_name.get(name)) is not None:
                record = stored.record
                article = Article(url=record.url, title=record.title, text=record.text)
                alerts.articles.append(AlertedArticle(stored.id, article, verdicts.get((stored.id, name))))
    return found


def _verdicts(storage: Storage) -> dict[tuple[int, str], bool]:
    """(article id, watchlist) -> the verdict on its alert (storage.judgements: the majority of each
    person's latest judgement)."""
    verdicts: dict[tuple[int, str], bool] = {}
    articles: dict[int, int | None] = {}
    for judgement in storage.judgements():
        if judgement.alert_id not in articles:
            entry = storage.outbox_entry(judgement.alert_id)
            articles[judgement.alert_id] = entry.article_id if entry else None
        article_id = articles[judgement.alert_id]
        if article_id is not None:
            verdicts[(article_id, judgement.watchlist)] = judgement.relevant
    return verdicts
