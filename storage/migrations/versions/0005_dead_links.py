"""dead links: secondary links a curator accepted as dead

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: rows stored before this revision read back as no dead links.
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dead_links", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("dead_links")
