"""The job worker's table of handlers: which service runs each kind of job.

The queue (:mod:`athar.services.jobs`) knows no handler, so that every wing may queue a job;
this module, above every wing, joins each kind to the service that does the work.
``athar serve`` starts a :class:`~athar.services.jobs.Worker` with :data:`HANDLERS` (and
``athar jobs work`` runs one on its own).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Engine

from athar.services import jobs
from athar.services.jobs import Handler, JobView
from athar.services.linking.scoring import score_subject
from athar.services.registry.upload_jobs import import_upload

#: every kind of job, and the service that runs it
HANDLERS: Mapping[str, Handler] = {
    jobs.SCORE_SUBJECT: score_subject,
    jobs.IMPORT_LIST: import_upload,
}


def worker(engine: Engine, *, poll_seconds: float = 1.0) -> jobs.Worker:
    """A worker for every kind of job (not started)."""
    return jobs.Worker(engine, HANDLERS, poll_seconds=poll_seconds)


def run_job(engine: Engine, job_id: int) -> JobView | None:
    """Run job ``job_id`` now in this thread, if it is still queued (``None`` if not)."""
    return jobs.run_one(engine, HANDLERS, job_id=job_id)


def run_queued(engine: Engine) -> int:
    """Run queued jobs until none is left; return how many ran."""
    n = 0
    while jobs.run_one(engine, HANDLERS) is not None:
        n += 1
    return n
