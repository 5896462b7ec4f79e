"""Published figures: researchers see a stored snapshot of the aggregate figures, refreshed
after a link run or when older than ``ATHAR_FIGURES_REFRESH_HOURS``, never live counts that
move by one with each new record (issue 18, finding 23).

Revision ID: 0108
Revises: 0106
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0108"
down_revision = "0106"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "figures_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("taken_at", TS, nullable=False),
        sa.Column("small_cell", sa.Integer(), nullable=False),
        sa.Column("link_run_id", sa.Integer(), nullable=True),
        sa.Column("estimate_run_id", sa.Integer(), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["estimate_run_id"],
            ["estimate_run.id"],
            name=op.f("fk_figures_snapshot_estimate_run_id_estimate_run"),
        ),
        sa.ForeignKeyConstraint(
            ["link_run_id"],
            ["link_run.id"],
            name=op.f("fk_figures_snapshot_link_run_id_link_run"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_figures_snapshot")),
    )


def downgrade() -> None:
    op.drop_table("figures_snapshot")
