"""Uploaded lists imported as background jobs, with a time limit (issue 18, finding 1).

The web upload saves the file in a spool directory of its own and queues an ``import_list``
job (:func:`queue_upload`); the page answers at once.  The job (:func:`import_upload`) runs
:func:`~athar.services.registry.importer.import_file` in a child process and waits for it at
most the job's time limit (``ATHAR_IMPORT_TIME_LIMIT``).  A child past its limit is killed: its
write transaction never commits, so the store keeps nothing of the file (on PostgreSQL the
server rolls back the dead connection's transaction; on SQLite the journal does), and the job
is marked ``timed_out``.  The work runs outside the web process, so an upload cannot hold up
case work; the spool directory is removed when the job ends, whatever the outcome.

Children come from a ``forkserver`` that has already imported the importer, so a job starts in
milliseconds, and no child is forked from the threaded web process.
"""

from __future__ import annotations

import multiprocessing
import shutil
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from athar.errors import AtharError
from athar.ingest.limits import InputLimits, current_limits
from athar.security.auth import NotFound, Permission, Role, require
from athar.services import jobs
from athar.services.actor import Actor
from athar.services.jobs import JobFailed, JobTimedOut, JobView
from athar.services.registry.importer import FileResult, ImportOptions, import_file
from athar.store.engine import make_engine

#: problems kept with a job's result (every one is also in the quarantine table)
MAX_PROBLEMS_KEPT = 200

_CONTEXT: Any = None


def _context() -> Any:
    global _CONTEXT
    if _CONTEXT is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["athar.services.registry.upload_jobs"])
        _CONTEXT = ctx
    return _CONTEXT


class UnusableUpload(JobFailed):
    """The uploaded file (or its mapping) cannot be read; nothing was stored."""

    code = "unusable_file"


def _actor_args(actor: Actor) -> dict[str, Any]:
    return {
        "label": actor.label,
        "role": actor.role.value if actor.role is not None else None,
        "user_id": actor.user_id,
        "source_code": actor.source_code,
    }


def _actor_of(args: dict[str, Any]) -> Actor:
    role = args.get("role")
    return Actor(
        str(args["label"]),
        Role(role) if role else None,
        args.get("user_id"),
        args.get("source_code"),
    )


def queue_upload(
    engine: Engine,
    *,
    spool: Path,
    path: Path,
    file_name: str,
    source: str | None,
    mapping: Path | None,
    actor: Actor,
    time_limit: float,
) -> int:
    """Queue the import of an uploaded file saved at ``path`` in its own ``spool`` directory
    (removed when the job ends); return the job's id."""
    return jobs.enqueue(
        engine,
        kind=jobs.IMPORT_LIST,
        args={
            "spool": str(spool),
            "path": str(path),
            "file_name": file_name,
            "source": source,
            "mapping": str(mapping) if mapping else None,
            "actor": _actor_args(actor),
        },
        actor=actor,
        subject=None,
        time_limit=time_limit,
    )


def import_job_for(db: Session, actor: Actor, job_id: int) -> JobView:
    """An import job, for the person who uploaded the file or an administrator; any other job
    answers :class:`NotFound`, like a missing one."""
    require(actor.role, Permission.IMPORT_LISTS)
    job = jobs.get_job(db, job_id)
    if (
        job is None
        or job.kind != jobs.IMPORT_LIST
        or (actor.role is not Role.ADMIN and job.actor != actor.label)
    ):
        raise NotFound("no such import")
    return job


def summary(result: FileResult) -> dict[str, Any]:
    """What a job keeps of an import's result (JSON)."""
    return {
        "outcome": result.outcome,
        "batch_id": result.batch_id,
        "rows_total": result.rows_total,
        "rows_new": result.rows_new,
        "rows_new_version": result.rows_new_version,
        "rows_unchanged": result.rows_unchanged,
        "rows_duplicate": result.rows_duplicate,
        "rows_quarantined": result.rows_quarantined,
        "warnings": result.warnings,
        "errors": result.errors,
        "message": result.message,
        "problems": [
            {"row": p.row, "column": p.column, "reason": p.reason, "severity": p.severity}
            for p in result.problems[:MAX_PROBLEMS_KEPT]
        ],
    }


def _child(
    url: str, args: dict[str, Any], limits: InputLimits, parse_limit: float, out: Pipe
) -> None:
    """In the child process: import the file and send back what happened."""
    engine = make_engine(url)
    try:
        opts = ImportOptions(
            source=args.get("source"),
            mapping=Path(args["mapping"]) if args.get("mapping") else None,
            actor=_actor_of(args["actor"]),
            limits=limits,
            time_limit=parse_limit,
            # a tracing request's or an intake's record is never uploaded (issue 18, finding 6)
            reserved_sources=False,
        )
        result = import_file(engine, Path(args["path"]), opts)
        out.send(("ok", summary(result)))
    except AtharError as exc:
        out.send(("error", f"{exc} ({exc.code})"))
    except Exception as exc:  # reported on the job, with its type; the details stay here
        out.send(("error", f"the import stopped on an unexpected error ({type(exc).__name__})"))
    finally:
        out.close()
        engine.dispose()


def import_upload(engine: Engine, job: JobView) -> dict[str, Any]:
    """The ``import_list`` job: import the spooled file in a child process within the job's
    time limit; kill it past the limit (:class:`JobTimedOut`, nothing stored)."""
    args = job.args
    limit = job.time_limit
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    limits = current_limits()
    # the reading is bounded by the limits as before; the job's limit bounds the whole import
    parse_limit = limits.upload_parse_seconds
    url = engine.url.render_as_string(hide_password=False)
    child = ctx.Process(
        target=_child, args=(url, args, limits, parse_limit, send), name=f"athar-import-{job.id}"
    )
    try:
        child.start()
        send.close()
        if not receive.poll(limit):
            child.kill()
            child.join()
            raise JobTimedOut(
                f"the import of {args.get('file_name')} took longer than its limit of "
                f"{limit:g} s and was stopped; nothing from this file was stored"
            )
        try:
            kind, payload = receive.recv()
        except EOFError:
            child.join()
            raise JobFailed(
                f"the import of {args.get('file_name')} stopped unexpectedly "
                f"(exit code {child.exitcode}); nothing from this file was stored"
            ) from None
        child.join(60)
        if kind != "ok":
            raise JobFailed(str(payload))
        if payload["outcome"] == "unusable":
            raise UnusableUpload(payload["message"] or "the file cannot be read")
        return {"file_name": args.get("file_name"), "source": args.get("source"), **payload}
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
            child.join()
        spool = args.get("spool")
        if spool:
            shutil.rmtree(spool, ignore_errors=True)
