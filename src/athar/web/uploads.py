"""An uploaded list, received from a multipart form and stored through the importer: shared by
the import API and the import page."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from athar.ingest.limits import current_limits
from athar.security.auth import import_source_for
from athar.services.registry.importer import ImportOptions, import_file
from athar.web.deps import WebUser
from athar.web.errors import InvalidInput, TooLarge, UnusableFile
from athar.web.presenters import import_out
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


async def run_import(request: Request, user: WebUser) -> ImportOut:
    """Store the uploaded ``file`` through the importer; shared by the API and the page."""
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
    with tempfile.TemporaryDirectory(prefix="athar-import-") as tmp:
        path = Path(tmp) / name
        written = 0
        with path.open("wb") as fh:
            while chunk := await upload.read(1024 * 1024):
                written += len(chunk)
                if written > settings.import_max_bytes:
                    raise TooLarge("the file is too large")
                fh.write(chunk)
        mapping_path = None
        if isinstance(mapping_upload, UploadFile) and mapping_upload.filename:
            mapping_path = await _save_mapping(mapping_upload, Path(tmp))
        opts = ImportOptions(
            source=source,
            mapping=mapping_path,
            actor=user.actor,
            # bounded: the limits bound each step, this the whole read (issue 18)
            time_limit=current_limits().upload_parse_seconds,
            # a tracing request's or an intake's record is never uploaded (issue 18, 6)
            reserved_sources=False,
        )
        result = await run_in_threadpool(import_file, request.app.state.engine, path, opts)
    if result.outcome == "unusable":
        raise UnusableFile(result.message or "the file cannot be read")
    return import_out(result, name, source)
