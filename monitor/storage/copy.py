"""Copying a whole store into another (`news-monitor migrate --from sqlite:///...`): SQLite to PostgreSQL.

Both stores are first brought to this version's schema, so the copy is table for table, row for row.
Everything that makes the service remember is copied: feed schedules, articles with their dedup keys
and near-copy and story indexes, and the outbox (sent, failed and pending alerts, so nothing is lost
and nothing is sent twice). Claims and instances are not: they belong to the processes of the old store.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Table, func, insert, select, text

from ..errors import StorageError
from . import schema

# Parents before children (foreign keys); leases and instances stay behind.
COPIED_TABLES: tuple[Table, ...] = (
    schema.feeds,
    schema.articles,
    schema.article_keys,
    schema.near_dup_bands,
    schema.story_keys,
    schema.alerts,
    schema.jobs,
    schema.search_providers,  # backoff, circuit and counters carry over
    schema.interactions,  # the feedback on alerts, and the mutes it made
    schema.story_mutes,
    schema.outlet_mutes,
)
BATCH_ROWS = 2_000


class StoreNotEmpty(ValueError):
    """The target already holds state: copying into it would mix two histories."""


@dataclass(frozen=True)
class CopiedTable:
    name: str
    rows: int


def copy_store(source: Engine, target: Engine) -> list[CopiedTable]:
    """Copy every row of COPIED_TABLES from `source` to the empty store `target`, in one transaction."""
    # One snapshot of the source: rows written meanwhile neither break a foreign key nor half-appear.
    reading_options = {"isolation_level": "REPEATABLE READ"} if source.dialect.name == "postgresql" else {}
    with source.connect().execution_options(**reading_options) as reading, target.begin() as writing:
        held = [table.name for table in COPIED_TABLES if _count(writing, table)]
        if held:
            raise StoreNotEmpty(f"the target store already holds rows in {', '.join(held)}")
        copied = []
        for table in COPIED_TABLES:
            rows = 0
            batch: list[dict[str, object]] = []
            for row in reading.execute(select(table)).mappings():
                batch.append(_without_claims(table, dict(row)))
                if len(batch) == BATCH_ROWS:
                    rows += _write(writing, table, batch)
            rows += _write(writing, table, batch)
            copied.append(CopiedTable(table.name, rows))
        if writing.dialect.name == "postgresql":
            _advance_sequences(writing)
        for table, result in zip(COPIED_TABLES, copied, strict=True):
            if _count(writing, table) != result.rows:  # a last look before committing
                found = _count(writing, table)
                raise StorageError(f"migrate --from: {table.name}: {result.rows} rows copied, {found} found")
    return copied


def _without_claims(table: Table, row: dict[str, object]) -> dict[str, object]:
    if "claimed_by" in row:
        row.update(claimed_by=None, claimed_until=None)
    return row


def _write(conn: Connection, table: Table, batch: list[dict[str, object]]) -> int:
    if not batch:
        return 0
    conn.execute(insert(table), batch)
    written = len(batch)
    batch.clear()
    return written


def _count(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _advance_sequences(conn: Connection) -> None:
    """Ids were copied as they were; PostgreSQL's id sequences must start after the highest."""
    for table in (schema.articles, schema.alerts):
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
            )
        )
