"""Reviewers' access to the linkage review queue: who may see it, and an audit of every view.

The queue, the explanations and the decisions themselves come from
:mod:`athar.services.linking.runs` (the one write path for link decisions); this module adds the
permission check, the side-by-side records and the audit of each view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from athar.domain.fields import pair_columns
from athar.security.auth import NotFound, Permission, require
from athar.services.actor import Actor
from athar.services.audit import AuditAction, audit_read
from athar.services.linking import runs as linking
from athar.store import statements as sql
from athar.store.models import ImportBatch, Record, Source

#: the fields shown side by side, in this order
PAIR_FIELDS: tuple[str, ...] = pair_columns()


@dataclass(frozen=True)
class QueueItem:
    a: str
    b: str
    score: float


@dataclass(frozen=True)
class SideRecord:
    key: str
    source: str
    record_id: str
    imported_at: str
    fields: dict[str, str | None]


@dataclass(frozen=True)
class PairView:
    a: SideRecord
    b: SideRecord
    #: the waterfall from the latest link run, or ``None`` before the first run
    explanation: dict[str, Any] | None


def queue_for(db: Session, actor: Actor, limit: int = 50) -> list[QueueItem]:
    require(actor.role, Permission.REVIEW)
    items = [
        QueueItem(str(i["a"]), str(i["b"]), float(i["score"]))
        for i in linking.review_queue(db, limit=limit)
    ]
    audit_read(
        db,
        actor=actor,
        action=AuditAction.REVIEW_QUEUE_VIEW,
        entity_type="link_pair",
        detail={"pairs": [[i.a, i.b] for i in items]},
    )
    return items


def _side(db: Session, key: str) -> SideRecord:
    source, sep, rid = key.partition(":")
    if not sep:
        raise NotFound("not found")
    row = db.execute(
        select(Record, Source.code, ImportBatch.imported_at)
        .join(Source, Source.id == Record.source_id)
        .join(ImportBatch, ImportBatch.id == Record.batch_id)
        .where(Source.code == source, Record.record_id == rid, Record.is_current.is_(True))
    ).first()
    if row is None:
        raise NotFound("not found")
    record, code, imported_at = row
    return SideRecord(
        key=key,
        source=code,
        record_id=record.record_id,
        imported_at=imported_at.date().isoformat() if imported_at else "",
        fields={f: getattr(record, f) for f in PAIR_FIELDS},
    )


def known_pair(conn: Connection, a: str, b: str) -> bool:
    """Is the pair of keys (``source:record_id``) named by a link decision, automatic (scored
    in a link run: the review queue is drawn from these) or human?"""
    (sa, _, ra), (sb, _, rb) = a.partition(":"), b.partition(":")
    params = {"sa": sa, "ra": ra, "sb": sb, "rb": rb}
    return conn.execute(sql.PAIR_KNOWN, params).first() is not None


def pair_for(
    db: Session,
    actor: Actor,
    a: str,
    b: str,
    permission: Permission = Permission.REVIEW,
    *,
    scored_only: bool = True,
) -> PairView:
    """Both records side by side with the model's explanation; audited.

    Only a pair a link run scored (or a person decided) is shown (``scored_only``; the
    candidate pages check their own list instead): any other pair answers ``not found``,
    exactly like a missing record, so the route reads no record by key and tells nobody
    whether a reference exists (issue 18, finding 14)."""
    require(actor.role, permission)
    if a == b or len(a) > MAX_KEY or len(b) > MAX_KEY:
        raise NotFound("not found")
    if scored_only and not known_pair(db.connection(), a, b):
        raise NotFound("not found")
    left, right = _side(db, a), _side(db, b)
    try:
        explanation: dict[str, Any] | None = linking.explain_store_pair(db, a, b)
    except linking.LinkingError:
        explanation = None  # no link run yet: the records alone
    audit_read(
        db,
        actor=actor,
        action=AuditAction.REVIEW_PAIR_VIEW,
        entity_type="link_pair",
        detail={"a": a, "b": b},
    )
    return PairView(left, right, explanation)


#: longest reason a decision may give, and longest record key (``source:record_id``)
MAX_REASON = 2000
MAX_KEY = 300


def decide(
    engine: Engine,
    actor: Actor,
    a: str,
    b: str,
    *,
    match: bool,
    reason: str,
    permission: Permission = Permission.REVIEW,
    scored_only: bool = True,
) -> int:
    """A reviewer's decision (same person or not), with why; written by the linking service.

    The reason and both keys reach the audit log, so they are length-limited here, for the
    pages and the API alike (issue 18, finding 15)."""
    require(actor.role, permission)
    if not reason.strip():
        raise ValueError("say why")
    if len(reason) > MAX_REASON:
        raise ValueError(f"the reason is longer than {MAX_REASON} characters")
    if len(a) > MAX_KEY or len(b) > MAX_KEY:
        raise ValueError(f"a record key is longer than {MAX_KEY} characters")
    if scored_only:
        with engine.connect() as conn:
            if not known_pair(conn, a, b):
                raise NotFound("not found")
    try:
        return linking.record_decision(
            engine, a, b, must_link=match, actor=actor, reason=reason.strip()
        )
    except linking.LinkingError as exc:
        if "no such record" in str(exc):
            raise NotFound("not found") from None
        raise ValueError(str(exc)) from None
