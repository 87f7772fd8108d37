"""News search rounds run by the pipeline: each hit is a lead, taken through the same item stages as a
feed item (ItemStages.process_item: seen? read the page through the address guard, match locally,
dedupe, stories), so it alerts only when its article matches. The rounds themselves are in
monitor/sources/search/rounds.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import TYPE_CHECKING

from ..errors import NotifyError
from ..logs import log_event
from ..models import FeedItem
from ..sources.search.google_news import TERMS_NOTICE
from ..sources.search.rounds import SearchRounds

if TYPE_CHECKING:
    from .feed_cycle import Pipeline

log = logging.getLogger("monitor.search")


class SearchCycle:
    """The pipeline's search rounds: run now (`once`), or started when due (`run`)."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        self.rounds = SearchRounds(
            pipeline.storage, pipeline.http, pipeline.clock, process=self._process_lead, notify=self._notify
        )
        self._running: asyncio.Task[None] | None = None
        search = pipeline.config.search
        if search is not None and "google_news" in search.providers:
            log_event(log, logging.WARNING, "search.google_news_terms", notice=TERMS_NOTICE)

    async def run_due(self) -> Counter[str]:
        """Every provider's round that is due; its counts named `search/<provider>/<count>`."""
        counts: Counter[str] = Counter()
        if self.pipeline.config.search is None or self.pipeline.stopping:
            return counts
        for done in await self.rounds.run_due(self.pipeline.config):
            if done.outcome == "not_due":
                counts[f"search/{done.provider}/not_due"] += 1
                continue
            for name in ("queries", "hits", "skipped_hits", "new_articles", "alerts", "errors"):
                counts[f"search/{done.provider}/{name}"] += getattr(done, name)
            counts[f"search/{done.provider}/{done.outcome}"] += 1
            counts["alerts/queued"] += done.alerts  # a hit's alerts are queued as a feed item's are
        return counts

    def start_due(self) -> bool:
        """Start the due rounds in the background unless they are running already (for `run`)."""
        if self.pipeline.config.search is None or self.pipeline.stopping:
            return False
        if self._running is not None and not self._running.done():
            return False
        self._running = asyncio.create_task(self._run_logged(), name="search rounds")
        return True

    async def _run_logged(self) -> None:
        try:
            counts = await self.run_due()
        except Exception as exc:  # (rounds record their own failures): never a task dying unseen
            log_event(log, logging.ERROR, "search.rounds_crashed", reason=f"{exc.__class__.__name__}: {exc}",
                      exc_info=True)  # fmt: skip
            return
        if any(not key.endswith("/not_due") for key in counts):
            summary = " ".join(f"{key}={value}" for key, value in sorted(counts.items()))
            log_event(log, logging.INFO, "search.round", counts=summary)

    async def stop(self, grace: float) -> None:
        """Let a running round finish its lead for `grace` seconds, then cancel it."""
        task = self._running
        if task is None or task.done():
            return
        _, pending = await asyncio.wait([task], timeout=grace)
        for left in pending:
            left.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _process_lead(self, item: FeedItem, source: str) -> str:
        # Not a first poll: a search hit is dated, and the rule against an undated backlog is a feed's.
        return await self.pipeline.process_item(item, source, first_poll=False)

    async def _notify(self, text: str) -> None:
        channel = self.pipeline.config.slack.admin_channel
        if channel is None:
            return  # logged by the round (search.circuit_open)
        try:
            await self.pipeline.outbox.notifier.send_notice(channel, text)
        except NotifyError as exc:
            log_event(log, logging.WARNING, "search.notice_failed", channel=channel, reason=exc.reason)


def search_rounds_tried(counts: Counter[str]) -> tuple[int, int]:
    """Of a cycle's counts, the search rounds that worked (done) and those that failed; a round not due
    or skipped (GDELT shedding load: a 429 on its first request) was not tried."""
    searched = [(key.rsplit("/", 1)[-1], n) for key, n in counts.items() if key.startswith("search/")]
    return sum(n for outcome, n in searched if outcome == "done"), sum(
        n for outcome, n in searched if outcome == "failed"
    )
