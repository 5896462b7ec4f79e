"""A person page: every record linked into the person, side by side with its source and date,
and a timeline of the status claims.  Conflicting claims are shown as conflicts, never settled.

Only roles with ``read_persons`` may open it; anyone else gets ``NotFound``, exactly like a
person that does not exist.  Every view is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from athar.security.auth import NotFound, Permission, has_permission
from athar.services.actor import Actor
from athar.services.audit import AuditAction, audit_read
from athar.services.linking.review import PAIR_FIELDS
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
    audit_read(
        db,
        actor=actor,
        action=AuditAction.PERSON_VIEW,
        entity_type="person",
        entity_id=person_id,
        detail={"records": [r.key for r in records]},
    )
    return PersonView(person_id, records, timeline, conflicts)
