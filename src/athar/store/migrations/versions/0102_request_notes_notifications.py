"""Case work: notes on tracing requests and the record of when and how the family was told.

Revision ID: 0102
Revises: 0101
Create Date: 2026-11-30 00:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0102"
down_revision = "0101"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "request_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("sealed_text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["tracing_request.id"],
            name=op.f("fk_request_note_request_id_tracing_request"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["app_user.id"], name=op.f("fk_request_note_author_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_note")),
    )
    op.create_index(op.f("ix_request_note_request_id"), "request_note", ["request_id"])
    op.create_table(
        "family_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("informed_at", TS, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["tracing_request.id"],
            name=op.f("fk_family_notification_request_id_tracing_request"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["app_user.id"],
            name=op.f("fk_family_notification_recorded_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_notification")),
    )
    op.create_index(
        op.f("ix_family_notification_request_id"), "family_notification", ["request_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_family_notification_request_id"), table_name="family_notification")
    op.drop_table("family_notification")
    op.drop_index(op.f("ix_request_note_request_id"), table_name="request_note")
    op.drop_table("request_note")
