"""Schema version 8: the buttons on alerts (issue 17): interactions (who did what with which alert, per
watchlist: the feedback `tune` and /metrics read), story_mutes and outlet_mutes.

Revision ID: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "interactions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dedup_key", sa.String(64), nullable=False),
        sa.Column("watchlist", sa.String(255), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("team_id", sa.String(32)),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("alert_id", sa.Integer, nullable=False),
        sa.Column("article_id", sa.Integer),
        sa.Column("story_id", sa.Integer),
        sa.Column("outlet", sa.Text),
        sa.Column("channel", sa.String(255), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("message_ts", sa.String(32), nullable=False),
        sa.UniqueConstraint("dedup_key", "watchlist", name="uq_interactions_key"),
    )
    op.create_index("ix_interactions_alert_id", "interactions", ["alert_id"])
    op.create_table(
        "story_mutes",
        sa.Column("story_id", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(255), nullable=False),
        sa.Column("muted_at", sa.DateTime, nullable=False),
        sa.Column("muted_by", sa.String(32), nullable=False),
        sa.Column("alert_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("story_id", "channel"),
    )
    op.create_table(
        "outlet_mutes",
        sa.Column("outlet", sa.Text, nullable=False),
        sa.Column("watchlist", sa.String(255), nullable=False),
        sa.Column("muted_at", sa.DateTime, nullable=False),
        sa.Column("muted_by", sa.String(32), nullable=False),
        sa.Column("alert_id", sa.Integer),
        sa.PrimaryKeyConstraint("outlet", "watchlist"),
    )
    meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.Text))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value="8"))
