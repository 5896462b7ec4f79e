"""Candidate matches for a subject (a tracing request, an unidentified person or body): records
from every list that linkage put near it.  One flow for every kind of subject (:class:`Subject`).

Candidates are read from what the link runs stored (automatic pair scores of the latest run,
membership of the same person, human decisions), so a search is a few indexed queries, not a
model run.  A request filed after the latest run has no candidates until the next
(incremental) run.  Confirming or rejecting a candidate writes a human link decision through
:mod:`athar.services.linking.runs`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    DateTime,
    Engine,
    Float,
    Integer,
    String,
    bindparam,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from athar.security.auth import NotFound, Permission, has_permission
from athar.services.actor import Actor
from athar.services.audit import AuditAction, append_read
from athar.services.casework import unidentified
from athar.services.casework.tracing import NOT_FOUND, set_status, visible_request
from athar.services.casework.tracing_intake import FAMILY_SOURCE
from athar.services.linking import review
from athar.store.casework import TracingRequest
from athar.store.engine import reads_without_transaction
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


def _name(r: Any) -> str | None:
    if r.full_name:
        return r.full_name
    parts = [r.given_name, r.father_name, r.grandfather_name, r.family_name]
    return " ".join(p for p in parts if p) or None


#: statuses of a missing-person report (what an unidentified person or body is matched against)
REPORT_STATUSES = frozenset({"missing", "detained"})


def _near_query(rid: Any) -> Any:
    """One statement for what names record ``rid``: every link decision (each side through
    its own index, ``UNION ALL``) with the latest link run's id, and ``rid``'s person(s).

    Rows are ``(tag, other, kind, score, run_id, decided_at, id, latest)``: tag ``d`` for a
    decision (``other`` is the other record), ``p`` for a person (``other`` is its id), and
    ``r`` for ``rid`` itself (``other`` is ``NULL`` for a missing request).  Decisions come
    oldest first.
    """
    latest_run = select(func.max(_RUN.c.id)).scalar_subquery()
    ld = LinkDecision.__table__
    no_int = literal(None, Integer)
    decisions = [
        select(
            literal("d").label("tag"),
            other.label("other"),
            ld.c.kind,
            ld.c.score,
            ld.c.link_run_id,
            ld.c.decided_at,
            ld.c.id,
            latest_run.label("latest"),
        ).where(this == rid)
        for this, other in (
            (ld.c.record_a_id, ld.c.record_b_id),
            (ld.c.record_b_id, ld.c.record_a_id),
        )
    ]
    nulls = (
        literal(None, String),
        literal(None, Float),
        no_int,
        literal(None, DateTime),
        no_int,
        no_int,
    )
    persons = select(literal("p"), _PR.c.person_id, *nulls).where(_PR.c.record_id == rid)
    itself = select(literal("r"), rid, *nulls)
    both = union_all(*decisions, persons, itself).subquery()
    # decisions oldest first (in SQL: stored timestamps may mix naive and aware values)
    return select(both).order_by(both.c.decided_at, both.c.id)


def _records_query() -> Any:
    """Display columns and source codes of the current versions of records ``:ids`` (the
    decisions' other records) and of the other records of persons ``:persons`` (flagged
    ``same``), in one statement."""
    r = Record.__table__
    columns = (
        r.c.id,
        r.c.record_id,
        r.c.full_name,
        r.c.given_name,
        r.c.father_name,
        r.c.grandfather_name,
        r.c.family_name,
        r.c.birth_date,
        r.c.age_text,
        r.c.facility,
        r.c.status_code,
        _SOURCE.c.code,
    )
    named = (
        select(*columns, literal(False).label("same"))
        .join(_SOURCE, _SOURCE.c.id == r.c.source_id)
        .where(r.c.id.in_(bindparam("ids", expanding=True)), r.c.is_current.is_(True))
    )
    same = (
        select(*columns, literal(True).label("same"))
        .join(_SOURCE, _SOURCE.c.id == r.c.source_id)
        .join(_PR, _PR.c.record_id == r.c.id)
        .where(
            _PR.c.person_id.in_(bindparam("persons", expanding=True)),
            r.c.id != bindparam("rid"),
            r.c.is_current.is_(True),
        )
    )
    return union_all(named, same)


# Core tables, not mapped attributes: a statement that names mapped classes goes through the
# ORM's compile and execute layers on every call, which cost more than the queries here
_PR = PersonRecord.__table__
_RUN = LinkRun.__table__
_SOURCE = Source.__table__
_REQUEST = TracingRequest.__table__
#: built once: composing these statements cost more CPU than running them (profiled).  Two
#: round trips per search: what names the record (decisions, persons, the request's record),
#: then the records.  (Person lookups are by index on each side; an ``IN (subquery)`` over
#: ``person_record`` was planned as a hash join over the whole table without statistics, 37 ms
#: at 100k records, measured.)
_NEAR_REQUEST = _near_query(
    select(_REQUEST.c.record_id)
    .where(_REQUEST.c.reference == bindparam("reference"))
    .scalar_subquery()
)
_NEAR_RECORD = _near_query(bindparam("rid", type_=Integer))
_RECORDS = _records_query()


def _ranked(db: Session, near: Any, reports_only: bool = False) -> list[Candidate] | None:
    """The records near one record, best first, from two statements (columns only):

    1. ``near`` (:data:`_NEAR_REQUEST` or :data:`_NEAR_RECORD` with its parameters): every
       link decision naming the record, with the latest link run's id, and its person(s);
    2. the display columns and source codes of the decisions' records and of the persons'
       other records (current versions only).

    ``None`` when the record does not exist (a request reference that matches nothing).
    """
    statement, params = near
    conn = db.connection()  # Core statements on the connection: no ORM layers per call
    rid: int | None = None
    scores: dict[int, float] = {}
    decisions: dict[int, str] = {}
    person_ids: list[int] = []
    for tag, other, kind, score, run_id, _, _, latest in conn.execute(statement, params):
        if tag == "r":
            rid = other
        elif tag == "p":
            person_ids.append(other)
        elif kind == "automatic":
            if run_id == latest and score is not None:
                scores[other] = max(scores.get(other, score), score)
        else:
            decisions[other] = kind  # oldest first: the latest decision stays
    if rid is None:
        return None
    ids = set(scores) | set(decisions)
    if not ids and not person_ids:
        return []
    rows: dict[int, Any] = {}
    same: set[int] = set()
    for row in conn.execute(_RECORDS, {"ids": sorted(ids), "persons": person_ids, "rid": rid}):
        rows[row.id] = row
        if row.same:
            same.add(row.id)
    found = [
        Candidate(
            key=f"{row.code}:{row.record_id}",
            source=row.code,
            name=_name(row),
            birth=row.birth_date or row.age_text,
            facility=row.facility,
            score=scores.get(row.id),
            same_person=row.id in same,
            decision=decisions.get(row.id),
        )
        for row in rows.values()
        if not reports_only or row.status_code is None or row.status_code in REPORT_STATUSES
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
    db: Session, actor: Actor, subject: Subject, reference: str, found: list[Candidate]
) -> None:
    """Audit the view, committed before the caller answers.  The reads' transaction ends
    first; the event is group-committed with concurrent views (:func:`append_read`), so
    case workers searching at once do not queue one by one on the audit log's head."""
    db.rollback()  # nothing was written: end the reads' transaction, free the connection
    bind = db.get_bind()
    append_read(
        bind if isinstance(bind, Engine) else bind.engine,
        actor=actor.label,
        action=subject.view_action,
        entity_type=subject.view_entity_type,
        entity_id=subject.view_entity(reference),
        detail={"candidates": [c.key for c in found]},
    )


