"""The tamper-evident audit log: append events to a hash chain, and verify the chain.

Each event carries a sequence number, a timestamp, the actor, the action, the entity it is
about, a JSON detail, the previous event's hash and its own hash: SHA-256 over a canonical
serialisation of all those fields (including ``prev_hash``).  Editing, deleting or reordering
any stored event breaks the chain where it happened, and :func:`verify_chain` names that
sequence number.

Appending is safe with concurrent writers: the single ``audit_head`` row is updated first
(``UPDATE ... RETURNING``), which takes its row lock on PostgreSQL (SQLite serialises writers
anyway), so sequence numbers are contiguous and each event links to its true predecessor.
Call :func:`append_event` late in a transaction: the head stays locked until commit.

Application code never updates or deletes ``audit_event`` rows.  The chain makes tampering
evident, not impossible: someone with write access can rewrite the whole chain, so operators
should record the head hash (``athar audit verify`` prints it) somewhere else from time to time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, select, text

from athar.store.models import AuditEvent

GENESIS_HASH = "0" * 64
AUDIT = cast(Table, AuditEvent.__table__)


def canonical(fields: dict[str, Any]) -> bytes:
    """The exact bytes an event's hash is computed over."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def event_hash(
    seq: int,
    ts: str,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | None,
    detail: str,
    prev_hash: str,
) -> str:
    return hashlib.sha256(
        canonical(
            {
                "seq": seq,
                "ts": ts,
                "actor": actor,
                "action": action,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "detail": detail,
                "prev_hash": prev_hash,
            }
        )
    ).hexdigest()


def append_event(
    conn: Connection,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Append one event inside the caller's transaction; return its sequence number."""
    row = conn.execute(
        text("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
    ).one()
    seq, prev = int(row[0]), str(row[1])
    ts = datetime.now(UTC).isoformat(timespec="microseconds")
    detail_json = canonical(detail or {}).decode("utf-8")
    eid = None if entity_id is None else str(entity_id)
    h = event_hash(seq, ts, actor, action, entity_type, eid, detail_json, prev)
    conn.execute(
        AUDIT.insert().values(
            seq=seq,
            ts=ts,
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=eid,
            detail=detail_json,
            prev_hash=prev,
            hash=h,
        )
    )
    conn.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": h})
    return seq


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    kind: str  # edited | deleted | reordered | truncated
    message: str


@dataclass(frozen=True)
class VerifyResult:
    events: int
    head_seq: int
    head_hash: str
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _events(conn: Connection) -> Iterator[Any]:
    t = AUDIT
    yield from conn.execute(select(t).order_by(t.c.seq)).yield_per(1000)


def verify_chain(conn: Connection) -> VerifyResult:
    """Walk the chain in sequence order and report the first event that was tampered with."""
    rows = list(_events(conn))
    head = conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).one()
    head_seq, head_hash = int(head[0]), str(head[1])
    position = {r.hash: r.seq for r in rows}
    prev_hash, expected = GENESIS_HASH, 1

    def fail(seq: int, kind: str, msg: str) -> VerifyResult:
        return VerifyResult(len(rows), head_seq, head_hash, ChainProblem(seq, kind, msg))

    for r in rows:
        if r.seq != expected:
            if r.seq > expected:
                gap = f"{expected}" if r.seq == expected + 1 else f"{expected}..{r.seq - 1}"
                return fail(expected, "deleted", f"event {gap} is missing (deleted)")
            return fail(r.seq, "reordered", f"event {r.seq} appears twice or out of order")
        if r.prev_hash != prev_hash:
            linked = position.get(r.prev_hash)
            if linked is not None and linked != r.seq - 1:
                return fail(
                    r.seq,
                    "reordered",
                    f"event {r.seq} follows event {linked} in the chain: events were reordered",
                )
            return fail(
                r.seq - 1 if r.seq > 1 else r.seq,
                "edited",
                f"event {r.seq} does not link to event {r.seq - 1}: "
                f"event {r.seq - 1} was edited or replaced",
            )
        h = event_hash(
            r.seq, r.ts, r.actor, r.action, r.entity_type, r.entity_id, r.detail, r.prev_hash
        )
        if h != r.hash:
            # Swapped sequence numbers also change the hashed content; name that case.
            later = [
                s
                for s in (r.seq - 1, r.seq + 1)
                if s >= 1
                and event_hash(
                    s, r.ts, r.actor, r.action, r.entity_type, r.entity_id, r.detail, r.prev_hash
                )
                == r.hash
            ]
            if later:
                return fail(
                    r.seq, "reordered", f"event {r.seq} was written as event {later[0]}: reordered"
                )
            return fail(r.seq, "edited", f"event {r.seq} was edited (its hash does not match)")
        prev_hash, expected = r.hash, r.seq + 1
    last = expected - 1
    if head_seq > last:
        return fail(last + 1, "deleted", f"events {last + 1}..{head_seq} are missing (deleted)")
    if head_seq != last or head_hash != prev_hash:
        return fail(last, "edited", "the chain head does not match the last event")
    return VerifyResult(len(rows), head_seq, head_hash, None)
