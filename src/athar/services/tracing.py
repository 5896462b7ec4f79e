"""Tracing requests from families: intake, access and status.  Every write and view is audited.

A request is two rows written in one transaction:

* a :class:`~athar.store.models.Record` of the ``family`` source holding the missing person's
  details in interchange form, so linkage treats it like a row of any other list;
* a :class:`~athar.store.casework.TracingRequest` with what only the family knows: who asks,
  how to reach them (encrypted), their account, the photo (encrypted) and their consent.

The public answer to an intake is only a reference.  Nothing here ever tells the public whether
the person is known.  :func:`get_request_for` answers a request the actor may not see exactly
like one that does not exist.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from athar.domain.record import parse_row
from athar.security.auth import NotFound, Permission, has_permission, require
from athar.services.audit import append_event
from athar.services.users import Actor
from athar.store.casework import TracingRequest
from athar.store.models import ImportBatch, Record, Source, StatusEvent

FAMILY_SOURCE = "family"
#: the one message for "missing" and "not yours": the two must be indistinguishable
NOT_FOUND = "not found"


def N_(message: str) -> str:  # noqa: N802 - marks a message for pybabel; translated where shown
    return message


#: relationship codes and their labels (translated where shown)
RELATIONSHIPS: tuple[tuple[str, str], ...] = (
    ("parent", N_("Mother or father")),
    ("child", N_("Son or daughter")),
    ("sibling", N_("Brother or sister")),
    ("spouse", N_("Wife or husband")),
    ("relative", N_("Other relative")),
    ("friend", N_("Friend or neighbour")),
    ("other", N_("Other")),
)

#: who, besides Athar's case workers, the family allows the request to be shared with
CONSENT_SCOPES: tuple[tuple[str, str], ...] = (
    ("partners", N_("Partner documentation organisations working with Athar")),
    ("humanitarian", N_("Humanitarian tracing services (such as the Red Cross / Red Crescent)")),
    ("un_missing", N_("The UN Independent Institution on Missing Persons in Syria")),
    ("research", N_("Researchers, for anonymous statistics only (no names, no contact)")),
)

SEXES: tuple[tuple[str, str], ...] = (("M", N_("Male")), ("F", N_("Female")))

STATUSES: tuple[tuple[str, str], ...] = (
    ("registered", N_("Registered")),
    ("in_progress", N_("In progress")),
    ("family_informed", N_("Family informed")),
    ("closed", N_("Closed")),
)

TEXT_FIELDS = (
    "requester_name",
    "relationship",
    "contact_phone",
    "contact_email",
    "contact_other",
    "full_name",
    "given_name",
    "father_name",
    "grandfather_name",
    "family_name",
    "mother_name",
    "other_names",
    "sex",
    "birth_date",
    "age",
    "birth_place",
    "residence_place",
    "arrest_date",
    "arrest_place",
    "facility",
    "last_seen_date",
    "circumstances",
)
#: fields copied into the ``family`` record (interchange column names)
RECORD_FIELDS = (
    "full_name",
    "given_name",
    "father_name",
    "grandfather_name",
    "family_name",
    "mother_name",
    "sex",
    "birth_date",
    "age",
    "birth_place",
    "arrest_date",
    "arrest_place",
    "facility",
    "last_seen_date",
)
MAX_SHORT = 200
MAX_LONG = 4000
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")

_PHONE = re.compile(r"^\+?[0-9 ()./-]{6,32}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


class IntakeInvalid(ValueError):
    """The intake has problems: ``errors`` maps each field to an (untranslated) message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class Intake:
    """A validated tracing request, ready to store."""

    values: dict[str, str | None]
    consent: list[str] = field(default_factory=list)
    photo: bytes | None = None
    photo_type: str | None = None


