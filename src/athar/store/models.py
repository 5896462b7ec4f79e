"""The registry's tables (SQLAlchemy 2 declarative).  Alembic migrations create them.

Rules the schema keeps:

* ``record.raw`` is the row exactly as received (JSON text of the original cells, in the
  file's column order), written once and never edited.  A new version of the same
  ``(source, record_id)`` is a new ``record`` row; the old one only gets ``is_current`` cleared
  and ``superseded_by_id`` set, and a ``record_change`` row says what changed.
* A status is a claim (``status_event``) by one source record, never a settled fact about a
  person: Athar never concludes that a person died because one list says so.
* ``audit_event`` rows are appended, never updated or deleted; each carries the SHA-256 of
  the previous one (see :mod:`athar.services.audit`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
STATUS_CHECK = (
    "status_code IN ('missing','detained','released','deceased',"
    "'unidentified_living','unidentified_body')"
)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


TS = DateTime(timezone=True)


class Source(Base):
    """An organisation or list that records come from (``source`` column)."""

    __tablename__ = "source"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TS)
    #: an administrator allowed this source's PFIF ``believed_dead`` notes to be death claims
    pfif_death_authorised: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )


class ImportBatch(Base):
    """One imported file: what it was, who imported it, when, and what happened."""

    __tablename__ = "import_batch"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(Text)
    file_format: Mapped[str] = mapped_column(String(16))
    encoding: Mapped[str | None] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    options_hash: Mapped[str] = mapped_column(String(64))
    source_option: Mapped[str | None] = mapped_column(Text)
    mapping: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(TS)
    rows_total: Mapped[int] = mapped_column(Integer)
    rows_new: Mapped[int] = mapped_column(Integer)
    rows_new_version: Mapped[int] = mapped_column(Integer)
    rows_unchanged: Mapped[int] = mapped_column(Integer)
    rows_quarantined: Mapped[int] = mapped_column(Integer)
    warnings: Mapped[int] = mapped_column(Integer)
    __table_args__ = (UniqueConstraint("content_hash", "options_hash"),)


class Record(Base):
    """One row of one list: raw cells as received plus parsed and normalised fields."""

    __tablename__ = "record"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"))
    record_id: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    is_current: Mapped[bool] = mapped_column(Boolean)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("record.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    raw: Mapped[str] = mapped_column(Text)  # JSON object of the original cells, as received
    extra: Mapped[str | None] = mapped_column(Text)  # JSON: kept unknown columns (--keep-extra)
    full_name: Mapped[str | None] = mapped_column(Text)
    given_name: Mapped[str | None] = mapped_column(Text)
    father_name: Mapped[str | None] = mapped_column(Text)
    grandfather_name: Mapped[str | None] = mapped_column(Text)
    family_name: Mapped[str | None] = mapped_column(Text)
    mother_name: Mapped[str | None] = mapped_column(Text)
    sex_text: Mapped[str | None] = mapped_column(Text)
    sex_code: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[str | None] = mapped_column(String(10))
    birth_date_precision: Mapped[str | None] = mapped_column(String(5))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    age_text: Mapped[str | None] = mapped_column(Text)
    age_min: Mapped[int | None] = mapped_column(Integer)
    age_max: Mapped[int | None] = mapped_column(Integer)
    birth_place: Mapped[str | None] = mapped_column(Text)
    birth_place_code: Mapped[str | None] = mapped_column(String(32))
    arrest_date: Mapped[str | None] = mapped_column(String(10))
    arrest_date_precision: Mapped[str | None] = mapped_column(String(5))
    arrest_place: Mapped[str | None] = mapped_column(Text)
    arrest_place_code: Mapped[str | None] = mapped_column(String(32))
    facility: Mapped[str | None] = mapped_column(Text)
    facility_code: Mapped[str | None] = mapped_column(String(64))
    last_seen_date: Mapped[str | None] = mapped_column(String(10))
    last_seen_date_precision: Mapped[str | None] = mapped_column(String(5))
    status_text: Mapped[str | None] = mapped_column(Text)
    status_code: Mapped[str | None] = mapped_column(String(32))
    detainee_number: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        UniqueConstraint("source_id", "record_id", "version"),
        Index(
            "uq_record_current",
            "source_id",
            "record_id",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint(f"status_code IS NULL OR {STATUS_CHECK}", name="status_vocab"),
        CheckConstraint("sex_code IS NULL OR sex_code IN ('M','F')", name="sex_vocab"),
    )


class RecordChange(Base):
    """A new version of a record arrived: which fields changed, old and new values."""

    __tablename__ = "record_change"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"), index=True)
    old_record_id: Mapped[int] = mapped_column(ForeignKey("record.id"))
    new_record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), unique=True)
    changes: Mapped[str] = mapped_column(Text)  # JSON {column: [old, new]} of the raw cells
    created_at: Mapped[datetime] = mapped_column(TS)


class QuarantineRow(Base):
    """A row that could not be stored, kept with every problem found in it."""

    __tablename__ = "quarantine_row"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"), index=True)
    file_name: Mapped[str] = mapped_column(Text)
    row_number: Mapped[int] = mapped_column(Integer)
    source_code: Mapped[str | None] = mapped_column(Text)
    record_id: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)  # JSON object of the original cells
    problems: Mapped[str] = mapped_column(Text)  # JSON list of {column, reason, severity}
    created_at: Mapped[datetime] = mapped_column(TS)


class StatusEvent(Base):
    """A claim by one source record that a person was missing, detained, released, ..."""

    __tablename__ = "status_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"))
    status_code: Mapped[str] = mapped_column(String(32))
    status_text: Mapped[str] = mapped_column(Text)  # as the source wrote it
    event_date: Mapped[str | None] = mapped_column(String(10))
    event_date_precision: Mapped[str | None] = mapped_column(String(5))
    facility_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TS)
    __table_args__ = (CheckConstraint(STATUS_CHECK, name="status_vocab"),)


class Person(Base):
    """The resolved identity a cluster of records stands for."""

    __tablename__ = "person"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(TS)
    link_run_id: Mapped[int | None] = mapped_column(ForeignKey("link_run.id"))


class LinkRun(Base):
    """One run of the linker, with everything needed to reproduce and explain it."""

    __tablename__ = "link_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    engine: Mapped[str] = mapped_column(Text)
    settings: Mapped[dict[str, object]] = mapped_column(JSON)
    # a run without a model is SQL NULL, not JSON 'null': readers ask `model IS NOT NULL`
    model: Mapped[dict[str, object] | None] = mapped_column(JSON(none_as_null=True))
    threshold: Mapped[float] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(TS)
    finished_at: Mapped[datetime | None] = mapped_column(TS)


class PersonRecord(Base):
    """Membership of a record in a person (cluster), as decided by one link run or a human."""

    __tablename__ = "person_record"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    link_run_id: Mapped[int | None] = mapped_column(ForeignKey("link_run.id"))
    created_at: Mapped[datetime] = mapped_column(TS)
    __table_args__ = (UniqueConstraint("person_id", "record_id"),)


class LinkDecision(Base):
    """A decision about a pair of records: automatic with a score, or human with who and why."""

    __tablename__ = "link_decision"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # automatic | must_link | cannot_link
    record_a_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    record_b_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    score: Mapped[float | None] = mapped_column(Float)
    link_run_id: Mapped[int | None] = mapped_column(ForeignKey("link_run.id"))
    actor: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(TS)
    __table_args__ = (
        CheckConstraint("kind IN ('automatic','must_link','cannot_link')", name="kind"),
        CheckConstraint(
            "(kind = 'automatic' AND score IS NOT NULL AND link_run_id IS NOT NULL)"
            " OR (kind <> 'automatic' AND actor IS NOT NULL AND reason IS NOT NULL)",
            name="who_or_score",
        ),
        CheckConstraint("record_a_id <> record_b_id", name="distinct_records"),
    )


class FiguresSnapshot(Base):
    """The aggregate figures as published to researchers at ``taken_at`` (small cells already
    suppressed at ``small_cell``), with the latest link run and estimate run then.  Inserted, never updated."""

    __tablename__ = "figures_snapshot"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(TS)
    small_cell: Mapped[int] = mapped_column(Integer)
    link_run_id: Mapped[int | None] = mapped_column(ForeignKey("link_run.id"))
    estimate_run_id: Mapped[int | None] = mapped_column(ForeignKey("estimate_run.id"))
    figures: Mapped[dict[str, object]] = mapped_column(JSON)


class EstimateRun(Base):
    """One recorded estimate run on the store's persons: a result, not an audit event.

    Inserted once, never updated or deleted.  ``result`` is the canonical JSON (sorted keys,
    no spaces) of the whole result and its public part (with the posterior curves the
    statistics page draws), exactly as hashed: ``sha256`` is its SHA-256, and the run's
    ``estimate.run`` audit event holds the run's id and that hash.
    """

    __tablename__ = "estimate_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(TS)
    actor: Mapped[str] = mapped_column(Text)
    link_run_id: Mapped[int | None] = mapped_column(ForeignKey("link_run.id"))
    options: Mapped[dict[str, object]] = mapped_column(JSON)
    result: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)


class Job(Base):
    """One background job (:mod:`athar.services.jobs`): what to do, and how it went.

    ``state`` goes ``queued`` -> ``running`` -> ``succeeded``, ``failed`` (``message`` says why,
    in words a person can read) or ``timed_out``.  ``subject`` names what the job is about
    (``family:T-...``, ``unidentified:U-...``), so a subject's page finds its latest job.
    """

    __tablename__ = "job"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(200), index=True)
    args: Mapped[dict[str, object]] = mapped_column(JSON)
    result: Mapped[dict[str, object] | None] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    time_limit: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(TS)
    started_at: Mapped[datetime | None] = mapped_column(TS)
    finished_at: Mapped[datetime | None] = mapped_column(TS)
    __table_args__ = (
        Index("ix_job_state_id", "state", "id"),
        CheckConstraint(
            "state IN ('queued', 'running', 'succeeded', 'failed', 'timed_out')", name="state"
        ),
    )


class Facility(Base):
    """A detention facility (seeded from ``athar/domain/data/facilities.yaml``)."""

    __tablename__ = "facility"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_ar: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    governorate_code: Mapped[str | None] = mapped_column(String(32))


class FacilityAlias(Base):
    __tablename__ = "facility_alias"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"), index=True)
    alias: Mapped[str] = mapped_column(Text)
    match_key: Mapped[str] = mapped_column(Text, unique=True)


class AuditEvent(Base):
    """One entry of the tamper-evident audit chain.  Appended only."""

    __tablename__ = "audit_event"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts: Mapped[str] = mapped_column(String(32))  # ISO-8601 UTC, exactly as hashed
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    entity_type: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as hashed
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The single chain-head row (id 1): last sequence number and hash.  Locked on append."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class ApiKey(Base):
    """A partner's key for the PFIF feed: only the token's SHA-256 is kept (shown once)."""

    __tablename__ = "api_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(
        String(16)
    )  # the token's first characters, to tell keys apart
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    recipient: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(32))  # the consent scope the partner falls under
    sources: Mapped[list[str]] = mapped_column(JSON)  # non-family sources the key may read
    created_at: Mapped[datetime] = mapped_column(TS)
    created_by: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(TS)
    revoked_by: Mapped[str | None] = mapped_column(Text)


class LinkHint(Base):
    """A source says its record may be the same person as another record (PFIF's
    ``linked_person_record_id``): kept as said, for reviewers; never a link decision."""

    __tablename__ = "link_hint"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"))
    linked_source: Mapped[str] = mapped_column(Text)
    linked_record_id: Mapped[str] = mapped_column(Text)
    note_id: Mapped[str | None] = mapped_column(Text)  # the PFIF note that says it
    note: Mapped[str | None] = mapped_column(Text)  # its text (why the source thinks so)
    created_at: Mapped[datetime] = mapped_column(TS)
    __table_args__ = (Index(None, "linked_source", "linked_record_id"),)
