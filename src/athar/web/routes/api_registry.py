"""JSON API: importing lists (administrators, and data partners into their own list only) and
aggregate figures (researchers and staff; small cells suppressed, no names)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from athar.security.auth import Permission
from athar.web.deps import CsrfProtected, SessionDep, WebUser, requires
from athar.web.presenters import stats_for
from athar.web.ratelimit import COSTLY, limited
from athar.web.schemas import ErrorOut, ImportOut, StatsOut
from athar.web.uploads import run_import

router = APIRouter(
    prefix="/api/v1",
    tags=["registry"],
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}},
)
Importer = Annotated[WebUser, Depends(requires(Permission.IMPORT_LISTS))]
Aggregates = Annotated[WebUser, Depends(requires(Permission.READ_AGGREGATES))]


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


@router.get("/stats", response_model=StatsOut, dependencies=[Depends(limited(COSTLY))])
def stats(request: Request, db: SessionDep, user: Aggregates) -> StatsOut:
    """Aggregate figures: no names, no records, small cells suppressed."""
    return stats_for(request, db, user)
