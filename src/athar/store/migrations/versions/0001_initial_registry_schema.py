"""Initial registry schema: sources, batches, records, quarantine, persons, links, audit.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 21:04:26.300629
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("entity_type", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_event")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_event_hash")),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    # The chain head starts at sequence 0 with the all-zero genesis hash.
    op.execute("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '" + "0" * 64 + "')")
    op.create_table(
        "facility",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_ar", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("governorate_code", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facility")),
        sa.UniqueConstraint("code", name=op.f("uq_facility_code")),
    )
    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("file_format", sa.String(length=16), nullable=False),
        sa.Column("encoding", sa.String(length=32), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("options_hash", sa.String(length=64), nullable=False),
        sa.Column("source_option", sa.Text(), nullable=True),
        sa.Column("mapping", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_new", sa.Integer(), nullable=False),
        sa.Column("rows_new_version", sa.Integer(), nullable=False),
        sa.Column("rows_unchanged", sa.Integer(), nullable=False),
        sa.Column("rows_quarantined", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batch")),
        sa.UniqueConstraint(
            "content_hash", "options_hash", name=op.f("uq_import_batch_content_hash_options_hash")
        ),
    )
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_import_batch_content_hash"), ["content_hash"], unique=False
        )

    op.create_table(
        "link_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engine", sa.Text(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("model", sa.JSON(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_run")),
    )
    op.create_table(
        "source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source")),
        sa.UniqueConstraint("code", name=op.f("uq_source_code")),
    )
    op.create_table(
        "facility_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.Text(), nullable=False),
        sa.Column("match_key", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facility.id"], name=op.f("fk_facility_alias_facility_id_facility")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facility_alias")),
        sa.UniqueConstraint("match_key", name=op.f("uq_facility_alias_match_key")),
    )
    with op.batch_alter_table("facility_alias", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_facility_alias_facility_id"), ["facility_id"], unique=False
        )

    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("link_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["link_run_id"], ["link_run.id"], name=op.f("fk_person_link_run_id_link_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
    )
    op.create_table(
        "quarantine_row",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("source_code", sa.Text(), nullable=True),
        sa.Column("record_id", sa.Text(), nullable=True),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.id"], name=op.f("fk_quarantine_row_batch_id_import_batch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine_row")),
    )
    with op.batch_alter_table("quarantine_row", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quarantine_row_batch_id"), ["batch_id"], unique=False)

    op.create_table(
        "record",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("extra", sa.Text(), nullable=True),
        sa.Column("full_name", sa.Text(), nullable=True),
        sa.Column("given_name", sa.Text(), nullable=True),
        sa.Column("father_name", sa.Text(), nullable=True),
        sa.Column("grandfather_name", sa.Text(), nullable=True),
        sa.Column("family_name", sa.Text(), nullable=True),
        sa.Column("mother_name", sa.Text(), nullable=True),
        sa.Column("sex_text", sa.Text(), nullable=True),
        sa.Column("sex_code", sa.String(length=1), nullable=True),
        sa.Column("birth_date", sa.String(length=10), nullable=True),
        sa.Column("birth_date_precision", sa.String(length=5), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("age_text", sa.Text(), nullable=True),
        sa.Column("age_min", sa.Integer(), nullable=True),
        sa.Column("age_max", sa.Integer(), nullable=True),
        sa.Column("birth_place", sa.Text(), nullable=True),
        sa.Column("birth_place_code", sa.String(length=32), nullable=True),
        sa.Column("arrest_date", sa.String(length=10), nullable=True),
        sa.Column("arrest_date_precision", sa.String(length=5), nullable=True),
        sa.Column("arrest_place", sa.Text(), nullable=True),
        sa.Column("arrest_place_code", sa.String(length=32), nullable=True),
        sa.Column("facility", sa.Text(), nullable=True),
        sa.Column("facility_code", sa.String(length=64), nullable=True),
        sa.Column("last_seen_date", sa.String(length=10), nullable=True),
        sa.Column("last_seen_date_precision", sa.String(length=5), nullable=True),
        sa.Column("status_text", sa.Text(), nullable=True),
        sa.Column("status_code", sa.String(length=32), nullable=True),
        sa.Column("detainee_number", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "sex_code IS NULL OR sex_code IN ('M','F')", name=op.f("ck_record_sex_vocab")
        ),
        sa.CheckConstraint(
            "status_code IS NULL OR status_code IN ('missing','detained','released','deceased','unidentified_living','unidentified_body')",
            name=op.f("ck_record_status_vocab"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_record_version_positive")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.id"], name=op.f("fk_record_batch_id_import_batch")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_record_source_id_source")
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"], ["record.id"], name=op.f("fk_record_superseded_by_id_record")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record")),
        sa.UniqueConstraint(
            "source_id", "record_id", "version", name=op.f("uq_record_source_id_record_id_version")
        ),
    )
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_record_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(
            "uq_record_current",
            ["source_id", "record_id"],
            unique=True,
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        )

    op.create_table(
        "link_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("record_a_id", sa.Integer(), nullable=False),
        sa.Column("record_b_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("link_run_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'automatic' AND score IS NOT NULL AND link_run_id IS NOT NULL) OR (kind <> 'automatic' AND actor IS NOT NULL AND reason IS NOT NULL)",
            name=op.f("ck_link_decision_who_or_score"),
        ),
        sa.CheckConstraint(
            "kind IN ('automatic','must_link','cannot_link')", name=op.f("ck_link_decision_kind")
        ),
        sa.CheckConstraint(
            "record_a_id <> record_b_id", name=op.f("ck_link_decision_distinct_records")
        ),
        sa.ForeignKeyConstraint(
            ["link_run_id"], ["link_run.id"], name=op.f("fk_link_decision_link_run_id_link_run")
        ),
        sa.ForeignKeyConstraint(
            ["record_a_id"], ["record.id"], name=op.f("fk_link_decision_record_a_id_record")
        ),
        sa.ForeignKeyConstraint(
            ["record_b_id"], ["record.id"], name=op.f("fk_link_decision_record_b_id_record")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_decision")),
    )
    with op.batch_alter_table("link_decision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_link_decision_record_a_id"), ["record_a_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_link_decision_record_b_id"), ["record_b_id"], unique=False
        )

    op.create_table(
        "person_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("link_run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_run_id"], ["link_run.id"], name=op.f("fk_person_record_link_run_id_link_run")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_person_record_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["record.id"], name=op.f("fk_person_record_record_id_record")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_record")),
        sa.UniqueConstraint(
            "person_id", "record_id", name=op.f("uq_person_record_person_id_record_id")
        ),
    )
    with op.batch_alter_table("person_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_record_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_person_record_record_id"), ["record_id"], unique=False)

    op.create_table(
        "record_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("old_record_id", sa.Integer(), nullable=False),
        sa.Column("new_record_id", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.id"], name=op.f("fk_record_change_batch_id_import_batch")
        ),
        sa.ForeignKeyConstraint(
            ["new_record_id"], ["record.id"], name=op.f("fk_record_change_new_record_id_record")
        ),
        sa.ForeignKeyConstraint(
            ["old_record_id"], ["record.id"], name=op.f("fk_record_change_old_record_id_record")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_change")),
        sa.UniqueConstraint("new_record_id", name=op.f("uq_record_change_new_record_id")),
    )
    with op.batch_alter_table("record_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_record_change_batch_id"), ["batch_id"], unique=False)

    op.create_table(
        "status_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.String(length=32), nullable=False),
        sa.Column("status_text", sa.Text(), nullable=False),
        sa.Column("event_date", sa.String(length=10), nullable=True),
        sa.Column("event_date_precision", sa.String(length=5), nullable=True),
        sa.Column("facility_code", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status_code IN ('missing','detained','released','deceased','unidentified_living','unidentified_body')",
            name=op.f("ck_status_event_status_vocab"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["record.id"], name=op.f("fk_status_event_record_id_record")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_status_event_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_event")),
    )
    with op.batch_alter_table("status_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_status_event_record_id"), ["record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("status_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_event_record_id"))

    op.drop_table("status_event")
    with op.batch_alter_table("record_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_change_batch_id"))

    op.drop_table("record_change")
    with op.batch_alter_table("person_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_record_record_id"))
        batch_op.drop_index(batch_op.f("ix_person_record_person_id"))

    op.drop_table("person_record")
    with op.batch_alter_table("link_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_decision_record_b_id"))
        batch_op.drop_index(batch_op.f("ix_link_decision_record_a_id"))

    op.drop_table("link_decision")
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_record_current",
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        )
        batch_op.drop_index(batch_op.f("ix_record_batch_id"))

    op.drop_table("record")
    with op.batch_alter_table("quarantine_row", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantine_row_batch_id"))

    op.drop_table("quarantine_row")
    op.drop_table("person")
    with op.batch_alter_table("facility_alias", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_facility_alias_facility_id"))

    op.drop_table("facility_alias")
    op.drop_table("source")
    op.drop_table("link_run")
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_batch_content_hash"))

    op.drop_table("import_batch")
    op.drop_table("facility")
    op.drop_table("audit_head")
    op.drop_table("audit_event")