def sniff_photo(data: bytes) -> str | None:
    """The image type from the file's first bytes (JPEG, PNG or WebP), else ``None``."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def validate_intake(
    raw: dict[str, Any],
    consent: list[str],
    photo: bytes | None,
    *,
    photo_max_bytes: int,
    today: date | None = None,
) -> Intake:
    """Check every field and collect every problem before failing."""
    errors: dict[str, str] = {}
    values: dict[str, str | None] = {}
    for name in TEXT_FIELDS:
        value = raw.get(name)
        text = str(value).strip() if value is not None else ""
        limit = MAX_LONG if name == "circumstances" else MAX_SHORT
        if len(text) > limit:
            errors[name] = N_("This is too long.")
        values[name] = text or None

    if not values["requester_name"]:
        errors["requester_name"] = N_("Please give your name.")
    if values["relationship"] not in {code for code, _ in RELATIONSHIPS}:
        errors["relationship"] = N_("Please choose your relationship.")
    if not (values["contact_phone"] or values["contact_email"] or values["contact_other"]):
        errors["contact_phone"] = N_("Please give at least one way to contact you.")
    if values["contact_phone"] and not _PHONE.match(values["contact_phone"]):
        errors["contact_phone"] = N_("This does not look like a phone number.")
    if values["contact_email"] and not _EMAIL.match(values["contact_email"]):
        errors["contact_email"] = N_("This does not look like an email address.")
    if not any(values[n] for n in ("full_name", "given_name", "family_name", "other_names")):
        errors["full_name"] = N_("Please give at least one name of the missing person.")
    if values["sex"] not in (None, "M", "F"):
        errors["sex"] = N_("Please choose from the list.")

    # Dates and age: the registry's own row parser decides what is valid.
    cells = {"source": FAMILY_SOURCE, "record_id": "check"}
    cells.update({k: v for k in RECORD_FIELDS if (v := values.get(k)) is not None})
    _, issues = parse_row(cells, today or date.today())
    for issue in issues:
        if issue.severity == "error" and issue.column in (
            "birth_date",
            "arrest_date",
            "last_seen_date",
        ):
            errors.setdefault(
                issue.column, N_("This is not a valid date (use 1985, 1985-03 or 1985-03-12).")
            )
        elif issue.severity == "error" and issue.column == "age":
            errors.setdefault("age", N_("Please give an age in years, such as 34 or 30-35."))
        elif issue.severity == "error" and issue.column:
            errors.setdefault(
                issue.column, N_("This field contains characters that are not allowed.")
            )

    allowed = {code for code, _ in CONSENT_SCOPES}
    chosen = sorted(set(consent))
    if any(c not in allowed for c in chosen):
        errors["consent"] = N_("Unknown consent choice.")

    photo_type = None
    if photo:
        if len(photo) > photo_max_bytes:
            errors["photo"] = N_("The photo is too large.")
        else:
            photo_type = sniff_photo(photo)
            if photo_type is None:
                errors["photo"] = N_("The photo must be a JPEG, PNG or WebP image.")
    if errors:
        raise IntakeInvalid(errors)
    return Intake(values, chosen, photo or None, photo_type)


def new_reference(today: date | None = None) -> str:
    """``T-<year>-<8 characters>``: random, no 0/O or 1/I confusion."""
    year = (today or date.today()).year
    code = "".join(secrets.choice(_REF_ALPHABET) for _ in range(8))
    return f"T-{year}-{code}"


def _family_source(db: Session, at: datetime) -> Source:
    source = db.scalar(select(Source).where(Source.code == FAMILY_SOURCE))
    if source is None:
        source = Source(code=FAMILY_SOURCE, name="Family tracing requests", created_at=at)
        db.add(source)
        db.flush()
    return source


def submit_request(db: Session, *, actor: Actor, intake: Intake, language: str) -> TracingRequest:
    """Store a tracing request and its ``family`` record; returns the stored request."""
    at = datetime.now(UTC)
    reference = new_reference(at.date())
    source = _family_source(db, at)
    while db.scalar(
        select(Record.id).where(Record.source_id == source.id, Record.record_id == reference)
    ) or db.scalar(select(TracingRequest.id).where(TracingRequest.reference == reference)):
        reference = new_reference(at.date())
    cells: dict[str, str] = {"source": FAMILY_SOURCE, "record_id": reference}
    cells.update({k: v for k in RECORD_FIELDS if (v := intake.values.get(k)) is not None})
    cells["status"] = "missing"
    parsed, issues = parse_row(cells, at.date())
    if any(i.severity == "error" for i in issues):  # validate_intake already caught these
        raise IntakeInvalid({i.column or "": i.reason for i in issues if i.severity == "error"})
    raw_json = json.dumps(cells, ensure_ascii=False)
    batch = ImportBatch(
        file_name=f"tracing-request:{reference}",
        file_format="form",
        encoding="utf-8",
        content_hash=hashlib.sha256(raw_json.encode("utf-8")).hexdigest(),
        options_hash=hashlib.sha256(b"tracing-request").hexdigest(),
        source_option=FAMILY_SOURCE,
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
        **fields,
    )
    db.add(record)
    db.flush()
    db.add(
        StatusEvent(
            record_id=record.id,
            source_id=source.id,
            status_code="missing",
            status_text="missing (tracing request)",
            # the same rule as the importer: the last-seen date, else the arrest date
            event_date=parsed.get("last_seen_date") or parsed.get("arrest_date"),
            event_date_precision=parsed.get("last_seen_date_precision")
            if parsed.get("last_seen_date")
            else parsed.get("arrest_date_precision"),
            facility_code=parsed.get("facility_code"),
            created_at=at,
        )
    )
    values = intake.values
    request = TracingRequest(
        reference=reference,
        record_id=record.id,
        status="registered",
        language=language,
        requester_name=values["requester_name"] or "",
        relationship=values["relationship"] or "other",
        contact_phone=values["contact_phone"],
        contact_email=values["contact_email"],
        contact_other=values["contact_other"],
        other_names=values["other_names"],
        residence_place=values["residence_place"],
        circumstances=values["circumstances"],
        photo=intake.photo,
        photo_type=intake.photo_type,
        consent=list(intake.consent),
        consent_updated_at=at,
        created_at=at,
        updated_at=at,
    )
    db.add(request)
    db.flush()
    append_event(
        db.connection(),
        actor=actor.label,
        action="tracing_request.create",
        entity_type="tracing_request",
        entity_id=reference,
        detail={"record_id": record.id, "consent": list(intake.consent), "language": language},
    )
    db.commit()
    return request


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestSummary:
    reference: str
    status: str
    created_at: datetime
    name: str | None


def _display_name(record: Record) -> str | None:
    if record.full_name:
        return record.full_name
    parts = [record.given_name, record.father_name, record.grandfather_name, record.family_name]
    joined = " ".join(p for p in parts if p)
    return joined or None


def list_requests(
    db: Session, *, actor: Actor, status: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[RequestSummary], int]:
    """Requests newest first, and the total count; audited with the references shown."""
    require(actor.role, Permission.READ_REQUESTS)
    query = select(TracingRequest, Record).join(Record, Record.id == TracingRequest.record_id)
    count_query = select(func.count()).select_from(TracingRequest)
    if status:
        query = query.where(TracingRequest.status == status)
        count_query = count_query.where(TracingRequest.status == status)
    rows = db.execute(
        query.order_by(TracingRequest.created_at.desc(), TracingRequest.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    total = int(db.scalar(count_query) or 0)
    items = [
        RequestSummary(r.reference, r.status, r.created_at, _display_name(rec)) for r, rec in rows
    ]
    append_event(
        db.connection(),
        actor=actor.label,
        action="tracing_request.list",
        entity_type="tracing_request",
        detail={"references": [i.reference for i in items], "status": status},
    )
    db.commit()
    return items, total


@dataclass(frozen=True)
class RequestView:
    """What a case worker sees of a request; contact details only through :func:`get_contact_for`."""

    reference: str
    status: str
    language: str
    relationship: str
    consent: list[str]
    created_at: datetime
    updated_at: datetime
    person: dict[str, str | None]
    other_names: str | None
    residence_place: str | None
    circumstances: str | None
    has_photo: bool
    record_id: int


def _load(db: Session, reference: str) -> tuple[TracingRequest, Record] | None:
    row = db.execute(
        select(TracingRequest, Record)
        .join(Record, Record.id == TracingRequest.record_id)
        .where(TracingRequest.reference == reference)
    ).first()
    return None if row is None else (row[0], row[1])


def _visible(
    db: Session, actor: Actor, reference: str, permission: Permission
) -> tuple[TracingRequest, Record]:
    """The request, or :class:`NotFound` when it is missing *or* the actor may not see it."""
    if actor.role is None or not has_permission(actor.role, permission):
        raise NotFound(NOT_FOUND)
    found = _load(db, reference)
    if found is None:
        raise NotFound(NOT_FOUND)
    return found


def get_request_for(db: Session, actor: Actor, reference: str) -> RequestView:
    request, record = _visible(db, actor, reference, Permission.READ_REQUESTS)
    person = {
        k: getattr(record, k)
        for k in (
            "full_name",
            "given_name",
            "father_name",
            "grandfather_name",
            "family_name",
            "mother_name",
            "sex_code",
            "birth_date",
            "age_text",
            "birth_place",
            "arrest_date",
            "arrest_place",
            "facility",
            "last_seen_date",
        )
    }
    append_event(
        db.connection(),
        actor=actor.label,
        action="tracing_request.view",
        entity_type="tracing_request",
        entity_id=reference,
    )
    db.commit()
    return RequestView(
        reference=request.reference,
        status=request.status,
        language=request.language,
        relationship=request.relationship,
        consent=list(request.consent),
        created_at=request.created_at,
        updated_at=request.updated_at,
        person=person,
        other_names=request.other_names,
        residence_place=request.residence_place,
        circumstances=request.circumstances,
        has_photo=request.photo is not None,
        record_id=record.id,
    )


@dataclass(frozen=True)
class Contact:
    requester_name: str
    relationship: str
    phone: str | None
    email: str | None
    other: str | None


def get_contact_for(db: Session, actor: Actor, reference: str) -> Contact:
    """The family's contact details (decrypted); every call is audited."""
    request, _ = _visible(db, actor, reference, Permission.READ_CONTACT)
    append_event(
        db.connection(),
        actor=actor.label,
        action="tracing_request.contact_view",
        entity_type="tracing_request",
        entity_id=reference,
    )
    db.commit()
    return Contact(
        request.requester_name,
        request.relationship,
        request.contact_phone,
        request.contact_email,
        request.contact_other,
    )


