"""Feeds: what is remembered of each between polls, which are due, and recording a poll.

Recording a poll gives back this instance's claim on the feed (claims.py) in the same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection

from . import schema
from .common import chunks, storage_errors
from .records import FeedState, PollSuccess


class FeedQueries:
    """Mixin of SQLStorage: the feeds table."""

    engine: Engine
    instance_id: str

    def get_feed_state(self, url: str) -> FeedState | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(schema.feeds).where(schema.feeds.c.url == url)).mappings().first()
        return FeedState(**row) if row else None

    def feed_states(self) -> list[FeedState]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(schema.feeds).order_by(schema.feeds.c.url)).mappings().all()
        return [FeedState(**row) for row in rows]

    def due_feeds(self, urls: list[str], now: datetime) -> list[str]:
        """The feeds among `urls` whose next poll is due (never polled counts as due)."""
        with self.engine.connect() as conn:
            return due_feeds_among(conn, urls, now)

    def record_poll_success(self, url: str, poll: PollSuccess, *, at: datetime) -> None:
        self.record_poll_successes([(url, poll, at)])

    def record_poll_successes(self, polls: list[tuple[str, PollSuccess, datetime]]) -> None:
        """Record many successful polls in one transaction: a cycle of 1,000 unchanged feeds is one write."""
        if not polls:
            return
        table = schema.feeds
        # In URL order, the order claims take their rows in: two instances' writes never deadlock.
        rows = sorted(({"u": url, **_poll_values(poll, at)} for url, poll, at in polls), key=lambda r: r["u"])
        with storage_errors("record polls"), self.engine.begin() as conn:
            urls = [row["u"] for row in rows]
            known = set(conn.execute(select(table.c.url).where(table.c.url.in_(urls))).scalars())
            updates = [row for row in rows if row["u"] in known]
            if updates:
                conn.execute(update(table).where(table.c.url == bindparam("u")), updates)
            for row in rows:
                if row["u"] not in known:
                    known.add(row["u"])
                    values = {k: v for k, v in row.items() if k != "u"}
                    conn.execute(insert(table).values(url=row["u"], first_polled_at=row["last_polled_at"],
                                                      **values))  # fmt: skip
            self.release_feeds(conn, urls)

    def record_poll_failure(
        self,
        url: str,
        *,
        error: str,
        at: datetime,
        next_poll_at: datetime,
        disabled_reason: str | None = None,
    ) -> None:
        table = schema.feeds
        with self.engine.begin() as conn:
            state = conn.execute(select(table.c.consecutive_failures).where(table.c.url == url)).first()
            values = {
                "last_polled_at": at,
                "last_error": error[:2000],
                "last_result": "error",
                "consecutive_failures": (state[0] if state else 0) + 1,
                "next_poll_at": next_poll_at,
                "disabled_reason": disabled_reason,
            }
            self._upsert_feed(conn, url, values, at)
            self.release_feeds(conn, [url])

    def _upsert_feed(self, conn: Connection, url: str, values: dict[str, Any], at: datetime) -> None:
        exists = conn.execute(select(schema.feeds.c.url).where(schema.feeds.c.url == url)).first()
        if exists:
            conn.execute(update(schema.feeds).where(schema.feeds.c.url == url).values(**values))
        else:
            defaults = {"consecutive_failures": 0}
            conn.execute(insert(schema.feeds).values(url=url, first_polled_at=at, **{**defaults, **values}))

    def release_feeds(self, conn: Connection, urls: list[str]) -> None:
        """Give back this instance's claims on `urls` (their polls are recorded, in the same transaction)."""
        claims = schema.feed_claims
        for chunk in chunks(urls, 500):
            conn.execute(
                delete(claims).where(claims.c.url.in_(chunk), claims.c.claimed_by == self.instance_id)
            )


def due_feeds_among(conn: Connection, urls: list[str], now: datetime) -> list[str]:
    """The feeds among `urls` whose next poll is due (never polled counts as due), in their order."""
    schedule = feed_schedule(conn, urls)
    return [url for url in urls if is_due(schedule, url, now)]


def feed_schedule(conn: Connection, urls: list[str]) -> dict[str, tuple[datetime | None, int | None]]:
    """Each known feed's next poll and stored adaptive interval (seconds)."""
    table = schema.feeds
    found: dict[str, tuple[datetime | None, int | None]] = {}
    for chunk in chunks(urls, 500):
        query = select(table.c.url, table.c.next_poll_at, table.c.poll_interval).where(table.c.url.in_(chunk))
        found.update((row.url, (row.next_poll_at, row.poll_interval)) for row in conn.execute(query))
    return found


def is_due(schedule: dict[str, tuple[datetime | None, int | None]], url: str, now: datetime) -> bool:
    next_poll_at = schedule.get(url, (None, None))[0]
    return next_poll_at is None or next_poll_at <= now  # never polled counts as due


def stored_interval(schedule: dict[str, tuple[datetime | None, int | None]], url: str) -> timedelta | None:
    seconds = schedule.get(url, (None, None))[1]
    return timedelta(seconds=seconds) if seconds else None


def _poll_values(poll: PollSuccess, at: datetime) -> dict[str, Any]:
    return {
        "title": poll.title,
        "etag": poll.etag,
        "last_modified": poll.last_modified,
        "last_polled_at": at,
        "last_success_at": at,
        "last_error": None,
        "last_result": poll.result,
        "consecutive_failures": 0,
        "next_poll_at": poll.next_poll_at,
        "disabled_reason": None,
        "moved_to": poll.moved_to,
        "poll_interval": poll.poll_interval,
        "kind": poll.kind,
    }
