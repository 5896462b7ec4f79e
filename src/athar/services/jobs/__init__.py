"""Background jobs: the queue in the store, the state of every job, and the worker.

One API on both backends.  A job is a ``job`` row (:class:`athar.store.models.Job`): queued by
:func:`enqueue` (its own audited transaction) or :func:`queue_in` (inside the caller's write, so
a registration and the job that scores it commit together or not at all); claimed by a worker
(:func:`run_one`, :class:`Worker`) in a write transaction that marks it ``running`` (on
PostgreSQL the oldest queued row is taken ``FOR UPDATE SKIP LOCKED``, so several workers never
take the same job; on SQLite the write lock does the same); and finished as ``succeeded``,
``failed`` (with a message a person can read) or ``timed_out``.  Every state change is audited
(actor: :data:`athar.services.actor.WORKER` for the worker).

What a job does is a *handler*, ``handler(engine, job) -> result``, given to the worker by kind
(:mod:`athar.services.worker` holds the table); this wing knows no handler, so every wing may
queue a job.  A page reads a job's state from the store (:func:`latest_for`, :func:`get_job`),
the same way on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, insert, select, update
from sqlalchemy.orm import Session

from athar.errors import AtharError, Failed
from athar.services.actor import WORKER, Actor
from athar.services.audit import AuditAction, append_event
from athar.store.engine import begin_write
from athar.store.models import Job

log = logging.getLogger(__name__)

QUEUED, RUNNING, SUCCEEDED, FAILED, TIMED_OUT = (
    "queued",
    "running",
    "succeeded",
    "failed",
    "timed_out",
)
STATES = (QUEUED, RUNNING, SUCCEEDED, FAILED, TIMED_OUT)
#: states a job ends in
DONE = frozenset({SUCCEEDED, FAILED, TIMED_OUT})

#: kinds of job (the handlers are in :mod:`athar.services.worker`)
SCORE_SUBJECT = "score_subject"
IMPORT_LIST = "import_list"
KINDS = (SCORE_SUBJECT, IMPORT_LIST)

_JOB: Table = Job.__table__  # type: ignore[assignment]


class JobFailed(Failed):
    """A job could not do its work; the message says why, for the person who reads it."""

    code = "job_failed"


class JobTimedOut(Failed):
    """A job ran past its time limit and was stopped; nothing it was writing was kept."""

    code = "job_timed_out"


class UnknownJobKind(Failed):
    """A job of a kind that no handler runs (a programming error, reported on the job)."""

    code = "job_kind_unknown"


@dataclass(frozen=True)
class JobView:
    """One job as a page or a command shows it."""

    id: int
    kind: str
    state: str
    subject: str | None
    args: dict[str, Any]
    result: dict[str, Any] | None
    message: str | None
    actor: str
    time_limit: float | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def done(self) -> bool:
        return self.state in DONE


Handler = Callable[[Engine, JobView], dict[str, Any]]


def _view(row: Any) -> JobView:
    return JobView(
        id=int(row.id),
        kind=row.kind,
        state=row.state,
        subject=row.subject,
        args=dict(row.args or {}),
        result=dict(row.result) if row.result is not None else None,
        message=row.message,
        actor=row.actor,
        time_limit=row.time_limit,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise UnknownJobKind(f"no such kind of job: {kind!r}")


def queue_in(
    conn: Connection,
    *,
    kind: str,
    args: Mapping[str, Any],
    actor: Actor,
    subject: str | None = None,
    time_limit: float | None = None,
) -> int:
    """Queue a job inside the caller's write transaction (a step of that write, like
    :func:`athar.services.audit.append_event`): the job exists if and only if the caller's
    write commits.  The caller's own audit event names the job (its id is returned)."""
    _check_kind(kind)
    job_id = conn.execute(
        insert(_JOB)
        .values(
            kind=kind,
            state=QUEUED,
            subject=subject,
            args=dict(args),
            actor=actor.label,
            time_limit=time_limit,
            created_at=datetime.now(UTC),
        )
        .returning(_JOB.c.id)
    ).scalar_one()
    return int(job_id)


def enqueue(
    engine: Engine,
    *,
    kind: str,
    args: Mapping[str, Any],
    actor: Actor,
    subject: str | None = None,
    time_limit: float | None = None,
) -> int:
    """Queue a job in its own transaction, audited; return its id."""
    with begin_write(engine) as conn:
        job_id = queue_in(
            conn, kind=kind, args=args, actor=actor, subject=subject, time_limit=time_limit
        )
        append_event(
            conn,
            actor=actor.label,
            action=AuditAction.JOB_QUEUE,
            entity_type="job",
            entity_id=job_id,
            detail={"kind": kind, "subject": subject, "time_limit": time_limit},
        )
    return job_id


# --- reading -----------------------------------------------------------------------------------


def get_job(db: Session, job_id: int) -> JobView | None:
    row = db.connection().execute(select(_JOB).where(_JOB.c.id == job_id)).one_or_none()
    return _view(row) if row is not None else None


def latest_for(db: Session, subject: str, kind: str | None = None) -> JobView | None:
    """The latest job about ``subject`` (of ``kind``, if given), or ``None``."""
    query = select(_JOB).where(_JOB.c.subject == subject)
    if kind is not None:
        query = query.where(_JOB.c.kind == kind)
    row = db.connection().execute(query.order_by(_JOB.c.id.desc()).limit(1)).one_or_none()
    return _view(row) if row is not None else None


