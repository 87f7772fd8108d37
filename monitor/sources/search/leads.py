"""What every provider module gives back: leads (a feed item and its outlet's name), or a SearchError."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from ...config import WatchlistConfig
from ...errors import MonitorError
from ...http.client import HttpClient
from ...models import FeedItem
from .terms import QueryPlan

# A provider's answer is a stranger's bytes: capped like a feed (GDELT's 250 records are ~100 KB).
MAX_ANSWER_BYTES = 2_000_000
MAX_LEADS_PER_QUERY = 250
MAX_TITLE_CHARS = 500
MAX_LINK_CHARS = 2000

# query: the provider refused this query (the round goes on); rate_limited: HTTP 429; soft_block: an empty
# answer to a query that had results last time (Google News and Bing throttle so, research §1.4, §2);
# failed: anything else that says the provider is not answering (5xx, network, an unreadable answer).
ErrorKind = Literal["query", "rate_limited", "soft_block", "failed"]


class SearchError(MonitorError):
    """A provider's request failed; `reason` says how, in the provider's words where it gave some."""

    def __init__(self, provider: str, reason: str, *, kind: ErrorKind, retry_after: float | None = None):
        self.provider = provider
        self.reason = reason
        self.kind = kind
        self.retry_after = retry_after
        super().__init__(f"{provider}: {reason}")


@dataclass(frozen=True)
class Lead:
    """A search hit: a feed item for the pipeline (its page is fetched and matched like any other), and
    the outlet's name as the provider gives it."""

    item: FeedItem
    source: str


class Provider(Protocol):
    name: str
    # Seconds between two requests to it, across the process (politeness.Pacer).
    request_gap: float
    # An empty answer to a query that had results last time is a soft block (rounds.py).
    soft_blocks: bool
    # An empty answer ends the round: the rest of the burst would only be throttled too (Bing).
    stops_on_empty: bool

    def plan(self, watchlist: WatchlistConfig) -> QueryPlan: ...

    async def search(self, http: HttpClient, query: str, interval: timedelta) -> list[Lead]: ...

    # Of an answer's leads, how many the provider should still list at the next round (soft_blocks).
    def still_listed(self, leads: list[Lead], now: datetime) -> int: ...
