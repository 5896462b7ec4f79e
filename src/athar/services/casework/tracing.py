"""Tracing requests from families: intake, access and status.  Every write and view is audited.

A request is two rows written in one transaction:

* a :class:`~athar.store.models.Record` of the ``family`` source holding the missing person's
  details in interchange form, so linkage treats it like a row of any other list;
* a :class:`~athar.store.casework.TracingRequest` with what only the family knows: who asks,
  how to reach them, other names and residence, their account (all encrypted), and their
  consent; a photo, re-encoded without metadata and encrypted, is a
  :class:`~athar.store.casework.RequestPhoto` row of its own.

A request an administrator marks as spam (:func:`mark_spam`) keeps its rows and its history;
its record is withdrawn from linkage and the figures until it is marked as not spam.

The public answer to an intake is only a reference.  Nothing here ever tells the public whether
the person is known.  :func:`get_request_for` answers a request the actor may not see exactly
like one that does not exist.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session

from athar.domain.fields import TRACING_REQUEST, form_record_fields
from athar.domain.messages import N_
from athar.security.auth import NotFound, Permission, has_permission, require
from athar.services import jobs
from athar.services.actor import Actor
from athar.services.audit import AuditAction, append_event, audit_read, audit_refusal
from athar.services.casework.odk_provenance import Provenance, record_provenance
from athar.services.casework.tracing_intake import (
    CONSENT_SCOPES,
    FAMILY_SOURCE,
    RECORD_FIELDS,
    Intake,
    IntakeInvalid,
)
from athar.services.registry.form_records import (
    FormRecordInvalid,
    free_reference,
    source_row,
    store_form_record,
)
from athar.store.casework import RequestPhoto, TracingRequest
from athar.store.engine import write_session
from athar.store.models import PersonRecord, Record

#: the one message for "missing" and "not yours": the two must be indistinguishable
NOT_FOUND = "not found"


STATUSES: tuple[tuple[str, str], ...] = (
    ("registered", N_("Registered")),
    ("in_progress", N_("In progress")),
    ("family_informed", N_("Family informed")),
    ("closed", N_("Closed")),
)
#: the status of a request an administrator marked as spam (:func:`mark_spam`): not one a
#: case worker chooses, and left out of the default list, linkage, figures and estimates
SPAM = "spam"
SPAM_LABEL = N_("Spam")
#: the longest reason accepted for marking a request as spam or not spam
MAX_REASON = 500


def _store_photo(db: Session, intake: Intake, at: datetime) -> int | None:
    """The photo in its own row (encrypted); its id, or ``None`` without a photo."""
    if intake.photo is None or intake.photo_type is None:
        return None
    photo = RequestPhoto(
        data=intake.photo,
        content_type=intake.photo_type,
        size=len(intake.photo),
        sha256=hashlib.sha256(intake.photo).hexdigest(),
        created_at=at,
    )
    db.add(photo)
    db.flush()
    return photo.id


def submit_request(
    engine: Engine,
    *,
    actor: Actor,
    intake: Intake,
    language: str,
    provenance: Provenance | None = None,
) -> TracingRequest:
    """Store a tracing request and its ``family`` record; returns the stored request.

    ``provenance``: the ODK submission it came from, recorded in the same transaction."""
    at = datetime.now(UTC)
    with write_session(engine) as db:
        source = source_row(db, FAMILY_SOURCE, "Family tracing requests", at)
        reference = free_reference(db, source, "T", at)
        while db.scalar(select(TracingRequest.id).where(TracingRequest.reference == reference)):
            reference = free_reference(db, source, "T", at)
        cells = {k: v for k in RECORD_FIELDS if (v := intake.values.get(k)) is not None}
        cells["status"] = "missing"
        try:
            record = store_form_record(
                db,
                source=source,
                reference=reference,
                cells=cells,
                status_text="missing (tracing request)",
                actor=actor,
                at=at,
            )
        except FormRecordInvalid as exc:  # validate_intake already catches these
            raise IntakeInvalid(exc.errors) from None
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
            photo_id=_store_photo(db, intake, at),
            consent=list(intake.consent),
            consent_updated_at=at,
            created_at=at,
            updated_at=at,
        )
        db.add(request)
        db.flush()
        # its candidates are sought at once, by a job that commits with the request
        job = jobs.queue_in(
            db.connection(),
            kind=jobs.SCORE_SUBJECT,
            args={"subject_kind": "request", "reference": reference},
            actor=actor,
            subject=f"{FAMILY_SOURCE}:{reference}",
        )
        detail = {"record_id": record.id, "consent": list(intake.consent), "language": language}
        if provenance:
            record_provenance(
                db, provenance, form=TRACING_REQUEST, reference=reference, actor=actor, at=at
            )
            detail["odk_instance_id"] = provenance.instance_id
        detail["job"] = job
        append_event(
            db.connection(),
            actor=actor.label,
            action=AuditAction.TRACING_REQUEST_CREATE,
            entity_type="tracing_request",
            entity_id=reference,
            detail=detail,
        )
    return request


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestSummary:
    reference: str
    status: str
    created_at: datetime
    name: str | None


#: the ``record`` columns a case worker sees of the missing person (what the form asked for)
PERSON_COLUMNS: tuple[str, ...] = tuple(f.shown_column for f in form_record_fields(TRACING_REQUEST))


_NAME_COLUMNS = ("full_name", "given_name", "father_name", "grandfather_name", "family_name")


def _name_of(names: dict[str, str | None]) -> str | None:
    if names["full_name"]:
        return names["full_name"]
    joined = " ".join(p for c in _NAME_COLUMNS[1:] if (p := names[c]))
    return joined or None


def list_requests(
    db: Session, *, actor: Actor, status: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[RequestSummary], int]:
    """Requests newest first, and the total count; audited with the references shown."""
    require(actor.role, Permission.READ_REQUESTS)
    if status and status not in {code for code, _ in STATUSES} | {SPAM}:
        # a filter value is checked against the vocabulary before it reaches the audit log
        raise IntakeInvalid({"status": N_("Unknown status.")})
    # only the shown columns: no contact, no account, no photo is read or decrypted (finding 3)
    query = select(
        TracingRequest.reference,
        TracingRequest.status,
        TracingRequest.created_at,
        *(getattr(Record, c) for c in _NAME_COLUMNS),
    ).join(Record, Record.id == TracingRequest.record_id)
    count_query = select(func.count()).select_from(TracingRequest)
    # spam only when asked for (status="spam"); the default list leaves it out
    shown = TracingRequest.status == status if status else TracingRequest.status != SPAM
    query = query.where(shown)
    count_query = count_query.where(shown)
    rows = db.execute(
        query.order_by(TracingRequest.created_at.desc(), TracingRequest.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    total = int(db.scalar(count_query) or 0)
    items = [
        RequestSummary(
            row[0], row[1], row[2], _name_of(dict(zip(_NAME_COLUMNS, row[3:], strict=True)))
        )
        for row in rows
    ]
    audit_read(
        db,
        actor=actor,
        action=AuditAction.TRACING_REQUEST_LIST,
        entity_type="tracing_request",
        detail={"references": [i.reference for i in items], "status": status},
    )
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
    #: the person linkage put the request's record into, if a link run has seen it
    person_id: int | None


def _load(db: Session, reference: str) -> tuple[TracingRequest, Record] | None:
    row = db.execute(
        select(TracingRequest, Record)
        .join(Record, Record.id == TracingRequest.record_id)
        .where(TracingRequest.reference == reference)
    ).first()
    return None if row is None else (row[0], row[1])


def visible_request(
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
    request, record = visible_request(db, actor, reference, Permission.READ_REQUESTS)
    person = {c: getattr(record, c) for c in PERSON_COLUMNS}
    view = RequestView(
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
        has_photo=request.photo_id is not None,
        record_id=record.id,
        person_id=db.scalar(
            select(PersonRecord.person_id)
            .where(PersonRecord.record_id == record.id)
            .order_by(PersonRecord.id.desc())
            .limit(1)
        ),
    )
    audit_read(
        db,
        actor=actor,
        action=AuditAction.TRACING_REQUEST_VIEW,
        entity_type="tracing_request",
        entity_id=reference,
    )
    return view


@dataclass(frozen=True)
class Contact:
    requester_name: str
    relationship: str
    phone: str | None
    email: str | None
    other: str | None


def get_contact_for(db: Session, actor: Actor, reference: str) -> Contact:
    """The family's contact details (decrypted); every call is audited, and so is a refused
    one (rate-limited: :func:`athar.services.audit.audit_refusal`)."""
    try:
        request, _ = visible_request(db, actor, reference, Permission.READ_CONTACT)
    except NotFound:
        db.rollback()
        bind = db.get_bind()
        audit_refusal(
            bind if isinstance(bind, Engine) else bind.engine,
            actor=actor.label,
            action=AuditAction.TRACING_REQUEST_CONTACT_REFUSED,
            entity_type="tracing_request",
            entity_id=reference,
            detail={"role": actor.role.value if actor.role else None},
        )
        raise
    contact = Contact(
        request.requester_name,
        request.relationship,
        request.contact_phone,
        request.contact_email,
        request.contact_other,
    )
    audit_read(
        db,
        actor=actor,
        action=AuditAction.TRACING_REQUEST_CONTACT_VIEW,
        entity_type="tracing_request",
        entity_id=reference,
    )
    return contact


def get_photo_for(db: Session, actor: Actor, reference: str) -> tuple[bytes, str]:
    request, _ = visible_request(db, actor, reference, Permission.READ_REQUESTS)
    stored = None if request.photo_id is None else db.get(RequestPhoto, request.photo_id)
    if stored is None:
        raise NotFound(NOT_FOUND)
    photo, photo_type = stored.data, stored.content_type
    audit_read(
        db,
        actor=actor,
        action=AuditAction.TRACING_REQUEST_PHOTO_VIEW,
        entity_type="tracing_request",
        entity_id=reference,
    )
    return photo, photo_type


def set_status(engine: Engine, *, actor: Actor, reference: str, status: str) -> str:
    """Change a request's status (``STATUSES``); returns the new status."""
    if status not in {code for code, _ in STATUSES}:
        raise IntakeInvalid({"status": N_("Unknown status.")})
    with write_session(engine) as db:
        request, _ = visible_request(db, actor, reference, Permission.WORK_REQUESTS)
        if request.status == SPAM:
            raise IntakeInvalid(
                {
                    "status": N_(
                        "This request is marked as spam: an administrator must mark it as not spam first."
                    )
                }
            )
        old = request.status
        request.status = status
        request.updated_at = datetime.now(UTC)
        append_event(
            db.connection(),
            actor=actor.label,
            action=AuditAction.TRACING_REQUEST_STATUS,
            entity_type="tracing_request",
            entity_id=reference,
            detail={"from": old, "to": status},
        )
    return status


