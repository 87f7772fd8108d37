"""A provider's search round: taken in the store (one instance of the fleet runs it), each searched
watchlist's queries sent one at a time and paced, each hit handed to the pipeline as a lead, the round's
counts and its outcome (next round, backoff, circuit) recorded for the next round and for `status`.

Outcomes of a round:
- done: every query answered (a query the provider refused is counted and logged; the round goes on), or,
  for a provider that stops on an empty answer (Bing), answered up to its first empty one: the next
  round starts with the query after it, so a term with no news never keeps the others from being asked;
- skipped: HTTP 429 on the round's first request, the provider shedding load (research §3.1): no retry,
  the next round comes at the usual interval;
- failed: the provider stopped answering, or answered a query that had results last time with nothing
  (a soft block: Google News and Bing throttle so); the round ends there and the next one is backed off
  (politeness.py). CIRCUIT_THRESHOLD failed rounds in a row open the circuit: one admin notice for the
  incident. A failed request ends its round, so each backed-off round probes with one request. Any
  other exception in a round (a bug, a store error, a hostile answer no check foresaw) fails it the same
  way, logged with its traceback: nothing is recorded as answered that was not.

A bad hit in an answer (an unreadable URL, a link to the provider's own site, no article object) is
skipped: counted (skipped_hits), logged once per answer with the reasons, and the answer read on.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from ... import metrics
from ...config import Config
from ...http.client import HttpClient
from ...logs import log_event
from ...models import FeedItem
from ...storage import SearchRoundRecord, SearchState, Storage
from ...text import cut
from .leads import Answer, Lead, Provider, SearchError
from .politeness import Pacer, circuit_open, next_round_after_failure
from .providers import make_provider, round_queries

log = logging.getLogger("monitor.search")

# Outcomes of process_item that are not a new article (the item was known, or not read at all).
NOT_NEW = frozenset({"seen", "duplicate", "too_old", "postponed", "failed"})

Process = Callable[[FeedItem, str], Awaitable[str]]
Notify = Callable[[str], Awaitable[None]]


@dataclasses.dataclass
class RoundCounts:
    provider: str
    outcome: str = "done"  # done | skipped | failed | not_due
    queries: int = 0
    hits: int = 0
    skipped_hits: int = 0  # hits left out as unreadable or not articles (leads.BadHit)
    new_articles: int = 0
    alerts: int = 0
    errors: int = 0
    last_error: str | None = None
    retry_after: float | None = None
    planned: list[str] = dataclasses.field(default_factory=list)  # the round's queries
    query_hits: dict[str, int] = dataclasses.field(default_factory=dict)  # each answered query's hits

    def error(self, exc: SearchError) -> None:
        self.errors += 1
        self.last_error = exc.reason
        metrics.SEARCH_ERRORS.labels(self.provider, exc.kind).inc()

    def crashed(self, exc: Exception) -> None:
        """The round ended by an exception no provider check raised: a failed round like any other."""
        self.outcome = "failed"
        self.errors += 1
        self.last_error = cut(f"unexpected error: {exc.__class__.__name__}: {exc}", 300)
        metrics.SEARCH_ERRORS.labels(self.provider, "failed").inc()


class SearchRounds:
    """Runs providers' rounds with the collaborators it is given; one per pipeline."""

    def __init__(self, storage: Storage, http: HttpClient, clock: Callable[[], datetime],
                 process: Process, notify: Notify):  # fmt: skip
        self.storage = storage
        self.http = http
        self.clock = clock
        self.process = process
        self.notify = notify
        self._pacers: dict[str, Pacer] = {}

    def pacer(self, provider: Provider) -> Pacer:
        if provider.name not in self._pacers:
            self._pacers[provider.name] = Pacer(provider.request_gap)
        return self._pacers[provider.name]

    async def run_due(self, config: Config) -> list[RoundCounts]:
        """Every configured provider's round, where it is due (one after another: each has its pace)."""
        if config.search is None:
            return []
        rounds = []
        for name in config.search.providers:
            try:
                rounds.append(await self.run_round(config, make_provider(name, config.search)))
            except Exception as exc:  # the round could not even be taken or recorded (the store failing)
                log_event(log, logging.ERROR, "search.round_crashed", provider=name,
                          reason=f"{exc.__class__.__name__}: {exc}", exc_info=True)  # fmt: skip
                counts = RoundCounts(name)
                counts.crashed(exc)
                rounds.append(counts)
        return rounds

    async def run_round(self, config: Config, provider: Provider) -> RoundCounts:
        assert config.search is not None
        interval, now = config.search.interval, self.clock()
        counts = RoundCounts(provider.name)
        state = self.storage.claim_search_round(provider.name, now, until=now + interval)
        if state is None:
            counts.outcome = "not_due"
            return counts
        try:
            await self._queries(config, provider, counts, state)
        except Exception as exc:
            counts.crashed(exc)
            log_event(log, logging.ERROR, "search.round_crashed", provider=provider.name,
                      reason=counts.last_error, exc_info=True)  # fmt: skip
        finally:
            notice = self._record(provider.name, state, counts, interval)
        if notice:
            await self.notify(notice)
        return counts

    async def _queries(
        self, config: Config, provider: Provider, counts: RoundCounts, state: SearchState
    ) -> None:
        """Each searched watchlist's queries, one request at a time; the first failure ends the round, so
        a round against a provider that is down costs one request (the circuit's probe)."""
        assert config.search is not None
        queries = round_queries(config, provider)
        if provider.stops_on_empty and queries:  # start where the last round stopped
            start = state.queries % len(queries)
            queries = queries[start:] + queries[:start]
        counts.planned = queries
        for index, query in enumerate(queries):
            await self.pacer(provider).wait()
            counts.queries += 1
            metrics.SEARCH_QUERIES.labels(provider.name).inc()
            try:
                answer = await provider.search(self.http, query, config.search.interval)
                self._check_soft_block(provider, query, answer, state)
            except SearchError as exc:
                counts.error(exc)
                if self._ends_round(exc, index, counts, query):
                    return
                continue
            leads = answer.leads
            counts.query_hits[query] = provider.still_listed(leads, self.clock())
            _skipped(provider.name, query, answer.skipped, counts)
            await self._leads(provider.name, leads, counts)
            if not leads and not answer.skipped and provider.stops_on_empty and index + 1 < len(queries):
                log_event(log, logging.INFO, "search.burst_stopped", provider=provider.name, query=query,
                          left=len(queries) - index - 1, reason="an empty answer")  # fmt: skip
                return

    def _check_soft_block(self, provider: Provider, query: str, answer: Answer, state: SearchState) -> None:
        """An empty answer to a query whose last answer had hits still listed by now: a soft block."""
        had = state.query_hits.get(query, 0)
        if provider.soft_blocks and not answer.leads and not answer.skipped and had:
            reason = (
                f"soft block: an empty answer to {query}, which had {had} results last time ("
                f"{provider.name} answers a throttled or blocked client so); backing off"
            )
            raise SearchError(provider.name, reason, kind="soft_block")

    def _ends_round(self, exc: SearchError, index: int, counts: RoundCounts, query: str) -> bool:
        if exc.kind == "query":
            log_event(log, logging.WARNING, "search.query_refused", provider=exc.provider, query=query,
                      reason=exc.reason, fix="`news-monitor check` shows each watchlist's query")  # fmt: skip
            return False
        counts.outcome = "skipped" if exc.kind == "rate_limited" and index == 0 else "failed"
        counts.retry_after = exc.retry_after
        event = "search.round_skipped" if counts.outcome == "skipped" else "search.round_failed"
        log_event(log, logging.WARNING, event, provider=exc.provider, reason=exc.reason)
        return True

    async def _leads(self, provider: str, leads: list[Lead], counts: RoundCounts) -> None:
        counts.hits += len(leads)
        metrics.SEARCH_HITS.labels(provider).inc(len(leads))
        for lead in leads:  # one at a time: a provider's hits often share hosts, paced per host anyway
            outcome = await self.process(lead.item, lead.source)
            if outcome not in NOT_NEW:
                counts.new_articles += 1
                metrics.SEARCH_NEW_ARTICLES.labels(provider).inc()
            if outcome == "matched":
                counts.alerts += 1
                metrics.SEARCH_ALERTS.labels(provider).inc()

    def _record(
        self, provider: str, state: SearchState, counts: RoundCounts, interval: timedelta
    ) -> str | None:
        """Record the round; the admin notice to send when it opened the circuit (once per incident)."""
        now = self.clock()
        notice = None
        failures = state.consecutive_failures + 1 if counts.outcome == "failed" else 0
        if counts.outcome == "skipped":
            failures = state.consecutive_failures
        incident = state.incident_since
        if counts.outcome == "failed":
            next_round = next_round_after_failure(now, interval, failures, counts.retry_after)
            if circuit_open(failures) and incident is None:
                incident = now
                notice = _notice(provider, failures, counts.last_error, next_round)
        else:
            next_round = now + interval
            if failures == 0 and incident is not None:
                log_event(log, logging.INFO, "search.recovered", provider=provider,
                          since=incident.isoformat(timespec="seconds"))  # fmt: skip
                incident = None
        record = SearchRoundRecord(
            at=now, next_round_at=next_round, queries=counts.queries, hits=counts.hits,
            new_articles=counts.new_articles, alerts=counts.alerts, errors=counts.errors,
            last_error=counts.last_error, consecutive_failures=failures, incident_since=incident,
            last_hits=counts.hits if counts.outcome == "done" else state.last_hits,
            query_hits=_query_hits_kept(state.query_hits, counts.query_hits, counts.planned),
        )  # fmt: skip
        self.storage.record_search_round(provider, record)
        return notice


