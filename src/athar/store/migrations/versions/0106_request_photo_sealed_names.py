"""Tracing requests: the photo gets its own table; other names and residence are encrypted.

Issue 18, finding 3: a request row held its photo, so every query for requests read (and
decrypted) it.  The photo moves to ``request_photo`` (encrypted as ``request_photo.data``,
with its content type, size and SHA-256), referenced by ``tracing_request.photo_id``.

Issue 18, finding 21: ``other_names`` and ``residence_place`` were plaintext; they are
encrypted in place (``tracing_request.other_names``, ``tracing_request.residence_place``).

Moving or encrypting existing rows needs the key ring (``ATHAR_KEY_FILE`` / ``ATHAR_KEYS``,
as for every command): a store with requests cannot be upgraded without it, and the
migration says so.  An empty store needs no key.  Downgrading decrypts them back.

Issue 18, finding 3 also adds ``tracing_request.status_before_spam``: a request marked as spam
has the status ``spam`` and keeps the one it had, for "not spam" to restore.  Downgrading
restores that status and puts the request's record back (a downgraded store has no spam).

Revision ID: 0106
Revises: 0105
Create Date: 2026-12-02 13:00:00
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0106"
down_revision = "0105"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
OLD_PHOTO = "tracing_request.photo"
NEW_PHOTO = "request_photo.data"
SEALED = ("other_names", "residence_place")
TEXT_PREFIX = "athar1:"


def _crypto():  # type: ignore[no-untyped-def]
    """The field encryption, loaded only when there are rows to convert."""
    from athar.security import crypto

    return crypto


def upgrade() -> None:
    photos = op.create_table(
        "request_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("content_type", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_photo")),
    )
    assert photos is not None
    with op.batch_alter_table("tracing_request") as batch:
        batch.add_column(sa.Column("photo_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("status_before_spam", sa.String(length=16), nullable=True))
        batch.create_unique_constraint(op.f("uq_tracing_request_photo_id"), ["photo_id"])
        batch.create_foreign_key(
            op.f("fk_tracing_request_photo_id_request_photo"),
            "request_photo",
            ["photo_id"],
            ["id"],
        )
    conn = op.get_bind()
    old = sa.table(
        "tracing_request",
        sa.column("id", sa.Integer()),
        sa.column("photo", sa.LargeBinary()),
        sa.column("photo_type", sa.String()),
        sa.column("other_names", sa.Text()),
        sa.column("residence_place", sa.Text()),
        sa.column("created_at", TS),
    )
    rows = conn.execute(sa.select(*old.c).order_by(old.c.id)).all()
    for rid, photo, photo_type, other_names, residence, created in rows:
        changes: dict[str, object] = {}
        if photo is not None:
            crypto = _crypto()
            plain = crypto.decrypt_bytes(bytes(photo), OLD_PHOTO)
            new_id = conn.execute(
                photos.insert().returning(photos.c.id),
                {
                    "data": crypto.encrypt_bytes(plain, NEW_PHOTO),
                    "content_type": photo_type or "image/jpeg",
                    "size": len(plain),
                    "sha256": hashlib.sha256(plain).hexdigest(),
                    "created_at": created or datetime.now(UTC),
                },
            ).scalar_one()
            changes["photo_id"] = new_id
        for column, value in zip(SEALED, (other_names, residence), strict=True):
            if value is not None and not str(value).startswith(TEXT_PREFIX):
                changes[column] = _crypto().encrypt(str(value), f"tracing_request.{column}")
        if changes:
            sets = ", ".join(f"{c} = :{c}" for c in changes)
            conn.execute(
                sa.text(f"UPDATE tracing_request SET {sets} WHERE id = :id"),
                {**changes, "id": rid},
            )
    with op.batch_alter_table("tracing_request") as batch:
        batch.drop_column("photo")
        batch.drop_column("photo_type")


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "UPDATE record SET is_current = :yes WHERE id IN "
            "(SELECT record_id FROM tracing_request WHERE status = 'spam')"
        ),
        {"yes": True},
    )
    conn.execute(
        sa.text(
            "UPDATE tracing_request SET status = COALESCE(status_before_spam, 'registered') "
            "WHERE status = 'spam'"
        )
    )
    with op.batch_alter_table("tracing_request") as batch:
        batch.add_column(sa.Column("photo", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("photo_type", sa.String(length=16), nullable=True))
    rows = conn.execute(
        sa.text(
            "SELECT r.id, p.data, p.content_type, r.other_names, r.residence_place "
            "FROM tracing_request r LEFT JOIN request_photo p ON p.id = r.photo_id ORDER BY r.id"
        )
    ).all()
    for rid, data, content_type, other_names, residence in rows:
        changes: dict[str, object] = {}
        if data is not None:
            crypto = _crypto()
            plain = crypto.decrypt_bytes(bytes(data), NEW_PHOTO)
            changes["photo"] = crypto.encrypt_bytes(plain, OLD_PHOTO)
            changes["photo_type"] = content_type
        for column, value in zip(SEALED, (other_names, residence), strict=True):
            if value is not None and str(value).startswith(TEXT_PREFIX):
                changes[column] = _crypto().decrypt(str(value), f"tracing_request.{column}")
        if changes:
            sets = ", ".join(f"{c} = :{c}" for c in changes)
            conn.execute(
                sa.text(f"UPDATE tracing_request SET {sets} WHERE id = :id"),
                {**changes, "id": rid},
            )
    with op.batch_alter_table("tracing_request") as batch:
        batch.drop_constraint(op.f("fk_tracing_request_photo_id_request_photo"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_tracing_request_photo_id"), type_="unique")
        batch.drop_column("photo_id")
        batch.drop_column("status_before_spam")
    op.drop_table("request_photo")
