"""A tracing request's candidate matches: records from every list that linkage put near it.

Candidates are read from what the link runs stored (automatic pair scores of the latest run,
membership of the same person, human decisions), so a search is a few indexed queries, not a
model run.  A request filed after the latest run has no candidates until the next
(incremental) run.  Confirming or rejecting a candidate writes a human link decision through
:mod:`athar.services.linking`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from athar.security.auth import NotFound, Permission, has_permission
from athar.services import review, unidentified
from athar.services.audit import append_event
from athar.services.tracing import visible_request
from athar.services.tracing_intake import FAMILY_SOURCE
from athar.services.users import Actor
from athar.store.models import LinkDecision, LinkRun, PersonRecord, Record, Source


@dataclass(frozen=True)
class Candidate:
    key: str  # source:record_id
    source: str
    name: str | None
    birth: str | None
    facility: str | None
    score: float | None  # match weight in the latest run, when the pair was scored
    same_person: bool  # in the same person (cluster) as the request
    decision: str | None  # must_link / cannot_link by a person, latest


def _name(r: Record) -> str | None:
    if r.full_name:
        return r.full_name
    parts = [r.given_name, r.father_name, r.grandfather_name, r.family_name]
    return " ".join(p for p in parts if p) or None


#: statuses of a missing-person report (what an unidentified person or body is matched against)
REPORT_STATUSES = frozenset({"missing", "detained"})


def _ranked(db: Session, rid: int, reports_only: bool = False) -> list[Candidate]:
    latest = db.scalar(select(LinkRun.id).order_by(LinkRun.id.desc()).limit(1))
    scores: dict[int, float] = {}
    decisions: dict[int, str] = {}
    pair = or_(LinkDecision.record_a_id == rid, LinkDecision.record_b_id == rid)
    for d in db.scalars(select(LinkDecision).where(pair).order_by(LinkDecision.decided_at)):
        other = d.record_b_id if d.record_a_id == rid else d.record_a_id
        if d.kind == "automatic":
            if d.link_run_id == latest and d.score is not None:
                scores[other] = max(scores.get(other, d.score), d.score)
        else:
            decisions[other] = d.kind
    person_ids = select(PersonRecord.person_id).where(PersonRecord.record_id == rid)
    same = set(
        db.scalars(
            select(PersonRecord.record_id).where(
                PersonRecord.person_id.in_(person_ids), PersonRecord.record_id != rid
            )
        )
    )
    ids = set(scores) | set(decisions) | same
    rows = db.execute(
        select(Record, Source.code)
        .join(Source, Source.id == Record.source_id)
        .where(Record.id.in_(ids), Record.is_current.is_(True))
    ).all()
    found = [
        Candidate(
            key=f"{code}:{r.record_id}",
            source=code,
            name=_name(r),
            birth=r.birth_date or r.age_text,
            facility=r.facility,
            score=scores.get(r.id),
            same_person=r.id in same,
            decision=decisions.get(r.id),
        )
        for r, code in rows
        if not reports_only or r.status_code is None or r.status_code in REPORT_STATUSES
    ]
    found.sort(
        key=lambda c: (
            c.decision != "must_link",
            not c.same_person,
            -(c.score if c.score is not None else float("-inf")),
            c.key,
        )
    )
    return found


def _audit_view(
    db: Session, actor: Actor, action: str, entity: str, found: list[Candidate]
) -> None:
    append_event(
        db.connection(),
        actor=actor.label,
        action=action,
        entity_type="tracing_request" if action.startswith("tracing") else "record",
        entity_id=entity,
        detail={"candidates": [c.key for c in found]},
    )
    db.commit()


def candidates_for(db: Session, actor: Actor, reference: str) -> list[Candidate]:
    """Ranked candidates for a request (best first); the view is audited."""
    _, record = visible_request(db, actor, reference, Permission.READ_REQUESTS)
    found = _ranked(db, record.id)
    _audit_view(db, actor, "tracing_request.candidates_view", reference, found)
    return found


def candidates_for_unidentified(db: Session, actor: Actor, reference: str) -> list[Candidate]:
    """The missing-person reports linkage put near an unidentified person or body."""
    record = unidentified.record_of(db, actor, reference)
    found = _ranked(db, record.id, reports_only=True)
    _audit_view(
        db, actor, "unidentified.candidates_view", f"{unidentified.SOURCE}:{reference}", found
    )
    return found


def _request_key(engine: Engine, actor: Actor, reference: str, permission: Permission) -> str:
    with Session(engine) as db:
        visible_request(db, actor, reference, permission)
    return f"{FAMILY_SOURCE}:{reference}"


def candidate_pair(engine: Engine, actor: Actor, reference: str, other: str) -> review.PairView:
    """The request's record and one candidate side by side, with the waterfall."""
    key = _request_key(engine, actor, reference, Permission.READ_REQUESTS)
    if other == key:
        raise NotFound("not found")
    return review.pair_for(engine, actor, key, other, permission=Permission.READ_REQUESTS)


def decide_candidate(
    engine: Engine, actor: Actor, reference: str, other: str, *, match: bool, reason: str
) -> int:
    """Confirm (same person) or reject a candidate: a human link decision with who and why."""
    key = _request_key(engine, actor, reference, Permission.WORK_REQUESTS)
    return review.decide(
        engine, actor, key, other, match=match, reason=reason, permission=Permission.WORK_REQUESTS
    )


def _unidentified_key(engine: Engine, actor: Actor, reference: str, permission: Permission) -> str:
    with Session(engine) as db:
        unidentified.record_of(db, actor, reference)
    if actor.role is None or not has_permission(actor.role, permission):
        raise NotFound("not found")
    return f"{unidentified.SOURCE}:{reference}"


def unidentified_pair(engine: Engine, actor: Actor, reference: str, other: str) -> review.PairView:
    key = _unidentified_key(engine, actor, reference, Permission.READ_REQUESTS)
    if other == key:
        raise NotFound("not found")
    return review.pair_for(engine, actor, key, other, permission=Permission.READ_REQUESTS)


def decide_unidentified(
    engine: Engine, actor: Actor, reference: str, other: str, *, match: bool, reason: str
) -> int:
    key = _unidentified_key(engine, actor, reference, Permission.WORK_REQUESTS)
    return review.decide(
        engine, actor, key, other, match=match, reason=reason, permission=Permission.WORK_REQUESTS
    )
