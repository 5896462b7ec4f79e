"""PFIF exchange: sources authorised to assert a death, and partners' API keys.

A source may be authorised to assert a death through PFIF (``believed_dead`` notes).

Person Finder lets only repositories it has given permission assert ``believed_dead``; Athar
keeps the same rule: an administrator marks a source (``athar pfif authorise``), audited, and a
``believed_dead`` note from any other source is kept with its record's PFIF but is never a
death claim.

``link_hint``: a source says one of its records may be the same person as another record
(PFIF ``linked_person_record_id``): kept for reviewers as said, never a link decision.

``api_key``: a partner's key for the PFIF feed (``athar api-keys``): only the SHA-256 of the
token is stored (the token is shown once), with the partner it was given to, the consent scope
and the sources it may read; revoked keys stay, with who revoked them and when.

Revision ID: 0109
Revises: 0108
Create Date: 2026-12-02 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0109"
down_revision = "0108"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN on both databases: rebuilding the table (Alembic's batch mode on
    # SQLite) would DROP TABLE source, which the records' foreign keys refuse in a store with data
    op.add_column(
        "source",
        sa.Column(
            "pfif_death_authorised",
            sa.Boolean(),
            nullable=False,
            server_default=sa.false(),
        ),
    )
    op.create_table(
        "link_hint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("linked_source", sa.Text(), nullable=False),
        sa.Column("linked_record_id", sa.Text(), nullable=False),
        sa.Column("note_id", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["record.id"], name=op.f("fk_link_hint_record_id_record")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.id"], name=op.f("fk_link_hint_batch_id_import_batch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_hint")),
    )
    op.create_index(op.f("ix_link_hint_record_id"), "link_hint", ["record_id"])
    op.create_index(
        op.f("ix_link_hint_linked_source_linked_record_id"),
        "link_hint",
        ["linked_source", "linked_record_id"],
    )
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_key_token_sha256")),
    )


def downgrade() -> None:
    op.drop_table("api_key")
    op.drop_index(op.f("ix_link_hint_linked_source_linked_record_id"), table_name="link_hint")
    op.drop_index(op.f("ix_link_hint_record_id"), table_name="link_hint")
    op.drop_table("link_hint")
    # SQLite (3.35+) drops a plain column in place; rebuilding the table (Alembic's batch
    # mode) would DROP TABLE source, which the records' foreign keys refuse once there is data
    op.drop_column("source", "pfif_death_authorised")
