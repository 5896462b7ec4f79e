"""Estimate runs get their own table; the audit event refers to a run by id and hash.

Until now an ``estimate.run`` audit event held the whole result in its detail.  Those
events stay as they are (the audit chain is append-only); each one's result is copied into
``estimate_run``, whose ``sha256`` is then the SHA-256 of that event's detail text, which is
how :func:`athar.services.figures.statistics.latest_estimate` finds the run of an event
written before this revision.

Revision ID: 0104
Revises: 0103
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0104"
down_revision = "0103"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    table = op.create_table(
        "estimate_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("link_run_id", sa.Integer(), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_run_id"], ["link_run.id"], name=op.f("fk_estimate_run_link_run_id_link_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estimate_run")),
    )
    op.create_index(op.f("ix_estimate_run_sha256"), "estimate_run", ["sha256"])
    assert table is not None
    conn = op.get_bind()
    events = conn.execute(
        sa.text(
            "SELECT ts, actor, entity_id, detail FROM audit_event "
            "WHERE action = 'estimate.run' ORDER BY seq"
        )
    ).all()
    rows = []
    for ts, actor, entity_id, detail in events:
        digest = hashlib.sha256(detail.encode("utf-8")).hexdigest()
        link_run = int(entity_id) if entity_id is not None else None
        rows.append(
            {
                "created_at": datetime.fromisoformat(ts),
                "actor": actor,
                "link_run_id": link_run,
                "options": {"recorded_before": "0104", **_options(json.loads(detail))},
                "result": detail,
                "sha256": digest,
            }
        )
    if rows:
        op.bulk_insert(table, rows)


def _options(detail: dict[str, object]) -> dict[str, object]:
    """What an old event's result says of the run's choices (the rest was not recorded)."""
    result = detail.get("result")
    if not isinstance(result, dict):
        return {}
    return {k: result[k] for k in ("lists", "methods") if k in result}


def downgrade() -> None:
    op.drop_index(op.f("ix_estimate_run_sha256"), table_name="estimate_run")
    op.drop_table("estimate_run")
