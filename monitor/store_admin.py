"""`news-monitor migrate`: bring the store's schema to this version, and optionally copy an old store in."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import create_engine

from .config import Config, resolve_storage_url
from .errors import StorageError
from .logs import mask_credentials
from .storage.copy import StoreNotEmpty, copy_store
from .storage.migrate import migrate
from .storage.sql import driver_url


def migrate_store(config: Config, source: str | None = None) -> Iterator[str]:
    """Migrate the configured store (and `source`, then copy it in); yields what was done, line by line."""
    target = driver_url(config.storage_url)
    yield _migrated(target)
    if source is None:
        return
    source = driver_url(resolve_storage_url(source, config.path.parent))  # as `storage:` is read
    if source == target:
        raise StorageError("migrate --from: the source is the configured store itself; name the old one")
    yield _migrated(source)
    source_engine, target_engine = create_engine(source), create_engine(target)
    try:
        copied = copy_store(source_engine, target_engine)
    except StoreNotEmpty as exc:
        raise StorageError(
            f"migrate --from: {exc}. Copy into a new, empty database (and keep the old store until the "
            "new one runs), or drop the target's tables first if they hold nothing you need."
        ) from exc
    finally:
        source_engine.dispose()
        target_engine.dispose()
    rows = ", ".join(f"{table.name} {table.rows:,}" for table in copied)
    yield f"copied {mask_credentials(source)} -> {mask_credentials(target)}: {rows}"


def _migrated(url: str) -> str:
    try:
        before, head = migrate(url)
    except ValueError as exc:
        raise StorageError(f"storage: cannot migrate {mask_credentials(url)}: {exc}") from exc
    if before.current:
        return f"{mask_credentials(url)}: schema already at revision {head}"
    return f"{mask_credentials(url)}: schema {before.revision or 'none (new store)'} -> revision {head}"
