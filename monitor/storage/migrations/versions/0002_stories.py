"""Schema version 2: stories (articles.story_id, source, story_profile, the story_keys index), threaded
replies and digests in the outbox (alerts.kind, parent_id, dedup_key, channel_id; article_id optional),
adaptive polling (feeds.poll_interval).

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("story_id", sa.Integer))
        batch.add_column(sa.Column("source", sa.Text))
        batch.add_column(sa.Column("story_profile", sa.Text))
        batch.create_index("ix_articles_story_id", ["story_id"])
    op.add_column("feeds", sa.Column("poll_interval", sa.Integer))
    articles = sa.table("articles", sa.column("id", sa.Integer), sa.column("story_id", sa.Integer))
    # Every article stored before stories existed is a story of its own.
    op.execute(articles.update().values(story_id=articles.c.id))
    op.create_table(
        "story_keys",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("first_seen_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("key", "article_id"),
    )
    # Digests have no article: alerts.article_id becomes optional. SQLite cannot alter a column, so
    # batch mode rebuilds the table there (rows copied); PostgreSQL alters it in place.
    with op.batch_alter_table("alerts") as batch:
        batch.alter_column("article_id", existing_type=sa.Integer, nullable=True)
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="alert"))
        batch.add_column(sa.Column("story_id", sa.Integer))
        batch.add_column(sa.Column("parent_id", sa.Integer))
        batch.add_column(sa.Column("dedup_key", sa.String(255)))
        batch.add_column(sa.Column("channel_id", sa.String(32)))
        batch.create_index("ix_alerts_story_id", ["story_id"])
        batch.create_unique_constraint("uq_alerts_dedup_key", ["dedup_key"])
    alerts = sa.table("alerts", sa.column("article_id", sa.Integer), sa.column("story_id", sa.Integer))
    op.execute(alerts.update().values(story_id=alerts.c.article_id))
    meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.Text))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value="2"))