# --- subjects ----------------------------------------------------------------------------------


def _near_request(db: Session, actor: Actor, reference: str) -> tuple[Any, dict[str, Any]]:
    """The request's record is found by the statement itself: the request is not loaded (nor
    its contact details and photo decrypted) to list its candidates."""
    db.connection(execution_options=reads_without_transaction(db.get_bind()))
    return _NEAR_REQUEST, {"reference": reference}


def _find_request(db: Session, actor: Actor, reference: str) -> None:
    visible_request(db, actor, reference, Permission.READ_REQUESTS)


def _near_unidentified(db: Session, actor: Actor, reference: str) -> tuple[Any, dict[str, Any]]:
    return _NEAR_RECORD, {"rid": unidentified.record_of(db, actor, reference).id}


def _find_unidentified(db: Session, actor: Actor, reference: str) -> None:
    unidentified.record_of(db, actor, reference)


@dataclass(frozen=True)
class Subject:
    """Whom candidates are sought for: one kind of record that stands for a person being
    searched for (a family's tracing request, a person who cannot say who they are or an
    unidentified body; later a body or a set of remains).

    Everything else in the flow (ranking, the side-by-side pair, the decision, the audit) is
    the same for every subject.  A subject is found by its ``reference``; its record's key is
    ``source:reference``.  Reading its candidates needs ``read``, deciding on one ``work``; a
    subject the actor may not see answers :class:`NotFound`, like a missing one.
    """

    kind: str
    #: the source its record is stored under
    source: str
    #: audit action and entity type of a view of its candidates
    view_action: AuditAction
    view_entity_type: str
    #: only missing-person reports are its candidates (a report does not match a report)
    reports_only: bool
    #: the statement and parameters that name its record, for :func:`_ranked` (raises
    #: :class:`NotFound` when it is missing or hidden)
    near: Callable[[Session, Actor, str], tuple[Any, dict[str, Any]]]
    #: raises :class:`NotFound` when it is missing or hidden
    find: Callable[[Session, Actor, str], None]
    #: the permission that guards reading its candidates, and deciding on one
    read: Permission = Permission.READ_REQUESTS
    work: Permission = Permission.WORK_REQUESTS

    def key(self, reference: str) -> str:
        return f"{self.source}:{reference}"

    def view_entity(self, reference: str) -> str:
        """The audit entity of a view: a request by its reference, a record by its key."""
        return reference if self.view_entity_type == "tracing_request" else self.key(reference)


