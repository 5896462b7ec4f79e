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

Reads are audited too (every view of a person, a request or a candidate list), and under load
those events would queue one by one on the head's row lock.  :func:`append_read` therefore
*group-commits*: concurrent callers' events are written by whichever of them finds the log
free, in one transaction, and every caller returns only after its own event is committed, so
nothing is shown before its view is on record.

Application code never updates or deletes ``audit_event`` rows.  The chain makes tampering
evident, not impossible: someone with write access can rewrite the whole chain, so operators
should record the head hash (``athar audit verify`` prints it) somewhere else from time to time.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, select
from sqlalchemy.orm import Session

from athar.services.actor import Actor
from athar.store import statements as sql
from athar.store.engine import begin_write
from athar.store.models import AuditEvent

GENESIS_HASH = "0" * 64
AUDIT = cast(Table, AuditEvent.__table__)


class AuditAction(StrEnum):
    """Every action the audit log records, declared once.

    The value is the string stored in ``audit_event.action`` and hashed into the chain:
    never change one (events already written keep theirs, and readers look them up by it).
    ``tests/test_audit_actions.py`` checks that the code uses every member and passes no
    action that is not one.
    """

    # access
    USER_CREATE = "user.create"
    USER_ENABLE = "user.enable"
    USER_DISABLE = "user.disable"
    USER_RESET_PASSWORD = "user.reset_password"
    LOGIN_SUCCESS = "login.success"
    LOGIN_FAILURE = "login.failure"
    LOGIN_LOCKED = "login.locked"
    LOGIN_RATE_LIMITED = "login.rate_limited"
    LOGOUT = "logout"
    # registry
    IMPORT_BATCH = "import.batch"
    PERSON_VIEW = "person.view"
    VOCAB_FACILITIES_SYNC = "vocab.facilities.sync"
    SOURCE_PFIF_DEATH_AUTHORISE = "source.pfif_death_authorise"
    ESTIMATE_RUN = "estimate.run"
    FIGURES_SNAPSHOT = "figures.snapshot"
    # linking
    LINK_RUN = "link.run"
    LINK_MUST_LINK = "link.must_link"
    LINK_CANNOT_LINK = "link.cannot_link"
    REVIEW_QUEUE_VIEW = "review.queue_view"
    REVIEW_PAIR_VIEW = "review.pair_view"
    # casework
    TRACING_REQUEST_CREATE = "tracing_request.create"
    TRACING_REQUEST_LIST = "tracing_request.list"
    TRACING_REQUEST_VIEW = "tracing_request.view"
    TRACING_REQUEST_CONTACT_VIEW = "tracing_request.contact_view"
    TRACING_REQUEST_CONTACT_REFUSED = "tracing_request.contact_refused"
    TRACING_REQUEST_PHOTO_VIEW = "tracing_request.photo_view"
    TRACING_REQUEST_STATUS = "tracing_request.status"
    TRACING_REQUEST_CONSENT = "tracing_request.consent"
    TRACING_REQUEST_NOTE_ADD = "tracing_request.note_add"
    TRACING_REQUEST_NOTES_VIEW = "tracing_request.notes_view"
    TRACING_REQUEST_NOTIFICATIONS_VIEW = "tracing_request.notifications_view"
    TRACING_REQUEST_HISTORY_VIEW = "tracing_request.history_view"
    TRACING_REQUEST_FAMILY_INFORMED = "tracing_request.family_informed"
    TRACING_REQUEST_CANDIDATES_VIEW = "tracing_request.candidates_view"
    TRACING_REQUEST_SPAM = "tracing_request.spam"
    TRACING_REQUEST_NOT_SPAM = "tracing_request.not_spam"
    UNIDENTIFIED_CREATE = "unidentified.create"
    UNIDENTIFIED_LIST = "unidentified.list"
    UNIDENTIFIED_VIEW = "unidentified.view"
    UNIDENTIFIED_CANDIDATES_VIEW = "unidentified.candidates_view"
    ANTEMORTEM_CREATE = "antemortem.create"
    ANTEMORTEM_VIEW = "antemortem.view"
    ODK_IMPORT = "odk.import"
    # sharing
    EXPORT_PARTNER = "export.partner"
    EXPORT_RESEARCH = "export.research"
    EXPORT_PFIF = "export.pfif"
    EXPORT_PFIF_FEED = "export.pfif_feed"
    API_KEY_CREATE = "api_key.create"
    API_KEY_REVOKE = "api_key.revoke"
    # safekeeping
    STORE_BACKUP = "store.backup"
    STORE_RESTORE = "store.restore"
    KEYS_REENCRYPT_START = "keys.reencrypt.start"
    KEYS_REENCRYPT_DONE = "keys.reencrypt.done"
    # jobs
    JOB_QUEUE = "job.queue"
    JOB_START = "job.start"
    JOB_FINISH = "job.finish"


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


