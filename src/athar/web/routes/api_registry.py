"""JSON API: importing lists (administrators, and data partners into their own list only) and
aggregate figures (researchers and staff; small cells suppressed, no names)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from athar.estimate.registry import suppress
from athar.ingest.limits import current_limits
from athar.security.auth import Permission, Role
from athar.services.casework import tracing
from athar.services.registry import statistics
from athar.services.registry.importer import ImportOptions, import_file
from athar.store.summary import summarise
from athar.web.deps import CsrfProtected, WebUser, requires
from athar.web.errors import Forbidden, InvalidInput, TooLarge, UnusableFile
from athar.web.schemas import ErrorOut

router = APIRouter(
    prefix="/api/v1",
    tags=["registry"],
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}},
)
Importer = Annotated[WebUser, Depends(requires(Permission.IMPORT_LISTS))]
Aggregates = Annotated[WebUser, Depends(requires(Permission.READ_AGGREGATES))]
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
MAX_PROBLEMS_SHOWN = 200
#: largest YAML column mapping accepted with an upload
MAX_MAPPING_BYTES = 64 * 1024


class ProblemOut(BaseModel):
    row: int | None
    column: str | None
    reason: str
    severity: str


class ImportOut(BaseModel):
    outcome: str
    file_name: str
    source: str | None
    batch_id: int | None
    rows_total: int
    rows_new: int
    rows_new_version: int
    rows_unchanged: int
    rows_duplicate: int
    rows_quarantined: int
    warnings: int
    errors: int
    message: str | None
    problems: list[ProblemOut]


def import_source_for(user: WebUser, requested: str | None) -> str | None:
    """The source an import is pinned to: a data partner's own list, whatever they ask for."""
    if user.role is Role.DATA_PARTNER:
        if not user.source_code:
            raise Forbidden("this data partner has no list of their own")
        if requested and requested != user.source_code:
            raise Forbidden(f"a data partner may import only into {user.source_code!r}")
        return user.source_code
    return requested or None


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
    source = import_source_for(user, requested if isinstance(requested, str) else None)
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
            actor=user.actor.label,
            # bounded: the limits bound each step, this the whole read (issue 18)
            time_limit=current_limits().upload_parse_seconds,
        )
        result = await run_in_threadpool(import_file, request.app.state.engine, path, opts)
    if result.outcome == "unusable":
        raise UnusableFile(result.message or "the file cannot be read")
    return ImportOut(
        outcome=result.outcome,
        file_name=name,
        source=source,
        batch_id=result.batch_id,
        rows_total=result.rows_total,
        rows_new=result.rows_new,
        rows_new_version=result.rows_new_version,
        rows_unchanged=result.rows_unchanged,
        rows_duplicate=result.rows_duplicate,
        rows_quarantined=result.rows_quarantined,
        warnings=result.warnings,
        errors=result.errors,
        message=result.message,
        problems=[
            ProblemOut(row=p.row, column=p.column, reason=p.reason, severity=p.severity)
            for p in result.problems[:MAX_PROBLEMS_SHOWN]
        ],
    )


@router.post(
    "/imports",
    response_model=ImportOut,
    status_code=201,
    dependencies=[CsrfProtected],
    responses={413: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
async def import_list(request: Request, response: Response, user: Importer) -> ImportOut:
    """Import one list (interchange CSV, XLSX or JSON) as ``multipart/form-data`` ``file``.

    Optional form fields: ``source`` (administrators: the source of rows that name none) and
    ``mapping``, a YAML column mapping (at most 64 KiB) for a list in another layout, as for
    ``athar import --mapping``.  A data partner's rows all go to their own source, whatever
    the file or the mapping says: a row naming another source (in a column, or through the
    mapping's ``source`` or ``constants``) is quarantined with the reason.  An unusable
    mapping answers 422 ``unusable_file`` naming the key, and nothing is stored.  Rows that
    fail validation are quarantined, never dropped.
    """
    result = await run_import(request, user)
    if result.outcome in ("unchanged", "already_imported"):
        response.status_code = 200
    return result


Cells = dict[str, int | None]


class PersonFiguresOut(BaseModel):
    """Documented persons (the latest link run's persons; without a run, records: ``basis``
    says which) along each dimension.  The rules for conflicting records and status claims
    are in :mod:`athar.estimate.registry`."""

    basis: str
    link_run: int | None
    persons: int | None
    notes: list[str]
    by_source: Cells
    by_overlap: Cells
    by_facility: Cells
    by_arrest_year: Cells
    by_governorate: Cells
    by_sex: Cells
    by_age_group: Cells
    by_status: Cells
    status_conflicts: Cells
    unaccounted_by_facility: Cells


class StatsOut(BaseModel):
    """Counts only; a count below ``suppressed_below`` is given as ``null`` (and, when it is
    the only one in its table, the next smallest too).  ``estimate`` is the latest recorded
    estimate run (``athar estimate`` on the store): estimates, intervals and settings, never
    recomputed here."""

    suppressed_below: int
    current_records_by_source: Cells
    status_claims: Cells
    tracing_requests_by_status: Cells
    persons: PersonFiguresOut
    estimate: dict[str, Any] | None


def compute_stats(request: Request) -> StatsOut:
    threshold = request.app.state.settings.small_cell
    with request.app.state.engine.connect() as conn:
        summary = summarise(conn)
        by_status = tracing.count_by_status(conn)
        # the person figures read every current record: computed once per change of the
        # store (and kept on this app), not once per page view
        key = (threshold, *statistics.figures_version(conn))
        cached = getattr(request.app.state, "person_figures", None)
        if cached is not None and cached[0] == key:
            persons = cached[1]
        else:
            persons = statistics.aggregate_figures(conn, threshold)
            request.app.state.person_figures = (key, persons)
        latest = statistics.latest_estimate(conn)
    if latest is not None:
        latest.pop("curves", None)
    return StatsOut(
        suppressed_below=threshold,
        current_records_by_source=suppress(
            {k: cur for k, (cur, _) in summary.records_per_source.items()},
            threshold,
            complementary=False,
        ),
        status_claims=suppress(summary.status_claims, threshold, complementary=False),
        tracing_requests_by_status=suppress(by_status, threshold, complementary=False),
        persons=PersonFiguresOut(**persons),
        estimate=latest,
    )


@router.get("/stats", response_model=StatsOut)
def stats(request: Request, user: Aggregates) -> StatsOut:
    """Aggregate figures: no names, no records, small cells suppressed."""
    return compute_stats(request)