def _skipped(provider: str, query: str, reasons: list[str], counts: RoundCounts) -> None:
    """An answer's bad hits: counted, and one line for them all with their reasons (most common first)."""
    if not reasons:
        return
    counts.skipped_hits += len(reasons)
    common = Counter(reasons).most_common(3)
    why = "; ".join(f"{reason} ({n})" for reason, n in common)
    if len(common) < len(set(reasons)):
        why += "; …"
    log_event(log, logging.WARNING, "search.hits_skipped", provider=provider, query=query,
              skipped=len(reasons), reasons=why)  # fmt: skip


def _query_hits_kept(
    previous: dict[str, int], answered: dict[str, int], planned: list[str]
) -> dict[str, int] | None:
    """Each planned query's hits in its last answer (this round's, else an earlier one's); queries no
    longer planned are forgotten. None (unchanged) when the round planned none."""
    if not planned:
        return None
    return {query: answered[query] if query in answered else previous[query]
            for query in planned if query in answered or query in previous}  # fmt: skip


def _notice(provider: str, failures: int, error: str | None, next_round: datetime) -> str:
    text = (
        f"news-monitor: search provider {provider} failed {failures} rounds in a row ({error}); "
        f"its rounds are backed off (next {next_round.isoformat(timespec='minutes')}) and probe with "
        "one query until it answers. This is the only notice for this incident."
    )
    log_event(log, logging.ERROR, "search.circuit_open", provider=provider, reason=error or "?")
    return text
