"""Web case work: users, login sessions, login attempts, tracing requests.

Revision ID: 0101
Revises: 0001
Create Date: 2026-11-22 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0101"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("source_code", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_login_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "login_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_login_session_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_session")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_login_session_token_digest")),
    )
    op.create_index(op.f("ix_login_session_user_id"), "login_session", ["user_id"])
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
    )
    op.create_index("ix_login_attempt_username_at", "login_attempt", ["username", "at"])
    op.create_index("ix_login_attempt_client_at", "login_attempt", ["client", "at"])
    op.create_table(
        "tracing_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("requester_name", sa.Text(), nullable=False),
        sa.Column("relationship", sa.String(length=32), nullable=False),
        sa.Column("contact_phone", sa.Text(), nullable=True),
        sa.Column("contact_email", sa.Text(), nullable=True),
        sa.Column("contact_other", sa.Text(), nullable=True),
        sa.Column("other_names", sa.Text(), nullable=True),
        sa.Column("residence_place", sa.Text(), nullable=True),
        sa.Column("circumstances", sa.Text(), nullable=True),
        sa.Column("photo", sa.LargeBinary(), nullable=True),
        sa.Column("photo_type", sa.String(length=16), nullable=True),
        sa.Column("consent", sa.JSON(), nullable=False),
        sa.Column("consent_updated_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["record.id"], name=op.f("fk_tracing_request_record_id_record")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracing_request")),
        sa.UniqueConstraint("reference", name=op.f("uq_tracing_request_reference")),
        sa.UniqueConstraint("record_id", name=op.f("uq_tracing_request_record_id")),
    )


def downgrade() -> None:
    op.drop_table("tracing_request")
    op.drop_index("ix_login_attempt_client_at", table_name="login_attempt")
    op.drop_index("ix_login_attempt_username_at", table_name="login_attempt")
    op.drop_table("login_attempt")
    op.drop_index(op.f("ix_login_session_user_id"), table_name="login_session")
    op.drop_table("login_session")
    op.drop_table("app_user")
