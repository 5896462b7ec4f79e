"""Pages for data partners (upload their list) and researchers (aggregate figures)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from athar.security.auth import AccessError, Permission
from athar.web.deps import CsrfProtected, SessionDep, WebUser, requires
from athar.web.errors import ApiError
from athar.web.presenters import estimate_plot, stats_for
from athar.web.ratelimit import COSTLY, limited
from athar.web.render import render
from athar.web.uploads import run_import

router = APIRouter(include_in_schema=False)
Importer = Annotated[WebUser, Depends(requires(Permission.IMPORT_LISTS))]
Aggregates = Annotated[WebUser, Depends(requires(Permission.READ_AGGREGATES))]


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, user: Importer) -> Response:
    return render(request, "imports.html", result=None, error=None)


@router.post("/imports", response_class=HTMLResponse, dependencies=[CsrfProtected])
async def imports_submit(request: Request, user: Importer) -> Response:
    try:
        result = await run_import(request, user)
    except (ApiError, AccessError) as exc:
        return render(
            request, "imports.html", status_code=exc.status, result=None, error=exc.message
        )
    status = 200 if result.outcome in ("unchanged", "already_imported") else 201
    return render(request, "imports.html", status_code=status, result=result, error=None)


@router.get("/stats", response_class=HTMLResponse, dependencies=[Depends(limited(COSTLY))])
def stats_page(request: Request, db: SessionDep, user: Aggregates) -> Response:
    stats = stats_for(request, db, user)
    plot = estimate_plot(db, stats.estimate["audit_seq"]) if stats.estimate else None
    hours = request.app.state.settings.figures_refresh_hours
    return render(request, "stats.html", stats=stats, plot=plot, refresh_hours=hours)
