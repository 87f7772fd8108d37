"""`news-monitor migrate` and `retry`: the store's upkeep.

`migrate` brings the store's schema to this version, and optionally copies an old store in; `retry` sends
permanently failed alerts again once their cause is fixed.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from ..config import Config, load_config, resolve_storage_url, store_url_problem
from ..errors import StorageError
from ..pipeline.feed_cycle import Pipeline
from ..redact import mask_configured_url, remember_configured_url
from ..service.assembly import with_pipeline
from ..storage.copy import CopiedTable, StoreNotEmpty, copy_store
from ..storage.migrate import SchemaState, migrate, schema_state
from ..storage.sql import driver_url
from .arguments import Commands
from .output import EXIT_FAILURE, EXIT_OK, echo


def migrate_store(config: Config, source: str | None = None) -> Iterator[str]:
    """Migrate the configured store (then copy `source` into it); yields what was done, line by line."""
    target = driver_url(config.storage_url)
    yield _migrated(target)
    if source is None:
        return
    source = driver_url(resolve_storage_url(source, config.path.parent))  # read as `storage:` is
    remember_configured_url(source)
    problem = store_url_problem(source)
    if problem:
        raise StorageError(f"migrate --from: {problem}")
    if source == target:
        raise StorageError("migrate --from: the source is the configured store itself; name the old one")
    with _readable_copy(source) as readable:
        try:
            copied = _copy(readable, target)
        except StoreNotEmpty as exc:
            raise StorageError(
                f"migrate --from: {exc}. Copy into a new, empty database (and keep the old store until the "
                "new one runs), or drop the target's tables first if they hold nothing you need."
            ) from exc
    rows = ", ".join(f"{table.name} {table.rows:,}" for table in copied)
    yield f"copied {mask_configured_url(source)} -> {mask_configured_url(target)}: {rows}"


@contextmanager
def _readable_copy(source: str) -> Iterator[str]:
    """The source store as a URL at this version's schema, leaving the source itself untouched.

    A SQLite source is copied first (SQLite's backup: one consistent snapshot even while a service
    writes to it) and the copy migrated, so an older news-monitor can still open the original. Any
    other source must already be at this version (`news-monitor migrate` with it configured).
    """
    url = make_url(source)
    if url.get_backend_name() != "sqlite":
        state = _state(source)
        if not state.current:
            raise StorageError(
                f"migrate --from: {mask_configured_url(source)} is at schema revision "
                f"{state.revision or 'none'}; migrate it first (configure it, run migrate)"
            )
        yield source
        return
    path = Path(url.database or "")
    if not path.is_file():
        raise StorageError(f"migrate --from: there is no SQLite store at {path}; name the file `storage:` "
                           "pointed at (relative paths are read against the config's folder)")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="news-monitor-migrate-") as folder:
        snapshot = Path(folder) / path.name
        try:
            original, copy = sqlite3.connect(f"file:{path}?mode=ro", uri=True), sqlite3.connect(snapshot)
            try:
                original.backup(copy)
            finally:
                original.close()
                copy.close()
        except sqlite3.Error as exc:
            raise StorageError(f"migrate --from: cannot read {path}: {exc}") from exc
        snapshot_url = f"sqlite:///{snapshot}"
        if _state(snapshot_url).empty:
            raise StorageError(f"migrate --from: {path} holds no news-monitor store")
        _migrated(snapshot_url)
        yield snapshot_url


def _copy(source: str, target: str) -> list[CopiedTable]:
    source_engine, target_engine = create_engine(source), create_engine(target)
    try:
        return copy_store(source_engine, target_engine)
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", exc)
        raise StorageError(f"migrate --from: the copy failed, nothing was written: {reason}") from exc
    finally:
        source_engine.dispose()
        target_engine.dispose()


def _state(url: str) -> SchemaState:
    engine = create_engine(url)
    try:
        return schema_state(engine)
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", exc)
        raise StorageError(f"storage: cannot read {mask_configured_url(url)}: {reason}") from exc
    finally:
        engine.dispose()


def _migrated(url: str) -> str:
    before, head = migrate(url)
    if before.current:
        return f"{mask_configured_url(url)}: schema already at revision {head}"
    return f"{mask_configured_url(url)}: schema {before.revision or 'none (new store)'} -> revision {head}"


def cmd_retry(args: argparse.Namespace) -> int:
    """For fixes no config edit shows (the bot was invited, the channel unarchived): try failed alerts now."""
    config = load_config(args.config)

    async def run(pipeline: Pipeline) -> tuple[int, int, int]:
        requeued = pipeline.storage.requeue_failed(args.channel)
        pipeline.outbox.start()
        stats = await pipeline.outbox.drain()
        return requeued, stats.sent, stats.failed

    requeued, sent, failed = asyncio.run(with_pipeline(config, run))
    echo(f"retry: {requeued} failed alert(s) queued again; {sent} sent, {failed} failed again")
    return EXIT_OK if failed == 0 else EXIT_FAILURE


def cmd_migrate(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    for line in migrate_store(config, args.source):
        echo(f"migrate: {line}")
    return EXIT_OK


def add_migrate_command(commands: Commands) -> None:
    migrate = commands.add_parser(
        "migrate",
        help="bring the store's schema to this version (PostgreSQL needs it after an upgrade); "
        "--from copies an older store in",
    )
    migrate.add_argument("--from", dest="source", metavar="URL",
                         help="a store to copy into the configured one, e.g. sqlite:///state/news-monitor.db "
                         "(a SQLite store is read from a snapshot and left as it is; the configured one "
                         "must be empty)")  # fmt: skip
    migrate.set_defaults(handler=cmd_migrate)


def add_retry_command(commands: Commands) -> None:
    retry = commands.add_parser(
        "retry", help="send permanently failed alerts again, after fixing their cause"
    )
    retry.add_argument("--channel", help="only the alerts for this channel")
    retry.set_defaults(handler=cmd_retry)