def set_consent(engine: Engine, *, actor: Actor, reference: str, consent: list[str]) -> list[str]:
    """Record the family's new sharing choices (given or withdrawn); the next export follows."""
    allowed = {code for code, _ in CONSENT_SCOPES}
    chosen = sorted(set(consent))
    if any(c not in allowed for c in chosen):
        raise IntakeInvalid({"consent": N_("Unknown consent choice.")})
    with write_session(engine) as db:
        request, _ = visible_request(db, actor, reference, Permission.WORK_REQUESTS)
        old = list(request.consent)
        at = datetime.now(UTC)
        request.consent = chosen
        request.consent_updated_at = at
        request.updated_at = at
        append_event(
            db.connection(),
            actor=actor.label,
            action=AuditAction.TRACING_REQUEST_CONSENT,
            entity_type="tracing_request",
            entity_id=reference,
            detail={"from": old, "to": chosen},
        )
    return chosen


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise IntakeInvalid({"reason": N_("Please give a reason.")})
    if len(text) > MAX_REASON:
        raise IntakeInvalid({"reason": N_("This is too long.")})
    return text


def mark_spam(engine: Engine, *, actor: Actor, reference: str, spam: bool, reason: str) -> str:
    """Mark a request as spam (``spam=True``) or as not spam, with a reason; returns its status.

    Spam: the status becomes :data:`SPAM` (the previous one is kept) and the request's
    ``family`` record is withdrawn (``is_current`` cleared, no successor), so it leaves link
    runs, candidate scoring, the figures, estimates and exports at once, as a superseded
    record does.  Not spam: the previous status and the record come back.  Nothing is
    deleted; both are audited with the reason.  Marking a request as what it already is
    changes nothing and writes nothing.
    """
    text = _reason(reason)
    with write_session(engine) as db:
        request, record = visible_request(db, actor, reference, Permission.MARK_SPAM)
        if (request.status == SPAM) == spam:
            return request.status
        old = request.status
        if spam:
            request.status_before_spam, request.status = old, SPAM
        else:
            request.status = request.status_before_spam or "registered"
            request.status_before_spam = None
        record.is_current = not spam
        request.updated_at = datetime.now(UTC)
        append_event(
            db.connection(),
            actor=actor.label,
            action=AuditAction.TRACING_REQUEST_SPAM
            if spam
            else AuditAction.TRACING_REQUEST_NOT_SPAM,
            entity_type="tracing_request",
            entity_id=reference,
            detail={"from": old, "to": request.status, "record_id": record.id, "reason": text},
        )
        return request.status


def count_by_status(conn: Connection) -> dict[str, int]:
    """How many requests are in each status (aggregate: no names, no references); spam is
    not a request and is not counted."""
    rows = conn.execute(
        select(TracingRequest.status, func.count())
        .where(TracingRequest.status != SPAM)
        .group_by(TracingRequest.status)
    ).all()
    return {str(status): int(n) for status, n in rows}