REQUEST = Subject(
    kind="request",
    source=FAMILY_SOURCE,
    view_action=AuditAction.TRACING_REQUEST_CANDIDATES_VIEW,
    view_entity_type="tracing_request",
    reports_only=False,
    near=_near_request,
    find=_find_request,
)
UNIDENTIFIED = Subject(
    kind="unidentified",
    source=unidentified.SOURCE,
    view_action=AuditAction.UNIDENTIFIED_CANDIDATES_VIEW,
    view_entity_type="record",
    reports_only=True,
    near=_near_unidentified,
    find=_find_unidentified,
)
#: every subject, by kind
SUBJECTS = {s.kind: s for s in (REQUEST, UNIDENTIFIED)}


# --- the flow ----------------------------------------------------------------------------------


def candidates_for(db: Session, actor: Actor, subject: Subject, reference: str) -> list[Candidate]:
    """Ranked candidates for a subject (best first); the view is audited."""
    _guard(actor, subject.read)
    found = _ranked(db, subject.near(db, actor, reference), reports_only=subject.reports_only)
    if found is None:
        raise NotFound(NOT_FOUND)
    _audit_view(db, actor, subject, reference, found)
    return found


def current_record_id(db: Session, subject: Subject, reference: str) -> int | None:
    """The row id of the subject's current record, or ``None``."""
    r = Record.__table__
    return (
        db.connection()
        .execute(
            select(r.c.id)
            .join(_SOURCE, _SOURCE.c.id == r.c.source_id)
            .where(
                _SOURCE.c.code == subject.source,
                r.c.record_id == reference,
                r.c.is_current.is_(True),
            )
        )
        .scalar()
    )


def count_for(db: Session, subject: Subject, reference: str) -> int | None:
    """How many candidates the subject has, ``None`` if it does not exist.  A count only (no
    names, no records): what a background job records of its work, not a view, so it is not
    audited; a person sees the candidates through :func:`candidates_for`."""
    rid = current_record_id(db, subject, reference)
    if rid is None:
        return None
    found = _ranked(db, (_NEAR_RECORD, {"rid": rid}), reports_only=subject.reports_only)
    return len(found) if found is not None else None


def _guard(actor: Actor, permission: Permission) -> None:
    """A subject the actor may not see answers like one that does not exist."""
    if actor.role is None or not has_permission(actor.role, permission):
        raise NotFound(NOT_FOUND)


def _subject_key(
    engine: Engine, actor: Actor, subject: Subject, reference: str, permission: Permission
) -> str:
    _guard(actor, permission)
    with Session(engine) as db:
        subject.find(db, actor, reference)
    return subject.key(reference)


def pair_for(
    db: Session, actor: Actor, subject: Subject, reference: str, other: str
) -> review.PairView:
    """The subject's record and one candidate side by side, with the waterfall; audited."""
    _guard(actor, subject.read)
    key = subject.key(reference)
    if other == key or not _is_candidate(db, actor, subject, reference, other):
        raise NotFound(NOT_FOUND)
    subject.find(db, actor, reference)
    return review.pair_for(db, actor, key, other, permission=subject.read, scored_only=False)


def _is_candidate(db: Session, actor: Actor, subject: Subject, reference: str, other: str) -> bool:
    """Is ``other`` in the subject's candidate list?  Only those are shown beside it or
    decided on: any other key answers ``not found`` like a missing record, so the candidate
    routes read no record by key (issue 18, finding 14)."""
    found = _ranked(db, subject.near(db, actor, reference), reports_only=subject.reports_only)
    return found is not None and any(c.key == other for c in found)


def decide(
    engine: Engine,
    actor: Actor,
    subject: Subject,
    reference: str,
    other: str,
    *,
    match: bool,
    reason: str,
) -> int:
    """Confirm (same person) or reject a candidate: a human link decision with who and why.

    A confirmed match moves a tracing request that is still ``registered`` to
    ``in_progress`` (audited like any change of status): the case is being worked, and the
    list no longer shows it as untouched."""
    key = _subject_key(engine, actor, subject, reference, subject.work)
    if len(other) > review.MAX_KEY or len(reason) > review.MAX_REASON:
        # the same limits as review.decide, before the candidate list is read
        raise ValueError(
            f"the reason is limited to {review.MAX_REASON} characters "
            f"and a record key to {review.MAX_KEY}"
        )
    with Session(engine) as db:
        if not _is_candidate(db, actor, subject, reference, other):
            raise NotFound(NOT_FOUND)
    decision = review.decide(
        engine,
        actor,
        key,
        other,
        match=match,
        reason=reason,
        permission=subject.work,
        scored_only=False,
    )
    if match and subject.kind == REQUEST.kind:
        with Session(engine) as db:
            request, _ = visible_request(db, actor, reference, subject.work)
            status = request.status
        if status == "registered":
            set_status(engine, actor=actor, reference=reference, status="in_progress")
    return decision
