"""A person page: every record linked into the person, side by side with its source and date,
and a timeline of the status claims.  Conflicting claims are shown as conflicts, never settled.

Only roles with ``read_persons`` may open it; anyone else gets ``NotFound``, exactly like a
person that does not exist.  Every view is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from athar.security.auth import NotFound, Permission, has_permission
from athar.services.actor import Actor
from athar.services.audit import AuditAction, audit_read
from athar.services.linking.review import PAIR_FIELDS
from athar.store.casework import TracingRequest
from athar.store.models import ImportBatch, Person, PersonRecord, Record, Source, StatusEvent

#: statuses that cannot all be true at once for the same person
EXCLUSIVE = frozenset({"released", "deceased"})


@dataclass(frozen=True)
class PersonRecordView:
    key: str
    source: str
    imported_at: str
    fields: dict[str, str | None]


@dataclass(frozen=True)
class StatusClaim:
    date: str | None
    status: str
    as_written: str
    source: str
    record: str
    facility: str | None


@dataclass(frozen=True)
class PersonView:
    id: int
    records: list[PersonRecordView]
    timeline: list[StatusClaim]
    #: each conflict: the exclusive statuses claimed, and which records claim each
    conflicts: list[dict[str, list[str]]]
    #: the best-known name: the fullest name any record gives (None: no record names them)
    name: str | None = None
    #: each source's latest claim (by date; undated claims count as oldest), source order
    latest_claims: list[StatusClaim] = field(default_factory=list)
    #: references of the tracing requests whose record is in this person (for roles that
    #: work on requests; empty otherwise)
    requests: list[str] = field(default_factory=list)


NAME_PARTS = ("given_name", "father_name", "grandfather_name", "family_name")


def best_name(records: list[PersonRecordView]) -> str | None:
    """The fullest name the records give: a full name as written, or the name parts joined;
    the one with the most words wins, then the first in source order."""
    best: tuple[int, str] | None = None
    for r in records:
        full = (r.fields.get("full_name") or "").strip()
        parts = " ".join(p for f in NAME_PARTS if (p := (r.fields.get(f) or "").strip()))
        for name in (full, parts):
            if name and (best is None or len(name.split()) > best[0]):
                best = (len(name.split()), name)
    return None if best is None else best[1]


def latest_by_source(timeline: list[StatusClaim]) -> list[StatusClaim]:
    """Each source's most recent claim (the timeline is in date order, undated first)."""
    latest: dict[str, StatusClaim] = {}
    for claim in sorted(timeline, key=lambda c: (c.date is not None, c.date or "")):
        latest[claim.source] = claim
    return [latest[s] for s in sorted(latest)]


def person_for(db: Session, actor: Actor, person_id: int) -> PersonView:
    if actor.role is None or not has_permission(actor.role, Permission.READ_PERSONS):
        raise NotFound("not found")
    if db.get(Person, person_id) is None:
        raise NotFound("not found")
    rows = db.execute(
        select(Record, Source.code, ImportBatch.imported_at)
        .join(PersonRecord, PersonRecord.record_id == Record.id)
        .join(Source, Source.id == Record.source_id)
        .join(ImportBatch, ImportBatch.id == Record.batch_id)
        .where(PersonRecord.person_id == person_id)
        .order_by(Source.code, Record.record_id)
    ).all()
    records = [
        PersonRecordView(
            key=f"{code}:{r.record_id}",
            source=code,
            imported_at=imported.date().isoformat() if imported else "",
            fields={f: getattr(r, f) for f in PAIR_FIELDS},
        )
        for r, code, imported in rows
    ]
    keys = {r.id: f"{code}:{r.record_id}" for r, code, _ in rows}
    claims = db.execute(
        select(StatusEvent, Source.code)
        .join(Source, Source.id == StatusEvent.source_id)
        .where(StatusEvent.record_id.in_(list(keys)))
    ).all()
    timeline = sorted(
        (
            StatusClaim(
                date=e.event_date,
                status=e.status_code,
                as_written=e.status_text,
                source=code,
                record=keys[e.record_id],
                facility=e.facility_code,
            )
            for e, code in claims
        ),
        key=lambda c: (c.date is None, c.date or "", c.record),
    )
    by_status: dict[str, list[str]] = {}
    for claim in timeline:
        if claim.status in EXCLUSIVE:
            by_status.setdefault(claim.status, []).append(claim.record)
    conflicts = [dict(sorted(by_status.items()))] if len(by_status) > 1 else []
    requests: list[str] = []
    if has_permission(actor.role, Permission.WORK_REQUESTS):
        # the reference only: no contact or other encrypted column is loaded
        requests = list(
            db.scalars(
                select(TracingRequest.reference)
                .join(PersonRecord, PersonRecord.record_id == TracingRequest.record_id)
                .where(PersonRecord.person_id == person_id)
                .order_by(TracingRequest.reference)
            )
        )
    audit_read(
        db,
        actor=actor,
        action=AuditAction.PERSON_VIEW,
        entity_type="person",
        entity_id=person_id,
        detail={"records": [r.key for r in records]},
    )
    return PersonView(
        person_id,
        records,
        timeline,
        conflicts,
        name=best_name(records),
        latest_claims=latest_by_source(timeline),
        requests=requests,
    )
