"""ODK intake: antemortem records of tracing requests, and the imported ODK submissions.

Revision ID: 0110
Revises: 0109
Create Date: 2026-12-02 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0110"
down_revision = "0109"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "antemortem_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["tracing_request.id"],
            name=op.f("fk_antemortem_record_request_id_tracing_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_antemortem_record")),
    )
    op.create_index(op.f("ix_antemortem_record_request_id"), "antemortem_record", ["request_id"])
    op.create_table(
        "odk_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=128), nullable=False),
        sa.Column("form", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("imported_by", sa.Text(), nullable=False),
        sa.Column("imported_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_odk_submission")),
        sa.UniqueConstraint("instance_id", name=op.f("uq_odk_submission_instance_id")),
    )


def downgrade() -> None:
    op.drop_table("odk_submission")
    op.drop_index(op.f("ix_antemortem_record_request_id"), table_name="antemortem_record")
    op.drop_table("antemortem_record")
