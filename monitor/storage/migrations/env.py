"""Alembic's entry point: migrations always run on a connection monitor/storage/migrate.py hands over."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
