"""What the entity modules share: the outbox's columns, the dialect's INSERT and upsert, turning a
database error into a StorageError, and cutting long lists into statements of bounded size.

At the bottom of storage's SQL modules: it imports only the schema, so every entity module may import it.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from ..errors import StorageError
from . import schema


def outbox_columns() -> list[Any]:
    """The columns an OutboxEntry is read from (not its claim, dedup key, sent time or failed config)."""
    table = schema.alerts
    return [
        table.c.next_attempt_at,
        table.c.created_at,
        table.c.id,
        table.c.article_id,
        table.c.channel,
        table.c.payload,
        table.c.status,
        table.c.ts,
        table.c.error,
        table.c.attempts,
        table.c.kind,
        table.c.story_id,
        table.c.parent_id,
        table.c.channel_id,
    ]


@contextlib.contextmanager
def storage_errors(doing: str) -> Iterator[None]:
    """Turn a database error into a StorageError that says what storage was `doing`."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise StorageError(f"storage: cannot {doing}: {getattr(exc, 'orig', exc)}") from exc


def dialect_insert(conn: Connection, table: Any) -> Any:
    """The INSERT of the connection's dialect, which has ON CONFLICT (SQLite and PostgreSQL alike)."""
    # Imported here: the PostgreSQL dialect costs a SQLite-only service 2.3 MiB for nothing.
    dialect = "postgresql" if conn.dialect.name == "postgresql" else "sqlite"
    return importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert(table)


def upsert(conn: Connection, table: Any, rows: list[dict[str, Any]], keys: list[str], columns: set[str],
           where: Any) -> Any:  # fmt: skip
    """INSERT, or on a key conflict UPDATE `columns` where `where` holds (SQLite and PostgreSQL alike)."""
    statement = dialect_insert(conn, table).values(rows)
    return statement.on_conflict_do_update(
        index_elements=keys, set_={name: statement.excluded[name] for name in columns}, where=where
    )


def inserted_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    if key is None:
        raise StorageError("storage: the database returned no id for a new row")
    return int(key[0])


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    """`items` in lists of at most `size`: each statement's IN (...) stays short however many there are."""
    return [items[start : start + size] for start in range(0, len(items), size)]


def due_outbox_entries(now: datetime) -> ColumnElement[bool]:
    """Outbox entries to send now: pending, and past any backoff."""
    table = schema.alerts
    return (table.c.status == "pending") & (
        table.c.next_attempt_at.is_(None) | (table.c.next_attempt_at <= now)
    )
