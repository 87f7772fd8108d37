"""SQLStorage: the Storage interface on SQLAlchemy Core (SQLite by default; PostgreSQL shares the schema).

Opening the engine and the schema lives here; the queries, one mixin per entity, in the modules the
package's __init__ lists.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, make_url, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from ..errors import StorageError
from ..logs import log_event
from ..redact import mask_configured_url
from . import schema
from .alerts import AlertQueries
from .articles import ArticleQueries
from .claims import ClaimQueries
from .digests import DigestQueries
from .feeds import FeedQueries
from .fleet import DEFAULT_LEASE, FleetQueries, new_instance_id
from .interactions import InteractionQueries
from .migrate import SchemaState, migrate, schema_state
from .outbox import OutboxQueries
from .search import SearchQueries
from .stories import StoryQueries
from .turns import TurnQueries

log = logging.getLogger("monitor.storage")


class SQLStorage(
    FeedQueries,
    ArticleQueries,
    AlertQueries,
    OutboxQueries,
    StoryQueries,
    DigestQueries,
    FleetQueries,
    ClaimQueries,
    TurnQueries,
    SearchQueries,
    InteractionQueries,
):
    """State in one relational database; every dedup decision is a unique constraint."""

    def __init__(self, url: str, *, lease: timedelta = DEFAULT_LEASE):
        self.url = driver_url(url)
        self.instance_id = new_instance_id()  # this process, in the fleet's claims (storage/fleet.py)
        self.lease = lease
        self.engine = _create_engine(self.url)
        self._closed = False
        event.listen(self.engine, "checkin", self._close_if_store_closed)
        try:
            self._open_schema()
        except StorageError:
            self.engine.dispose()
            raise
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise StorageError(
                f"storage: cannot open the state database {_redact(url)}: {getattr(exc, 'orig', exc)}. "
                "If the file is corrupt, move it aside and start again (articles newer than poll.max_age "
                "may then alert once more); if the folder is not writable, fix its permissions or point "
                "`storage:` in monitor.yaml elsewhere."
            ) from exc

    def _open_schema(self) -> None:
        """Create a new store, upgrade an older SQLite one, refuse anything else before touching it."""
        state = schema_state(self.engine)
        if state.foreign or not state.known:
            found = (
                "tables that are not a news-monitor store's"
                if state.foreign
                else (f"a schema made by a newer news-monitor (revision {state.revision})")
            )
            raise StorageError(
                f"storage: the state database {_redact(self.url)} holds {found}; this news-monitor needs "
                f"revision {state.head}. Run the newer version, point `storage:` at a new database, or "
                "move the old one aside (articles newer than poll.max_age may then alert once more)."
            )
        if state.current:
            return
        if state.empty or self.engine.dialect.name == "sqlite":
            before, head = self.migrate()
            log_event(log, logging.INFO, "store.migrated", store=_redact(self.url),
                      from_revision=before.revision or "none", to_revision=head)  # fmt: skip
            return
        raise StorageError(
            f"storage: the state database {_redact(self.url)} is at schema revision {state.revision}, "
            f"this news-monitor needs {state.head}. Run `news-monitor --config PATH migrate` once (stop "
            "instances of the older version first, or they may fail on the new columns), then start again."
        )

    def migrate(self) -> tuple[SchemaState, str]:
        """Bring the schema to this version's head (see migrate.py); returns (state before, head)."""
        return migrate(self.url, connect_args=_connect_args(self.url))

    def heartbeat(self, name: str, at: datetime) -> None:
        """Write a liveness mark; raises StorageError when the store cannot be written."""
        table = schema.heartbeats
        try:
            with self.engine.begin() as conn:
                if not conn.execute(update(table).where(table.c.name == name).values(at=at)).rowcount:
                    conn.execute(insert(table).values(name=name, at=at))
        except SQLAlchemyError as exc:
            raise StorageError(
                f"storage: cannot write to {_redact(self.url)}: {getattr(exc, 'orig', exc)}"
            ) from exc

    def close(self) -> None:
        self._closed = True
        self.engine.dispose()

    def _close_if_store_closed(self, dbapi_connection: Any, record: Any) -> None:
        """A storage call still running in a worker thread when the store is closed (a poll or lease
        renewal cancelled at shutdown: cancelling `asyncio.to_thread` leaves its thread running) gives its
        connection back after `dispose()`, to a pool nobody closes any more; it must be closed here, or the
        driver's connection is only dropped by the garbage collector (psycopg then warns, and a server
        connection stays open until then)."""
        if self._closed and dbapi_connection is not None:
            dbapi_connection.close()


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        _ensure_sqlite_folder(Path(url.removeprefix("sqlite:///")))
    try:
        # pre_ping: a pooled connection a PostgreSQL restart or failover cut is replaced, not failed on.
        pre_ping = not url.startswith("sqlite")
        engine = create_engine(url, connect_args=_connect_args(url), pool_pre_ping=pre_ping)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StorageError(f"storage: cannot use {_redact(url)}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite_connection)
    return engine


def holds_store(url: str) -> bool:
    """Whether the database at `url` holds a news-monitor store already; nothing is created or changed
    (a SQLite file that is not there is not made), for commands that only read."""
    url = driver_url(url)
    database = make_url(url).database
    if url.startswith("sqlite") and (not database or database == ":memory:" or not Path(database).exists()):
        return False
    engine = create_engine(url, connect_args=_connect_args(url), poolclass=NullPool)
    try:
        return not schema_state(engine).empty
    except SQLAlchemyError as exc:
        raise StorageError(f"storage: cannot read the state database {_redact(url)}: {exc}") from exc
    finally:
        engine.dispose()


def driver_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (the driver news-monitor installs), not SQLAlchemy's psycopg2."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


# SQLite: wait for another writer this long instead of failing at once with "database is locked".
SQLITE_BUSY_SECONDS = 30.0


def _connect_args(url: str) -> dict[str, Any]:
    return {"timeout": SQLITE_BUSY_SECONDS} if url.startswith("sqlite") else {}


def _ensure_sqlite_folder(db_path: Path) -> None:
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"storage: cannot create the folder for the state database {db_path}: {exc}"
        ) from exc


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets status/preview read while the service writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    _use_wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL unless it is already. Switching needs the file to itself, and SQLite then
    answers "database is locked" at once, without the busy timeout: instances starting together on a
    new store failed (1 run in 6 of tests/test_migrations.py). WAL is kept in the file, so once one
    connection has set it the others find it set; until then they try again, within the busy timeout."""
    deadline = time.monotonic() + SQLITE_BUSY_SECONDS
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _redact(url: str) -> str:
    """Hide a password in a database URL before it reaches a log or an error."""
    return mask_configured_url(url)
