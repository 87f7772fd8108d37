"""The state store a test runs against: a SQLite file by default, a PostgreSQL schema on request.

Set NEWS_MONITOR_TEST_POSTGRES to a database URL (postgresql+psycopg://user@host:port/db) and every
test gets a fresh schema in that database, chosen through the URL's `options=-csearch_path=<schema>`,
and dropped after the test. Tests read and change the store through `Store.rows` and `Store.execute`
(SQLAlchemy `text()`), never through a backend's own client, so the same test runs on both.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Row, bindparam, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from monitor.storage.schema import UTCDateTime

POSTGRES_ENV = "NEWS_MONITOR_TEST_POSTGRES"
SQLITE_CONFIG_URL = "sqlite:///state/news-monitor.db"  # the default, relative to the config's folder


def postgres_base_url() -> str | None:
    """The PostgreSQL database the tests run in, or None for SQLite."""
    return os.environ.get(POSTGRES_ENV) or None


@dataclass
class Store:
    """One test's store: the URL for monitor.yaml, the URL to open it with, and SQL on it."""

    config_url: str  # what World writes as `storage:` (SQLite: relative to the world's folder)
    url: str  # absolute: what open_storage() and create_engine() take
    schema: str | None = None  # the PostgreSQL schema holding this test's tables
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def backend(self) -> str:
        return "postgresql" if self.schema else "sqlite"

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            if self.backend == "sqlite":  # a test may write the store before the service made its folder
                Path(make_url(self.url).database or "").parent.mkdir(parents=True, exist_ok=True)
            self._engine = create_engine(self.url, poolclass=NullPool)
        return self._engine

    def execute(self, sql: str, /, **params: Any) -> int:
        """Run one statement in its own transaction; returns the number of rows it changed."""
        with self.engine.begin() as conn:
            return conn.execute(_statement(sql, params)).rowcount

    def rows(self, sql: str, /, *, datetimes: Sequence[str] = (), **params: Any) -> list[Row[Any]]:
        """The rows of a query; the columns named in `datetimes` come back as aware UTC datetimes."""
        statement = _statement(sql, params)
        if datetimes:
            statement = statement.columns(**{name: UTCDateTime() for name in datetimes})  # type: ignore[assignment]
        with self.engine.connect() as conn:
            return list(conn.execute(statement))

    def tables(self) -> set[str]:
        """The tables the store holds (on PostgreSQL: in this test's schema, and only there)."""
        if self.schema is None:
            found = self.rows("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            found = self.rows(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = :schema",
                schema=self.schema,
            )
        return {name for (name,) in found}

    def contents(self) -> bytes:
        """Everything the store holds, as bytes: the SQLite files, or every row of every table."""
        if self.schema is None:
            folder = Path(make_url(self.url).database or "").parent
            return b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file())
        tables = sorted(self.tables())
        return b"".join(repr(tuple(row)).encode() for t in tables for row in self.rows(f"SELECT * FROM {t}"))

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _statement(sql: str, params: dict[str, Any]) -> Any:
    # Datetimes are bound as the store binds them (naive UTC), so SQLite compares like with like.
    binds = [
        bindparam(name, value, type_=UTCDateTime()) if isinstance(value, datetime) else bindparam(name, value)
        for name, value in params.items()
    ]
    return text(sql).bindparams(*binds)


def sqlite_store(folder: Path) -> Store:
    return Store(SQLITE_CONFIG_URL, f"sqlite:///{folder / 'state' / 'news-monitor.db'}")


@contextmanager
def postgres_store(admin: Engine, base_url: str) -> Iterator[Store]:
    """A fresh schema in the base database, dropped with everything in it afterwards."""
    schema = f"test_{uuid.uuid4().hex[:16]}"
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = url.render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    store = Store(rendered, rendered, schema)
    try:
        yield store
    finally:
        store.close()
        drop_schema(admin, schema)


def drop_schema(admin: Engine, schema: str) -> None:
    """Drop a test's schema; sessions the test left holding locks in it (a killed child's) are ended first."""
    with admin.begin() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM (SELECT DISTINCT l.pid FROM pg_locks l"
                " JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = :schema AND l.pid <> pg_backend_pid()) AS holders"
            ),
            {"schema": schema},
        )
        conn.execute(text("SET LOCAL lock_timeout = '20s'"))  # fail the teardown, never hang the run
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def public_tables(admin: Engine) -> set[str]:
    """Tables in the base database's public schema: a store that missed its test schema lands there."""
    with admin.connect() as conn:
        found = conn.execute(
            text("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        )
        return {name for (name,) in found}
