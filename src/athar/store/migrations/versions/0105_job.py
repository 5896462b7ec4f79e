"""Background jobs: the ``job`` table, the queue and the state of every job.

Scoring a new subject (a tracing request, an unidentified person) and uploaded imports run as
jobs (:mod:`athar.services.jobs`).  Their state lives here on both backends, so a page shows
it the same way on SQLite and PostgreSQL; a worker claims the oldest queued job (on
PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so several workers never take the same job).

Revision ID: 0105
Revises: 0104
Create Date: 2026-12-02 13:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0105"
down_revision = "0104"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("time_limit", sa.Float(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'succeeded', 'failed', 'timed_out')",
            name=op.f("ck_job_state"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    op.create_index(op.f("ix_job_state_id"), "job", ["state", "id"])
    op.create_index(op.f("ix_job_subject"), "job", ["subject"])


def downgrade() -> None:
    op.drop_index(op.f("ix_job_subject"), table_name="job")
    op.drop_index(op.f("ix_job_state_id"), table_name="job")
    op.drop_table("job")
