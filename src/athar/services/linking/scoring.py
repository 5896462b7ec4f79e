"""Scoring a new subject at intake: the background job that gives a tracing request or an
unidentified person its candidates within seconds, with no command run by anyone.

The job reuses the link run of ``athar link --incremental`` (:func:`~athar.services.linking.runs.link_store`):
the new records are scored against the store with the latest full run's model and joined to
persons on its terms, and the run is recorded and audited like any other (actor: the worker).
One run scores every record that arrived since the last one, so a burst of intakes costs one
run: a job whose subject a run has already placed records its candidates without another run.
Link runs never overlap (a lock in the process, and on PostgreSQL an advisory lock across
processes).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from athar.security.auth import NotFound, has_permission
from athar.services import jobs
from athar.services.actor import WORKER, Actor
from athar.services.casework.tracing import NOT_FOUND
from athar.services.jobs import JobFailed, JobView
from athar.services.linking.candidates import SUBJECTS, Subject, count_for, current_record_id
from athar.services.linking.runs import LinkingError, link_store
from athar.store import statements as sql
from athar.store.models import PersonRecord

#: PostgreSQL advisory lock key held by a link run started by a job ("ATHLK")
LINK_LOCK = 0x4154484C4B
_LOCAL_LOCK = threading.Lock()


class NotLinkedYet(JobFailed):
    """No full link run has been made yet: an incremental run has no model to score with."""

    code = "not_linked_yet"


@contextmanager
def _one_link_run_at_a_time(engine: Engine) -> Iterator[None]:
    with _LOCAL_LOCK:
        if engine.dialect.name != "postgresql":
            yield
            return
        # a session-level lock, on a connection of its own outside any transaction
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(sql.TAKE_SESSION_LOCK, {"k": LINK_LOCK})
            try:
                yield
            finally:
                conn.execute(sql.RELEASE_SESSION_LOCK, {"k": LINK_LOCK})


def _placed(engine: Engine, rid: int) -> bool:
    """Whether a link run has already placed record ``rid`` in a person."""
    pr = PersonRecord.__table__
    with engine.connect() as conn:
        return (
            conn.execute(select(pr.c.id).where(pr.c.record_id == rid).limit(1)).first() is not None
        )


def _linked_before(engine: Engine) -> bool:
    """Whether a link run has been recorded (an incremental run scores with its model)."""
    with engine.connect() as conn:
        return conn.execute(sql.LATEST_RUN).first() is not None


def score_subject(engine: Engine, job: JobView) -> dict[str, Any]:
    """The ``score_subject`` job: place the subject's record by an incremental link run (unless
    a run has placed it already) and count its candidates."""
    subject = SUBJECTS.get(str(job.args.get("subject_kind")))
    reference = str(job.args.get("reference") or "")
    if subject is None or not reference:
        raise JobFailed(f"job {job.id}: no subject to score ({job.args!r})")
    with Session(engine) as db:
        rid = current_record_id(db, subject, reference)
    if rid is None:
        raise JobFailed(f"{subject.key(reference)}: no such record in the store")
    run: int | None = None
    with _one_link_run_at_a_time(engine):
        if not _placed(engine, rid):
            if not _linked_before(engine):
                raise NotLinkedYet(
                    "the store's records have not been linked yet, so there is nothing to "
                    "compare with: an administrator runs the first full link (athar link) once"
                )
            try:
                run = int(link_store(engine, actor=WORKER, incremental=True)["link_run"])
            except LinkingError as exc:
                raise JobFailed(str(exc)) from exc
    with Session(engine) as db:
        found = count_for(db, subject, reference)
    return {"candidates": found or 0, "link_run": run}


def scoring_job_for(db: Session, actor: Actor, subject: Subject, reference: str) -> JobView | None:
    """The latest job that sought the subject's candidates (its state for the subject's page),
    or ``None``; for an actor who may read the subject's candidates (else :class:`NotFound`,
    like a missing subject)."""
    if actor.role is None or not has_permission(actor.role, subject.read):
        raise NotFound(NOT_FOUND)
    return jobs.latest_for(db, subject.key(reference), kind=jobs.SCORE_SUBJECT)
