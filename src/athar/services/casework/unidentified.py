"""People who cannot identify themselves, and unidentified bodies: intake of descriptors, and
their candidate missing-person reports.

An intake becomes a record of the ``unidentified`` source (status ``unidentified_living`` or
``unidentified_body``) so linkage scores it against every list; the descriptors the interchange
format has no column for (height, distinguishing marks, where found) are kept in the record's
``extra`` and summarised in ``notes``.  Candidates are the missing-person reports among the
records linkage put near it.  Every write and view is audited.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from athar.domain.fields import UNIDENTIFIED
from athar.domain.messages import N_
from athar.domain.record import parse_row, unsafe_character
from athar.domain.sources import UNIDENTIFIED as UNIDENTIFIED_SOURCE
from athar.errors import InvalidInput
from athar.security.auth import NotFound, Permission, has_permission, require
from athar.services import jobs
from athar.services.actor import Actor
from athar.services.audit import AuditAction, append_event, audit_read
from athar.services.casework.odk_provenance import Provenance, record_provenance
from athar.services.registry.form_records import (
    FormRecordInvalid,
    free_reference,
    source_row,
    store_form_record,
)
from athar.store.engine import write_session
from athar.store.models import Record, Source

SOURCE = UNIDENTIFIED_SOURCE


KINDS: tuple[tuple[str, str], ...] = (
    ("living", N_("A living person who cannot say who they are")),
    ("body", N_("An unidentified body")),
)
STATUS = {"living": "unidentified living", "body": "unidentified body"}
FIELDS = (
    "kind",
    "sex",
    "age",
    "height_cm",
    "marks",
    "found_place",
    "found_date",
    "facility",
    "detainee_number",
    "notes",
)
_HEIGHT = re.compile(r"^\d{2,3}$")


class DescriptorsInvalid(ValueError, InvalidInput):
    code = "descriptors_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def validate(raw: dict[str, Any], today: date | None = None) -> dict[str, str | None]:
    """Check every descriptor; collect every problem before failing."""
    values: dict[str, str | None] = {}
    errors: dict[str, str] = {}
    for name in FIELDS:
        value = raw.get(name)
        text = str(value).strip() if value is not None else ""
        if len(text) > (2000 if name in ("marks", "notes") else 200):
            errors[name] = N_("This is too long.")
        elif unsafe_character(text) is not None:  # bidi overrides, C0/C1 controls
            errors[name] = N_("This field contains characters that are not allowed.")
        values[name] = text or None
    if values["kind"] not in STATUS:
        errors["kind"] = N_("Please choose from the list.")
    if values["sex"] not in (None, "M", "F"):
        errors["sex"] = N_("Please choose from the list.")
    height = values["height_cm"]
    if height and (not _HEIGHT.match(height) or not 40 <= int(height) <= 250):
        errors["height_cm"] = N_("Please give a height in centimetres, such as 172.")
    cells = {"source": SOURCE, "record_id": "check"}
    for column, name in (("age", "age"), ("last_seen_date", "found_date")):
        if values[name]:
            cells[column] = values[name] or ""
    _, issues = parse_row(cells, today or date.today())
    for issue in issues:
        if issue.severity == "error" and issue.column == "age":
            errors.setdefault("age", N_("Please give an age in years, such as 34 or 30-35."))
        elif issue.severity == "error" and issue.column == "last_seen_date":
            errors.setdefault(
                "found_date", N_("This is not a valid date (use 1985, 1985-03 or 1985-03-12).")
            )
    if errors:
        raise DescriptorsInvalid(errors)
    return values


def register(
    engine: Engine,
    *,
    actor: Actor,
    values: dict[str, str | None],
    provenance: Provenance | None = None,
) -> str:
    """Store the descriptors as an ``unidentified`` record; returns its reference (``U-...``).

    ``provenance``: the ODK submission it came from, recorded in the same transaction."""
    require(actor.role, Permission.WORK_REQUESTS)
    at = datetime.now(UTC)
    with write_session(engine) as db:
        source = source_row(db, SOURCE, "Unidentified people and bodies", at)
        reference = free_reference(db, source, "U", at)
        kind = values["kind"] or "living"
        notes = [
            f"{label}: {values[name]}"
            for name, label in (
                ("found_place", "found or released at"),
                ("height_cm", "height cm"),
                ("marks", "distinguishing marks"),
                ("notes", "notes"),
            )
            if values.get(name)
        ]
        cells = {
            k: v
            for k, v in {
                "sex": values["sex"],
                "age": values["age"],
                "facility": values["facility"],
                "last_seen_date": values["found_date"],
                "detainee_number": values["detainee_number"],
                "status": STATUS[kind],
                "notes": "; ".join(notes) or None,
            }.items()
            if v
        }
        extra = {k: values[k] for k in ("height_cm", "marks", "found_place") if values.get(k)}
        try:
            record = store_form_record(
                db,
                source=source,
                reference=reference,
                cells=cells,
                status_text=STATUS[kind],
                actor=actor,
                at=at,
                extra=extra,
            )
        except FormRecordInvalid as exc:
            raise DescriptorsInvalid(exc.errors) from None
        job = jobs.queue_in(
            db.connection(),
            kind=jobs.SCORE_SUBJECT,
            args={"subject_kind": "unidentified", "reference": reference},
            actor=actor,
            subject=f"{SOURCE}:{reference}",
        )
        detail: dict[str, Any] = {"record_id": record.id, "kind": kind}
        if provenance:
            record_provenance(
                db, provenance, form=UNIDENTIFIED, reference=reference, actor=actor, at=at
            )
            detail["odk_instance_id"] = provenance.instance_id
        detail["job"] = job
        append_event(
            db.connection(),
            actor=actor.label,
            action=AuditAction.UNIDENTIFIED_CREATE,
            entity_type="record",
            entity_id=f"{SOURCE}:{reference}",
            detail=detail,
        )
    return reference


@dataclass(frozen=True)
class UnidentifiedSummary:
    """One line of the list of registrations."""

    reference: str
    kind: str
    sex: str | None
    age: str | None
    found_date: str | None
    facility: str | None


def _kind_of(record: Record) -> str:
    return "body" if record.status_code == "unidentified_body" else "living"


def list_unidentified(
    db: Session, *, actor: Actor, kind: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[UnidentifiedSummary], int]:
    """Registrations newest first (``kind``: ``living`` or ``body``), and the total count;
    audited with the references shown, like the list of tracing requests."""
    require(actor.role, Permission.READ_REQUESTS)
    where = [Source.code == SOURCE, Record.is_current.is_(True)]
    if kind:
        is_body = Record.status_code == "unidentified_body"
        where.append(is_body if kind == "body" else ~is_body)
    query = select(Record).join(Source, Source.id == Record.source_id).where(*where)
    records = db.scalars(query.order_by(Record.id.desc()).limit(limit).offset(offset)).all()
    total = int(
        db.scalar(
            select(func.count())
            .select_from(Record)
            .join(Source, Source.id == Record.source_id)
            .where(*where)
        )
        or 0
    )
    items = [
        UnidentifiedSummary(
            r.record_id, _kind_of(r), r.sex_code, r.age_text, r.last_seen_date, r.facility
        )
        for r in records
    ]
    audit_read(
        db,
        actor=actor,
        action=AuditAction.UNIDENTIFIED_LIST,
        entity_type="record",
        detail={"references": [i.reference for i in items], "kind": kind},
    )
    return items, total


@dataclass(frozen=True)
class UnidentifiedView:
    reference: str
    kind: str
    fields: dict[str, str | None]
    extra: dict[str, Any]
    record_id: int


def record_of(db: Session, actor: Actor, reference: str) -> Record:
    """The record, or :class:`NotFound` when missing *or* not visible to the actor."""
    if actor.role is None or not has_permission(actor.role, Permission.READ_REQUESTS):
        raise NotFound("not found")
    record = db.scalar(
        select(Record)
        .join(Source, Source.id == Record.source_id)
        .where(Source.code == SOURCE, Record.record_id == reference, Record.is_current.is_(True))
    )
    if record is None:
        raise NotFound("not found")
    return record


def view_for(db: Session, actor: Actor, reference: str) -> UnidentifiedView:
    record = record_of(db, actor, reference)
    kind = _kind_of(record)
    fields = {
        "sex": record.sex_code,
        "age": record.age_text,
        "found_date": record.last_seen_date,
        "facility": record.facility,
        "detainee_number": record.detainee_number,
        "notes": record.notes,
    }
    extra = json.loads(record.extra) if record.extra else {}
    view = UnidentifiedView(reference, kind, fields, extra, record.id)
    audit_read(
        db,
        actor=actor,
        action=AuditAction.UNIDENTIFIED_VIEW,
        entity_type="record",
        entity_id=f"{SOURCE}:{reference}",
    )
    return view
