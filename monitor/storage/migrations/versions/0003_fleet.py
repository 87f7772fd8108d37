"""Schema version 3: several instances on one store. Feeds (feed_claims) and outbox entries
(alerts.claimed_by, claimed_until) are claimed with a lease; `instances` lists the processes alive;
`jobs` runs fleet-wide schedules (housekeeping) once per due time.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("claimed_by", sa.String(128)))
    op.add_column("alerts", sa.Column("claimed_until", sa.DateTime))
    op.create_table(
        "feed_claims",
        sa.Column("url", sa.String(2048), primary_key=True),
        sa.Column("claimed_by", sa.String(128), nullable=False),
        sa.Column("claimed_until", sa.DateTime, nullable=False),
    )
    op.create_table(
        "instances",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("namespace", sa.String(128), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("seen_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "jobs",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("next_run_at", sa.DateTime, nullable=False),
        sa.Column("last_run_by", sa.String(128)),
    )
    meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.Text))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value="3"))