def get_photo_for(db: Session, actor: Actor, reference: str) -> tuple[bytes, str]:
    request, _ = _visible(db, actor, reference, Permission.READ_REQUESTS)
    if request.photo is None or request.photo_type is None:
        raise NotFound(NOT_FOUND)
    append_event(
        db.connection(),
        actor=actor.label,
        action="tracing_request.photo_view",
        entity_type="tracing_request",
        entity_id=reference,
    )
    db.commit()
    return request.photo, request.photo_type


def set_status(db: Session, *, actor: Actor, reference: str, status: str) -> str:
    """Change a request's status (``STATUSES``); returns the new status."""
    if status not in {code for code, _ in STATUSES}:
        raise IntakeInvalid({"status": N_("Unknown status.")})
    request, _ = _visible(db, actor, reference, Permission.WORK_REQUESTS)
    old = request.status
    request.status = status
    request.updated_at = datetime.now(UTC)
    append_event(
        db.connection(),
        actor=actor.label,
        action="tracing_request.status",
        entity_type="tracing_request",
        entity_id=reference,
        detail={"from": old, "to": status},
    )
    db.commit()
    return status


def count_by_status(conn: Connection) -> dict[str, int]:
    """How many requests are in each status (aggregate: no names, no references)."""
    rows = conn.execute(
        select(TracingRequest.status, func.count()).group_by(TracingRequest.status)
    ).all()
    return {str(status): int(n) for status, n in rows}
