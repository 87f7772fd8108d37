"""Schema version 7: each search provider remembers how many hits each of its queries had last time
(search_providers.query_hits, JSON {query: hits}): an empty answer to a query that had results is a soft
block (Google News and Bing answer a throttled client with an empty feed, not an error).

Revision ID: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("search_providers", sa.Column("query_hits", sa.Text))
    meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.Text))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value="7"))
