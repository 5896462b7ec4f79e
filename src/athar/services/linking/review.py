"""Reviewers' access to the linkage review queue: who may see it, and an audit of every view.

The queue, the explanations and the decisions themselves come from
:mod:`athar.services.linking.runs` (the one write path for link decisions); this module adds the
permission check, the side-by-side records and the audit of each view.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
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


class ExplanationCache:
    """Pair explanations (1.45 s of CPU each on a large store) kept per process, bounded, the
    least recently used dropped first.  The key is the store, the link run whose model
    explains, and the two records' current versions: a new run or a new version of either
    record is a new key, so nothing stale is shown (issue 18, finding 10)."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, int, int, int], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def resize(self, size: int) -> None:
        with self._lock:
            self.size = size
            while len(self._items) > max(size, 0):
                self._items.popitem(last=False)

    def get(self, key: tuple[str, int, int, int]) -> dict[str, Any] | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: tuple[str, int, int, int], value: dict[str, Any]) -> None:
        with self._lock:
            if self.size <= 0:
                return
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


#: the process's explanations (the web app sizes it from ``ATHAR_EXPLAIN_CACHE_SIZE``)
EXPLANATIONS = ExplanationCache()


def _explanation(db: Session, a: str, b: str, ids: tuple[int, int]) -> dict[str, Any] | None:
    """The waterfall of the latest link run's model for the pair, from the cache when it was
    computed for the same run and record versions; ``None`` before the first run."""
    run = db.connection().execute(sql.LATEST_MODEL_RUN).scalar()
    if run is None:
        return None
    bind = db.get_bind()
    key = (repr(bind.engine.url), int(run), ids[0], ids[1])
    found = EXPLANATIONS.get(key)
    if found is None:
        try:
            found = linking.explain_store_pair(db, a, b)
        except linking.LinkingError:
            return None
        EXPLANATIONS.put(key, found)
    return copy.deepcopy(found)


def _side_row(db: Session, key: str) -> tuple[SideRecord, int]:
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
    side = SideRecord(
        key=key,
        source=code,
        record_id=record.record_id,
        imported_at=imported_at.date().isoformat() if imported_at else "",
        fields={f: getattr(record, f) for f in PAIR_FIELDS},
    )
    return side, int(record.id)


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
    (left, left_id), (right, right_id) = _side_row(db, a), _side_row(db, b)
    explanation = _explanation(db, a, b, (left_id, right_id))  # None: the records alone
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
