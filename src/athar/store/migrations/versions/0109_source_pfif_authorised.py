"""A source may be authorised to assert a death through PFIF (``believed_dead`` notes).

Person Finder lets only repositories it has given permission assert ``believed_dead``; Athar
keeps the same rule: an administrator marks a source (``athar pfif authorise``), audited, and a
``believed_dead`` note from any other source is kept with its record's PFIF but is never a
death claim.

Revision ID: 0109
Revises: 0104
Create Date: 2026-12-02 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0109"
down_revision = "0104"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("source") as batch:
        batch.add_column(
            sa.Column(
                "pfif_death_authorised",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("source") as batch:
        batch.drop_column("pfif_death_authorised")
