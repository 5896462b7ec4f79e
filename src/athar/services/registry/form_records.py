"""One record entered through a form (a tracing request, an unidentified person or body),
stored like an imported row: its own import batch for provenance, the raw cells as JSON, the
fields parsed by the registry's row parser, and the status claim.  Inside the caller's
transaction; the caller audits and commits."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from athar.domain.record import parse_row
from athar.errors import InvalidInput
from athar.services.actor import Actor
from athar.store.models import ImportBatch, Record, Source, StatusEvent

_REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


class FormRecordInvalid(ValueError, InvalidInput):
    """The row parser refused a cell: ``errors`` maps the column to the reason."""

    code = "form_record_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def new_reference(prefix: str, today: date) -> str:
    """``<prefix>-<year>-<8 characters>``: random, no 0/O or 1/I confusion."""
    code = "".join(secrets.choice(_REF_ALPHABET) for _ in range(8))
    return f"{prefix}-{today.year}-{code}"


def source_row(db: Session, code: str, name: str, at: datetime) -> Source:
    source = db.scalar(select(Source).where(Source.code == code))
    if source is None:
        source = Source(code=code, name=name, created_at=at)
        db.add(source)
        db.flush()
    return source


def free_reference(db: Session, source: Source, prefix: str, at: datetime) -> str:
    reference = new_reference(prefix, at.date())
    while db.scalar(
        select(Record.id).where(Record.source_id == source.id, Record.record_id == reference)
    ):
        reference = new_reference(prefix, at.date())
    return reference


def store_form_record(
    db: Session,
    *,
    source: Source,
    reference: str,
    cells: dict[str, str],
    status_text: str,
    actor: Actor,
    at: datetime,
    extra: Mapping[str, object] | None = None,
) -> Record:
    """Store ``cells`` (interchange columns) as record ``reference`` of ``source``, inside the
    caller's write (``db`` is the caller's :func:`~athar.store.engine.write_session`); the
    caller writes the audit event."""
    row = {"source": source.code, "record_id": reference, **cells}
    parsed, issues = parse_row(row, at.date())
    errors = {i.column or "": i.reason for i in issues if i.severity == "error"}
    if errors:
        raise FormRecordInvalid(errors)
    if parsed["status_code"] is None:
        raise FormRecordInvalid({"status": f"unknown status {row.get('status')!r}"})
    raw_json = json.dumps(row, ensure_ascii=False)
    batch = ImportBatch(
        file_name=f"form:{reference}",
        file_format="form",
        encoding="utf-8",
        content_hash=hashlib.sha256(raw_json.encode("utf-8")).hexdigest(),
        options_hash=hashlib.sha256(f"form:{source.code}".encode()).hexdigest(),
        source_option=source.code,
        mapping=None,
        actor=actor.label,
        imported_at=at,
        rows_total=1,
        rows_new=1,
        rows_new_version=0,
        rows_unchanged=0,
        rows_quarantined=0,
        warnings=sum(1 for i in issues if i.severity != "error"),
    )
    db.add(batch)
    db.flush()
    fields = {k: v for k, v in parsed.items() if k not in ("source", "record_id")}
    record = Record(
        source_id=source.id,
        record_id=reference,
        version=1,
        is_current=True,
        batch_id=batch.id,
        row_number=1,
        content_hash=batch.content_hash,
        raw=raw_json,
        extra=json.dumps(dict(extra), ensure_ascii=False) if extra else None,
        **fields,
    )
    db.add(record)
    db.flush()
    seen = parsed.get("last_seen_date")  # the importer's rule: last seen, else arrest
    db.add(
        StatusEvent(
            record_id=record.id,
            source_id=source.id,
            status_code=parsed["status_code"],
            status_text=status_text,
            event_date=seen or parsed.get("arrest_date"),
            event_date_precision=parsed.get("last_seen_date_precision")
            if seen
            else parsed.get("arrest_date_precision"),
            facility_code=parsed.get("facility_code"),
            created_at=at,
        )
    )
    return record
