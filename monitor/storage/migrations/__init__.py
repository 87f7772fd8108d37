"""Alembic migrations of the state store, for SQLite and PostgreSQL alike (see monitor/storage/migrate.py).

Each revision is frozen: it describes the schema as it was at that version, never schema.py's current
tables, so an old store upgrades through every step exactly as a new one was created.
"""
