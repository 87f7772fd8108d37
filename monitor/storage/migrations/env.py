"""Alembic's entry point: migrations always run on a connection monitor/storage/migrate.py hands over."""

from alembic import context

from monitor.storage.migrate import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
