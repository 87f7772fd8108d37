"""News search providers' state: taking a provider's round (one instance of the fleet at a time), and
recording what it did (counters, backoff, circuit breaker) for the next round and for `status`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.engine import Connection

from . import schema
from .common import dialect_insert, storage_errors
from .records import SearchRoundRecord, SearchState

_COUNTERS = ("queries", "hits", "new_articles", "alerts", "errors")


class SearchQueries:
    """Mixin of SQLStorage: the search_providers table."""

    engine: Engine
    instance_id: str

    def search_states(self) -> list[SearchState]:
        with storage_errors("read the search providers' state"), self.engine.connect() as conn:
            rows = conn.execute(select(schema.search_providers).order_by(schema.search_providers.c.provider))
            return [_state(row._mapping) for row in rows]

    def claim_search_round(self, provider: str, now: datetime, until: datetime) -> SearchState | None:
        """The provider's state if its round is due and this instance now holds it until `until`
        (another instance asking meanwhile gets None), else None."""
        table = schema.search_providers
        with storage_errors(f"take the {provider} search round"), self.engine.begin() as conn:
            conn.execute(dialect_insert(conn, table).values(provider=provider).on_conflict_do_nothing())
            due = (table.c.next_round_at.is_(None)) | (table.c.next_round_at <= now)
            taken = conn.execute(
                update(table)
                .where((table.c.provider == provider) & due)
                .values(next_round_at=until, claimed_by=self.instance_id)
            )
            if taken.rowcount != 1:
                return None
            return _read(conn, provider)

    def record_search_round(self, provider: str, record: SearchRoundRecord) -> None:
        """Add a round's counts to the provider's, and set its next round, backoff and circuit state."""
        table = schema.search_providers
        values: dict[str, Any] = {name: table.c[name] + getattr(record, name) for name in _COUNTERS}
        values |= {
            "next_round_at": record.next_round_at,
            "claimed_by": None,
            "last_round_at": record.at,
            "consecutive_failures": record.consecutive_failures,
            "incident_since": record.incident_since,
            "last_hits": record.last_hits,
        }
        if record.query_hits is not None:
            values["query_hits"] = json.dumps(record.query_hits, ensure_ascii=False)
        if record.last_error is not None:
            values |= {"last_error": record.last_error, "last_error_at": record.at}
        with storage_errors(f"record the {provider} search round"), self.engine.begin() as conn:
            conn.execute(update(table).where(table.c.provider == provider).values(values))


def _read(conn: Connection, provider: str) -> SearchState:
    table = schema.search_providers
    row = conn.execute(select(table).where(table.c.provider == provider)).one()
    return _state(row._mapping)


def _state(row: Any) -> SearchState:
    return SearchState(
        provider=row["provider"],
        next_round_at=row["next_round_at"],
        last_round_at=row["last_round_at"],
        consecutive_failures=row["consecutive_failures"] or 0,
        incident_since=row["incident_since"],
        last_hits=row["last_hits"],
        query_hits=_query_hits(row["query_hits"]),
        queries=row["queries"] or 0,
        hits=row["hits"] or 0,
        new_articles=row["new_articles"] or 0,
        alerts=row["alerts"] or 0,
        errors=row["errors"] or 0,
        last_error=row["last_error"],
        last_error_at=row["last_error_at"],
    )


def _query_hits(text: str | None) -> dict[str, int]:
    """The stored {query: hits}; empty when absent or unreadable (no soft block is then detected)."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, int)}
