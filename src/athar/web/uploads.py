"""An uploaded list, received from a multipart form and queued as an import job: shared by the
import API and the import page.

The file is saved in a spool directory of its own (the job removes it when it ends) and an
``import_list`` job is queued (:mod:`athar.services.registry.upload_jobs`); the import itself
runs in a child process within ``ATHAR_IMPORT_TIME_LIMIT`` seconds, so no upload can hold up
case work.  The page answers at once with the job's page; the API waits for the job's end.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from pathlib import Path

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from athar.security.auth import import_source_for
from athar.services import jobs
from athar.services.jobs import JobView
from athar.services.registry.upload_jobs import queue_upload
from athar.services.worker import run_job
from athar.web.deps import WebUser
from athar.web.errors import (
    ImportFailed,
    ImportTimedOut,
    InvalidInput,
    TooLarge,
    UnusableFile,
)
from athar.web.presenters import import_job_out
from athar.web.schemas import ImportOut

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
#: largest YAML column mapping accepted with an upload
MAX_MAPPING_BYTES = 64 * 1024


async def _save_mapping(upload: UploadFile, directory: Path) -> Path:
    """Write an uploaded YAML column mapping next to the list; refuse one over the size cap."""
    data = await upload.read(MAX_MAPPING_BYTES + 1)
    if len(data) > MAX_MAPPING_BYTES:
        raise TooLarge(f"the mapping file is larger than {MAX_MAPPING_BYTES // 1024} KiB")
    stem = _SAFE_NAME.sub("_", Path(upload.filename or "").stem).lstrip(".") or "mapping"
    path = directory / f"mapping-{stem}.yaml"
    path.write_bytes(data)
    return path


async def queue_import(request: Request, user: WebUser) -> int:
    """Save the uploaded ``file`` (and ``mapping``) and queue its import; return the job id."""
    settings = request.app.state.settings
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.import_max_bytes + 65536:
        raise TooLarge("the file is too large")
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("send the list as a multipart form field named 'file'")
    requested = form.get("source")
    source = import_source_for(
        user.role, user.source_code, requested if isinstance(requested, str) else None
    )
    name = _SAFE_NAME.sub("_", Path(upload.filename).name).lstrip(".") or "upload.csv"
    mapping_upload = form.get("mapping")
    spool = Path(tempfile.mkdtemp(prefix="athar-import-"))
    try:
        path = spool / name
        written = 0
        with path.open("wb") as fh:
            while chunk := await upload.read(1024 * 1024):
                written += len(chunk)
                if written > settings.import_max_bytes:
                    raise TooLarge("the file is too large")
                fh.write(chunk)
        mapping_path = None
        if isinstance(mapping_upload, UploadFile) and mapping_upload.filename:
            mapping_path = await _save_mapping(mapping_upload, spool)
        return await run_in_threadpool(
            lambda: queue_upload(
                request.app.state.engine,
                spool=spool,
                path=path,
                file_name=name,
                source=source,
                mapping=mapping_path,
                actor=user.actor,
                time_limit=float(settings.import_time_limit),
            )
        )
    except BaseException:
        shutil.rmtree(spool, ignore_errors=True)
        raise


def start_job(request: Request, job_id: int) -> None:
    """Run the job in this process now (a thread of its own), unless a worker took it first."""
    run_job(request.app.state.engine, job_id)


async def wait_for_job(request: Request, job_id: int) -> JobView:
    """Run the job in a worker thread of this process (unless a worker took it first) and
    wait for its end, reading its state from the store."""
    engine = request.app.state.engine
    await run_in_threadpool(run_job, engine, job_id)
    while True:
        job = await run_in_threadpool(_read_job, request, job_id)
        if job is not None and job.done:
            return job
        await asyncio.sleep(0.5)


def _read_job(request: Request, job_id: int) -> JobView | None:
    with request.app.state.sessionmaker() as db:
        return jobs.get_job(db, job_id)


async def run_import(request: Request, user: WebUser) -> ImportOut:
    """Queue the upload's import, wait for the job and return its result (the API)."""
    job = await wait_for_job(request, await queue_import(request, user))
    if job.state == jobs.FAILED and (job.result or {}).get("code") == "unusable_file":
        raise UnusableFile(job.message or "the file cannot be read")
    if job.state == jobs.TIMED_OUT:
        raise ImportTimedOut(job.message or "the import took too long and was stopped")
    if job.state != jobs.SUCCEEDED:
        raise ImportFailed(job.message or "the import failed")
    return import_job_out(job)