def recent_jobs(db: Session, limit: int = 50, state: str | None = None) -> list[JobView]:
    query = select(_JOB)
    if state is not None:
        query = query.where(_JOB.c.state == state)
    rows = db.connection().execute(query.order_by(_JOB.c.id.desc()).limit(limit)).all()
    return [_view(r) for r in rows]


def count_by_state(db: Session) -> dict[str, int]:
    rows = db.connection().execute(select(_JOB.c.state, func.count()).group_by(_JOB.c.state))
    return {state: int(n) for state, n in rows}


# --- running -----------------------------------------------------------------------------------


def claim(engine: Engine, *, job_id: int | None = None, actor: Actor = WORKER) -> JobView | None:
    """Mark the oldest queued job (or job ``job_id``, if still queued) ``running`` and return
    it; ``None`` when there is none.  Audited."""
    with begin_write(engine) as conn:
        query = select(_JOB).where(_JOB.c.state == QUEUED)
        if job_id is not None:
            query = query.where(_JOB.c.id == job_id)
        row = conn.execute(
            query.order_by(_JOB.c.id).limit(1).with_for_update(skip_locked=True)
        ).one_or_none()
        if row is None:
            return None
        now = datetime.now(UTC)
        conn.execute(update(_JOB).where(_JOB.c.id == row.id).values(state=RUNNING, started_at=now))
        append_event(
            conn,
            actor=actor.label,
            action=AuditAction.JOB_START,
            entity_type="job",
            entity_id=int(row.id),
            detail={"kind": row.kind, "subject": row.subject},
        )
        claimed = conn.execute(select(_JOB).where(_JOB.c.id == row.id)).one()
    return _view(claimed)


def finish(
    engine: Engine,
    job_id: int,
    *,
    state: str,
    result: Mapping[str, Any] | None = None,
    message: str | None = None,
    actor: Actor = WORKER,
) -> None:
    """Record how a running job ended (``succeeded``, ``failed`` or ``timed_out``); audited."""
    if state not in DONE:
        raise ValueError(f"a job ends succeeded, failed or timed_out, not {state!r}")
    with begin_write(engine) as conn:
        conn.execute(
            update(_JOB)
            .where(_JOB.c.id == job_id)
            .values(
                state=state,
                result=dict(result) if result is not None else None,
                message=message,
                finished_at=datetime.now(UTC),
            )
        )
        append_event(
            conn,
            actor=actor.label,
            action=AuditAction.JOB_FINISH,
            entity_type="job",
            entity_id=job_id,
            detail={"state": state, "message": message},
        )


def run_one(
    engine: Engine,
    handlers: Mapping[str, Handler],
    *,
    job_id: int | None = None,
    actor: Actor = WORKER,
) -> JobView | None:
    """Claim one queued job (``job_id``, or the oldest), run its handler and record the end;
    return the claimed job, or ``None`` when none was queued.

    A handler's :class:`JobTimedOut` marks the job ``timed_out``; any :class:`AtharError`
    marks it ``failed`` with the error's message; an unexpected exception marks it
    ``failed`` with its type only (the details go to the log, not to a page).
    """
    job = claim(engine, job_id=job_id, actor=actor)
    if job is None:
        return None
    try:
        handler = handlers.get(job.kind)
        if handler is None:
            raise UnknownJobKind(f"no handler runs jobs of kind {job.kind!r}")
        result = handler(engine, job)
    except JobTimedOut as exc:
        finish(engine, job.id, state=TIMED_OUT, message=str(exc), actor=actor)
    except AtharError as exc:
        finish(
            engine,
            job.id,
            state=FAILED,
            result={"code": exc.code},
            message=str(exc),
            actor=actor,
        )
    except Exception as exc:
        log.exception("job %s (%s) failed", job.id, job.kind)
        finish(
            engine,
            job.id,
            state=FAILED,
            result={"code": "internal_error"},
            message=f"internal error ({type(exc).__name__}); see the server's log",
            actor=actor,
        )
    else:
        finish(engine, job.id, state=SUCCEEDED, result=result, actor=actor)
    return job


class Worker:
    """Runs queued jobs one after another in a thread until stopped.

    It polls the store every ``poll_seconds`` when the queue is empty; :meth:`wake` makes it
    look at once (the web app calls it after queuing a job in the same process).
    """

    def __init__(
        self,
        engine: Engine,
        handlers: Mapping[str, Handler],
        *,
        poll_seconds: float = 1.0,
        actor: Actor = WORKER,
    ) -> None:
        self.engine = engine
        self.handlers = dict(handlers)
        self.poll_seconds = poll_seconds
        self.actor = actor
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Worker:
        self._thread = threading.Thread(target=self.run, name="athar-jobs", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float | None = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """The loop (in the caller's thread): run jobs until :meth:`stop`."""
        while not self._stop.is_set():
            try:
                ran = run_one(self.engine, self.handlers, actor=self.actor)
            except Exception:  # the store is unreachable: log, wait, try again
                log.exception("the job worker could not reach the store")
                ran = None
            if ran is None:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
