"""Audit rows protected at database level: triggers keep the audit log append-only.

``audit_event`` refuses UPDATE, DELETE and TRUNCATE and accepts an INSERT only at the chain
head; ``audit_head`` moves only along the append path.  See :mod:`athar.store.audit_guard`.

Revision ID: 0103
Revises: 0102
Create Date: 2026-11-30 00:20:00
"""

from __future__ import annotations

from alembic import op

from athar.store import audit_guard

revision = "0103"
down_revision = "0102"
branch_labels = None
depends_on = None


def upgrade() -> None:
    audit_guard.install(op.get_bind())


def downgrade() -> None:
    audit_guard.remove(op.get_bind(), functions=True)
