"""Schema version 5: news search providers' state (search_providers): who runs a provider's round, its
backoff and circuit breaker, and the counters `status` shows.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_providers",
        sa.Column("provider", sa.String(32), primary_key=True),
        sa.Column("next_round_at", sa.DateTime),
        sa.Column("claimed_by", sa.String(128)),
        sa.Column("last_round_at", sa.DateTime),
        sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("incident_since", sa.DateTime),
        sa.Column("last_hits", sa.Integer),
        sa.Column("queries", sa.Integer, nullable=False, server_default="0"),
        sa.Column("hits", sa.Integer, nullable=False, server_default="0"),
        sa.Column("new_articles", sa.Integer, nullable=False, server_default="0"),
        sa.Column("alerts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("errors", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("last_error_at", sa.DateTime),
    )
    meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.Text))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value="5"))
