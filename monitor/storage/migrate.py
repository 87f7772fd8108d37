"""Bringing a store's schema to this version: alembic migrations, the same for SQLite and PostgreSQL.

A new store is created by running every revision; an older one is upgraded by the revisions it lacks.
Stores made before alembic (schema versions 1 and 2, in meta.schema_version) are first stamped with the
revision they match. A SQLite store is upgraded when news-monitor opens it (one process owns the file);
a PostgreSQL store is shared by a fleet, so an older schema there is refused until an operator runs
`news-monitor migrate` (instances of the old version may still be running against it).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, column, create_engine, event, inspect, select, table, text
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StorageError
from ..redact import mask_configured_url
from . import schema

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

# The revisions in migrations/versions/, oldest first. Opening a store only compares its revision with
# these; alembic itself (11 MiB resident) is imported only to migrate. tests/test_migrations.py checks
# this list against alembic's own reading of the folder.
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008")
# Our own name, not alembic's default: the store may share a database with another alembic-managed app.
VERSION_TABLE = "news_monitor_alembic_version"
# Stores made before migrations existed record their version here; it names the revision they match.
LEGACY_REVISIONS = {"1": "0001", "2": "0002"}
# Any constant: PostgreSQL's advisory lock that makes concurrent migrations (two instances starting on
# an empty database, two operators) take turns; the second then finds nothing left to do.
MIGRATION_LOCK = 7_203_114_951


@dataclass(frozen=True)
class SchemaState:
    """Where a store's schema stands against this news-monitor's migrations."""

    revision: str | None  # None: no news-monitor schema (an empty database, or `foreign` tables)
    head: str
    known: bool  # this version of news-monitor knows the revision (False: a newer version made it)
    foreign: bool = False  # tables are there, but not a news-monitor store's
    legacy: bool = False  # made before migrations: the revision is read from meta.schema_version

    @property
    def current(self) -> bool:
        return self.revision == self.head

    @property
    def empty(self) -> bool:
        return self.revision is None and not self.foreign


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(resources.files("monitor.storage") / "migrations"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return REVISIONS[-1]


def schema_state(engine: Engine) -> SchemaState:
    with engine.connect() as conn:
        return _state_of(conn)


def _state_of(conn: Connection) -> SchemaState:
    tables = set(inspect(conn).get_table_names())
    head = head_revision()
    revision = _alembic_revision(conn) if VERSION_TABLE in tables else None
    if revision is not None or not tables:
        return SchemaState(revision, head, known=revision is None or revision in REVISIONS)
    version = _legacy_version(conn) if schema.meta.name in tables else None
    if version is None:
        return SchemaState(None, head, known=True, foreign=True)
    revision = LEGACY_REVISIONS.get(version, version)
    return SchemaState(revision, head, known=revision in REVISIONS, legacy=True)


def _alembic_revision(conn: Connection) -> str | None:
    version = table(VERSION_TABLE, column("version_num"))
    value = conn.execute(select(version.c.version_num)).scalar()
    return str(value) if value is not None else None


def _legacy_version(conn: Connection) -> str | None:
    table = schema.meta
    value = conn.execute(select(table.c.value).where(table.c.key == "schema_version")).scalar()
    return str(value) if value is not None else None


def migrate(url: str, *, connect_args: dict[str, Any] | None = None) -> tuple[SchemaState, str]:
    """Upgrade the store at `url` to this version's head in one transaction; returns (before, head).

    Raises StorageError for a store a newer news-monitor made, a database holding other tables, or a
    database that cannot be reached or written.
    """
    try:
        engine = _migration_engine(url, connect_args or {})
        try:
            return _migrate(engine)
        finally:
            engine.dispose()
    except (SQLAlchemyError, ValueError) as exc:
        reason = getattr(exc, "orig", None) or exc
        raise StorageError(f"storage: cannot migrate {mask_configured_url(url)}: {reason}") from exc


def _migrate(engine: Engine) -> tuple[SchemaState, str]:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        before = _state_of(conn)
        if before.foreign:
            raise ValueError("the database holds tables that are not a news-monitor store's")
        if not before.known:
            raise ValueError(f"its schema is at revision {before.revision}, newer than this news-monitor")
        from alembic import command

        config = alembic_config(conn)
        if before.legacy and before.revision:
            command.stamp(config, before.revision)  # a store from before migrations
        if not before.current:
            command.upgrade(config, "head")
    return before, before.head


def _migration_engine(url: str, connect_args: dict[str, Any]) -> Engine:
    engine = create_engine(url, connect_args=connect_args)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)  # a new store's folder
    if engine.dialect.name == "sqlite":
        # pysqlite runs DDL outside any transaction; take over BEGIN so a migration that fails halfway
        # leaves the store exactly as it was (SQLite's DDL is transactional once asked).
        @event.listens_for(engine, "connect")
        def _no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediately(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
