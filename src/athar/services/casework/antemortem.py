"""Antemortem records: what a family can tell of a missing person for identification.

The answers follow :data:`athar.domain.fields.ANTEMORTEM_FIELDS` (INTERPOL's antemortem form as
a family can answer it: physical description, teeth and dentist, medical history, scars and
marks, clothing and belongings at arrest, and the relatives who can give a reference sample).
A record belongs to a tracing request (by its reference); its content is encrypted like contact
details (``antemortem_record.content``), written by :func:`add_record` with its audit event in
the same transaction, and read by :func:`records_for`, which audits the read.  Records are never
edited: a later interview adds one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from athar.domain.fields import ANTEMORTEM, ANTEMORTEM_FIELDS
from athar.domain.messages import N_
from athar.errors import InvalidInput
from athar.security.auth import NotFound, Permission, require
from athar.services.actor import Actor
from athar.services.audit import AuditAction, append_event, audit_read
from athar.services.casework.odk_provenance import Provenance, record_provenance
from athar.services.casework.tracing import NOT_FOUND
from athar.services.casework.tracing_intake import RELATIONSHIPS
from athar.store.casework import AntemortemRecord, TracingRequest
from athar.store.engine import write_session

#: the answers asked once (not in the repeated group of reference-sample donors)
SINGLE: tuple[str, ...] = tuple(f.name for f in ANTEMORTEM_FIELDS if f.repeat is None)
#: the fields of one reference-sample donor
DONOR: tuple[str, ...] = tuple(f.name for f in ANTEMORTEM_FIELDS if f.repeat == "donors")
LONG = frozenset(
    {
        "physical_description",
        "dental_history",
        "medical_history",
        "fractures",
        "operations",
        "implants_prostheses",
        "scars_marks",
        "clothing_at_arrest",
        "belongings_at_arrest",
    }
)
MAX_SHORT = 200
MAX_LONG = 4000
MAX_DONORS = 20
_CHOICES = {"informant_relationship", "donor_relationship"}


class AntemortemInvalid(ValueError, InvalidInput):
    """The answers have problems: ``errors`` maps each field to an (untranslated) message."""

    code = "antemortem_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def limit(name: str) -> int:
    """The longest answer ``name`` takes (the ODK form's constraint is the same)."""
    return MAX_LONG if name in LONG else MAX_SHORT


def validate(raw: dict[str, Any]) -> dict[str, Any]:
    """Check every answer; collect every problem before failing.

    ``raw`` holds the single answers by name and ``donors``: a list of mappings."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    codes = {code for code, _ in RELATIONSHIPS}

    def clean(name: str, value: Any, key: str) -> str | None:
        text = str(value).strip() if value is not None else ""
        if len(text) > limit(name):
            errors[key] = N_("This is too long.")
        if text and name in _CHOICES and text not in codes:
            errors[key] = N_("Please choose from the list.")
        return text or None

    for name in SINGLE:
        values[name] = clean(name, raw.get(name), name)
    if not values["request_reference"]:
        errors["request_reference"] = N_("Please give the tracing request's reference.")
    donors = raw.get("donors") or []
    if not isinstance(donors, list) or len(donors) > MAX_DONORS:
        errors["donors"] = N_("Too many relatives listed.")
        donors = []
    values["donors"] = []
    for i, donor in enumerate(donors, start=1):
        got = {n: clean(n, (donor or {}).get(n), f"donors[{i}].{n}") for n in DONOR}
        if any(got.values()):
            values["donors"].append(got)
    answered = [n for n in SINGLE if n != "request_reference" and values[n]]
    if not answered and not values["donors"] and "request_reference" not in errors:
        errors["request_reference"] = N_("The form has no answers.")
    if errors:
        raise AntemortemInvalid(errors)
    return values


@dataclass(frozen=True)
class AntemortemView:
    """One antemortem record, decrypted, for a case worker."""

    id: int
    reference: str
    channel: str
    created_by: str
    created_at: datetime
    answers: dict[str, str | None]
    donors: list[dict[str, str | None]]


def add_record(
    engine: Engine,
    *,
    actor: Actor,
    values: dict[str, Any],
    provenance: Provenance | None = None,
) -> int:
    """Store validated answers (:func:`validate`) on their tracing request; returns the id.

    With ``provenance`` (an ODK submission), the submission is recorded in the same
    transaction, so a re-import of it finds it and changes nothing."""
    require(actor.role, Permission.WORK_REQUESTS)
    reference = values["request_reference"]
    at = datetime.now(UTC)
    with write_session(engine) as db:
        request = db.scalar(select(TracingRequest).where(TracingRequest.reference == reference))
        if request is None:
            raise AntemortemInvalid(
                {"request_reference": N_("There is no tracing request with this reference.")}
            )
        content = {k: v for k, v in values.items() if k != "request_reference"}
        record = AntemortemRecord(
            request_id=request.id,
            content=json.dumps(content, ensure_ascii=False, sort_keys=True),
            channel="odk" if provenance else "web",
            created_by=actor.label,
            created_at=at,
        )
        db.add(record)
        db.flush()
        detail: dict[str, Any] = {
            "antemortem_id": record.id,
            "answered": sorted(k for k, v in content.items() if v),
        }
        if provenance:
            record_provenance(
                db,
                provenance,
                form=ANTEMORTEM,
                reference=f"{reference}/antemortem/{record.id}",
                actor=actor,
                at=at,
            )
            detail["odk_instance_id"] = provenance.instance_id
        append_event(
            db.connection(),
            actor=actor.label,
            action=AuditAction.ANTEMORTEM_CREATE,
            entity_type="tracing_request",
            entity_id=reference,
            detail=detail,
        )
        return record.id


def records_for(db: Session, actor: Actor, reference: str) -> list[AntemortemView]:
    """The antemortem records of a tracing request, oldest first; the read is audited."""
    require(actor.role, Permission.READ_REQUESTS)
    request = db.scalar(select(TracingRequest).where(TracingRequest.reference == reference))
    if request is None:
        raise NotFound(NOT_FOUND)
    rows = db.scalars(
        select(AntemortemRecord)
        .where(AntemortemRecord.request_id == request.id)
        .order_by(AntemortemRecord.id)
    ).all()
    views = []
    for row in rows:
        content = json.loads(row.content)
        views.append(
            AntemortemView(
                id=row.id,
                reference=reference,
                channel=row.channel,
                created_by=row.created_by,
                created_at=row.created_at,
                answers={n: content.get(n) for n in SINGLE if n != "request_reference"},
                donors=list(content.get("donors") or []),
            )
        )
    audit_read(
        db,
        actor=actor,
        action=AuditAction.ANTEMORTEM_VIEW,
        entity_type="tracing_request",
        entity_id=reference,
        detail={"records": [v.id for v in views]},
    )
    return views