# built once: composing them on every append cost more than running them (py-spy)
_BUMP_HEAD = sql.BUMP_AUDIT_HEAD
_INSERT_EVENT = AUDIT.insert()
_SET_HEAD_HASH = sql.SET_AUDIT_HEAD_HASH


def _event_row(
    seq: int,
    prev: str,
    *,
    actor: str,
    action: AuditAction,
    entity_type: str,
    entity_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The stored columns of event ``seq`` that follows the event whose hash is ``prev``."""
    name = str(action)  # the plain string, exactly as stored and hashed
    ts = datetime.now(UTC).isoformat(timespec="microseconds")
    detail_json = canonical(detail or {}).decode("utf-8")
    eid = None if entity_id is None else str(entity_id)
    return {
        "seq": seq,
        "ts": ts,
        "actor": actor,
        "action": name,
        "entity_type": entity_type,
        "entity_id": eid,
        "detail": detail_json,
        "prev_hash": prev,
        "hash": event_hash(seq, ts, actor, name, entity_type, eid, detail_json, prev),
    }


def append_event(
    conn: Connection,
    *,
    actor: str,
    action: AuditAction,
    entity_type: str,
    entity_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Append one event inside the caller's transaction; return its sequence number."""
    row = conn.execute(_BUMP_HEAD).one()
    event = _event_row(
        int(row[0]),
        str(row[1]),
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        detail=detail,
    )
    conn.execute(_INSERT_EVENT, event)
    conn.execute(_SET_HEAD_HASH, {"h": event["hash"]})
    return int(event["seq"])


def append_events(conn: Connection, events: list[dict[str, Any]]) -> list[int]:
    """Append several events (each the keyword arguments of :func:`append_event`) inside the
    caller's transaction; return their sequence numbers.

    The statements are those of :func:`append_event`, one event after another, so the
    append-only triggers check each step.  On PostgreSQL only the first step waits for an
    answer: once the head is locked and read, every later sequence number and hash is known,
    and the rest goes in one psycopg pipeline (one round trip instead of three per event).
    The head stays locked until commit, so a batch written this way costs other writers one
    round trip, not three per event.
    """
    if conn.dialect.name != "postgresql" or len(events) < 2:
        return [append_event(conn, **e) for e in events]
    head = conn.execute(_BUMP_HEAD).one()
    seq, prev = int(head[0]), str(head[1])
    rows = []
    for i, e in enumerate(events):
        rows.append(_event_row(seq + i, prev, **e))
        prev = rows[-1]["hash"]
    raw: Any = conn.connection.dbapi_connection
    with raw.pipeline(), raw.cursor() as cur:
        for i, row in enumerate(rows):
            if i:
                cur.execute(sql.PG_BUMP_AUDIT_HEAD)
            cur.execute(sql.PG_INSERT_AUDIT_EVENT, row)
            cur.execute(sql.PG_SET_AUDIT_HEAD_HASH, row)
    return [int(r["seq"]) for r in rows]


@dataclass
class _Pending:
    """One caller's event waiting in a :class:`GroupAppender`."""

    fields: dict[str, Any]
    wake: threading.Event = field(default_factory=threading.Event)
    seq: int | None = None
    error: BaseException | None = None
    done: bool = False


class GroupAppender:
    """Group commit of audit events for one engine (see the module's docstring).

    A caller queues its event.  If no one is writing, it becomes the writer: it takes what is
    queued (its own event included) and appends it in one transaction.  Callers arriving
    meanwhile sleep on their own event.  After each commit the writer wakes the callers it
    wrote, then hands the writing on to the oldest caller still queued (or, with an empty queue,
    lets the next caller take it).  There is no background thread, and no broadcast wake-up:
    with 40 request threads, waking them all after every commit cost a sixth of the server's
    time (py-spy).  If a batch fails, every caller in it gets the error, and nothing of that
    batch is in the log (it was one transaction).
    """

    def __init__(self, engine: Engine, max_batch: int = 500) -> None:
        # a weak reference: the appenders are kept per engine in a WeakKeyDictionary, whose
        # entries would never go if the value held its key
        self._engine = weakref.ref(engine)
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._writing = False
        #: batches written and events in them (for tests and the load benchmark's report)
        self.batches = 0
        self.events = 0

    def append(
        self,
        *,
        actor: str,
        action: AuditAction,
        entity_type: str,
        entity_id: str | int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Append one event and wait until it is committed; return its sequence number."""
        item = _Pending(
            {
                "actor": actor,
                "action": action,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "detail": detail,
            }
        )
        with self._lock:
            self._queue.append(item)
            leader = not self._writing
            self._writing = True
        if not leader:
            item.wake.wait()  # woken when written, or when handed the writing
        while not item.done:
            with self._lock:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
            try:
                self._write(batch)
            finally:
                with self._lock:
                    if item.done or not self._queue:
                        nxt = self._queue[0] if self._queue else None
                        self._writing = nxt is not None
                        if nxt is not None:
                            nxt.wake.set()  # not done: it writes the next batch
        if item.error is not None:
            raise item.error
        assert item.seq is not None
        return item.seq

    def _write(self, batch: list[_Pending]) -> None:
        """Append ``batch`` in one transaction; mark each event written or failed, and wake
        its callers."""
        try:
            engine = self._engine()
            if engine is None:
                raise RuntimeError("the audit log's engine is gone")
            with begin_write(engine) as conn:
                seqs = append_events(conn, [p.fields for p in batch])
        except BaseException as exc:  # every waiter must be released, whatever went wrong
            for p in batch:
                p.error, p.done = exc, True
                p.wake.set()
            if not isinstance(exc, Exception):
                raise
            return
        for p, seq in zip(batch, seqs, strict=True):
            p.seq, p.done = seq, True
            p.wake.set()
        self.batches += 1
        self.events += len(batch)


_APPENDERS: weakref.WeakKeyDictionary[Engine, GroupAppender] = weakref.WeakKeyDictionary()
_APPENDERS_LOCK = threading.Lock()


def appender(engine: Engine) -> GroupAppender:
    """The engine's group appender (one per engine, made on first use)."""
    with _APPENDERS_LOCK:
        found = _APPENDERS.get(engine)
        if found is None:
            found = _APPENDERS[engine] = GroupAppender(engine)
        return found


def append_read(
    engine: Engine,
    *,
    actor: str,
    action: AuditAction,
    entity_type: str,
    entity_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Audit a read in its own transaction, group-committed with concurrent reads; returns once
    the event is committed.  For views that write nothing else: a write's event belongs in the
    write's own transaction (:func:`append_event`)."""
    return appender(engine).append(
        actor=actor, action=action, entity_type=entity_type, entity_id=entity_id, detail=detail
    )


def audit_read(
    db: Session,
    *,
    actor: Actor,
    action: AuditAction,
    entity_type: str,
    entity_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Audit a sensitive read made with ``db``, committed before the caller answers.

    The reads' transaction ends first (nothing was written: the session's objects expire,
    so build what you return before calling this), and the event is appended on the
    session's engine by :func:`append_read`, in its own group-committed transaction."""
    db.rollback()
    bind = db.get_bind()
    return append_read(
        bind if isinstance(bind, Engine) else bind.engine,
        actor=actor.label,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        detail=detail,
    )


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
    head = conn.execute(sql.AUDIT_HEAD).one()
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


#: a refusal (a contact read refused, a login past the address's budget) is recorded at most
#: once per this many seconds per store, action and key; the next recorded one counts those
#: left out (``"refusals_not_recorded"``), so a flood cannot pad the log (issue 18, finding 16)
REFUSAL_AUDIT_INTERVAL_S = 60.0


class RefusalThrottle:
    """Which refusals to record: the first per key in each interval.  Per process and
    bounded (the oldest keys are forgotten past ``max_keys``)."""

    def __init__(self, interval_s: float = REFUSAL_AUDIT_INTERVAL_S, max_keys: int = 10_000):
        self.interval = interval_s
        self.max_keys = max_keys
        self._last: dict[str, tuple[float, int]] = {}  # key -> (recorded at, left out since)
        self._lock = threading.Lock()

    def admit(self, key: str, now: float | None = None) -> int | None:
        """The number of refusals left out since the last recorded one if this one is to be
        recorded; ``None`` when it is to be left out."""
        import time

        at = time.monotonic() if now is None else now
        with self._lock:
            last = self._last.get(key)
            if last is not None and at - last[0] < self.interval:
                self._last[key] = (last[0], last[1] + 1)
                return None
            self._last.pop(key, None)
            if len(self._last) >= self.max_keys:
                del self._last[next(iter(self._last))]
            self._last[key] = (at, 0)
            return last[1] if last is not None else 0


REFUSALS = RefusalThrottle()


def audit_refusal(
    engine: Engine,
    *,
    actor: str,
    action: AuditAction,
    entity_type: str,
    entity_id: str | None = None,
    detail: dict[str, Any] | None = None,
    throttle: RefusalThrottle | None = None,
) -> bool:
    """Record a refused request, rate-limited per store, action and actor; returns whether
    it was recorded.  ``entity_id`` and the detail's text values are cut to 200 characters:
    what a caller sent is never stored whole."""
    throttle = throttle or REFUSALS
    left_out = throttle.admit(f"{engine.url!r}|{action.value}|{actor}")
    if left_out is None:
        return False
    clipped = {k: (v[:200] if isinstance(v, str) else v) for k, v in (detail or {}).items()} | {
        "refusals_not_recorded": left_out
    }
    append_read(
        engine,
        actor=actor[:200],
        action=action,
        entity_type=entity_type,
        entity_id=entity_id[:200] if entity_id is not None else None,
        detail=clipped,
    )
    return True
