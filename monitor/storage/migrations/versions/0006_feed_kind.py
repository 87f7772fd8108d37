"""Schema version 6: each feed remembers what its URL serves (feeds.kind: rss, atom, json_feed,
news_sitemap, sitemap, sitemap_index), for `status` and for how the next poll asks for it.

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL until the feed's next successful poll: the kind is read from what the URL serves.
    op.add_column("feeds", sa.Column("kind", sa.String(32)))
    meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.Text))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value="6"))
