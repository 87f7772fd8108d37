"""Schema version 1: feeds, articles, their dedup keys and near-copy bands, the outbox.

upgrade() is one long function on purpose: a migration is the schema as that version created it, read
top to bottom and never edited once released.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "feeds",
        sa.Column("url", sa.String(2048), primary_key=True),
        sa.Column("title", sa.Text),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("first_polled_at", sa.DateTime),
        sa.Column("last_polled_at", sa.DateTime),
        sa.Column("last_success_at", sa.DateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("last_result", sa.Text),
        sa.Column("consecutive_failures", sa.Integer, nullable=False),
        sa.Column("next_poll_at", sa.DateTime),
        sa.Column("disabled_reason", sa.Text),
        sa.Column("moved_to", sa.Text),
    )
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("feed_url", sa.String(2048), nullable=False),
        sa.Column("guid", sa.Text),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("canonical_url", sa.Text),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("published_at", sa.DateTime),
        sa.Column("first_seen_at", sa.DateTime, nullable=False),
        sa.Column("fingerprint", sa.String(64)),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("matches", sa.Text, nullable=False),
        sa.Column("signature", sa.LargeBinary),
    )
    op.create_table(
        "heartbeats",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "near_dup_bands",
        sa.Column("band_key", sa.String(64), nullable=False),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("first_seen_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("band_key", "article_id"),
    )
    op.create_table(
        "article_keys",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(2048), nullable=False),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.String(255), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("ts", sa.String(32)),
        sa.Column("error", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("sent_at", sa.DateTime),
        sa.Column("next_attempt_at", sa.DateTime),
        sa.Column("failed_config", sa.String(64)),
        sa.UniqueConstraint("article_id", "channel"),
    )
    meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.Text))
    op.execute(meta.insert().values(key="schema_version", value="1"))
