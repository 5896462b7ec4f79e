"""Pages for data partners (upload their list) and researchers (aggregate figures)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.background import BackgroundTask

from athar.domain.messages import N_
from athar.errors import InvalidInput, NotFound
from athar.security.auth import AccessError, Permission
from athar.services.casework import tracing
from athar.services.registry.pfif_sources import set_death_authorised, source_states
from athar.services.registry.upload_jobs import import_job_for
from athar.web.deps import CsrfProtected, EngineDep, SessionDep, WebUser, requires
from athar.web.errors import ApiError
from athar.web.presenters import estimate_plot, import_job_view, stats_for
from athar.web.ratelimit import COSTLY, limited
from athar.web.render import language_of, render
from athar.web.uploads import queue_import, start_job

router = APIRouter(include_in_schema=False)
Importer = Annotated[WebUser, Depends(requires(Permission.IMPORT_LISTS))]
Aggregates = Annotated[WebUser, Depends(requires(Permission.READ_AGGREGATES))]
Admin = Annotated[WebUser, Depends(requires(Permission.MANAGE_USERS))]


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, user: Importer) -> Response:
    return render(request, "imports.html", job=None, error=None)


@router.post("/imports", response_class=HTMLResponse, dependencies=[CsrfProtected])
async def imports_submit(request: Request, user: Importer) -> Response:
    """Queue the upload's import and answer at once with the job's page."""
    try:
        job_id = await queue_import(request, user)
    except (ApiError, AccessError) as exc:
        return render(request, "imports.html", status_code=exc.status, job=None, error=exc.message)
    lang = request.query_params.get("lang")
    target = f"/imports/jobs/{job_id}" + (f"?lang={lang}" if lang in ("ar", "en") else "")
    return RedirectResponse(
        target, status_code=303, background=BackgroundTask(start_job, request, job_id)
    )


@router.get("/imports/jobs/{job_id}", response_class=HTMLResponse)
def import_job_page(request: Request, job_id: int, db: SessionDep, user: Importer) -> Response:
    """An import job's state and, once it has ended, its result."""
    job = import_job_for(db, user.actor, job_id)
    return render(request, "imports.html", job=import_job_view(job), error=None)


@router.get("/stats", response_class=HTMLResponse, dependencies=[Depends(limited(COSTLY))])
def stats_page(request: Request, db: SessionDep, user: Aggregates) -> Response:
    stats = stats_for(request, db, user)
    plot = estimate_plot(db, stats.estimate["audit_seq"]) if stats.estimate else None
    hours = request.app.state.settings.figures_refresh_hours
    return render(
        request,
        "stats.html",
        stats=stats,
        plot=plot,
        refresh_hours=hours,
        status_labels=dict(tracing.STATUSES),
    )


def _sources_page(
    request: Request,
    db: SessionDep,
    *,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "sources.html",
        status_code=status_code,
        sources=source_states(db),
        done=done,
        error=error,
    )


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request, db: SessionDep, user: Admin) -> Response:
    """Sources, and which may assert a death through PFIF (administrators)."""
    return _sources_page(request, db)


@router.post("/sources/pfif", response_class=HTMLResponse, dependencies=[CsrfProtected])
async def sources_pfif_submit(
    request: Request, db: SessionDep, engine: EngineDep, user: Admin
) -> Response:
    """Allow or withdraw a source's PFIF death claims, with a reason (audited)."""
    form = await request.form()
    fields = {
        k: v.strip() if isinstance(v := form.get(k), str) else ""
        for k in ("source", "decision", "reason")
    }
    lang = language_of(request)
    if fields["decision"] not in ("allow", "withdraw") or not fields["source"]:
        error = lang.gettext(N_("Choose a source and what to do."))
        return _sources_page(request, db, error=error, status_code=422)
    if not fields["reason"]:
        error = lang.gettext(N_("Give a reason: the audit log records why."))
        return _sources_page(request, db, error=error, status_code=422)
    try:
        set_death_authorised(
            engine,
            fields["source"],
            fields["decision"] == "allow",
            actor=user.actor,
            reason=fields["reason"],
        )
    except (InvalidInput, NotFound):
        error = lang.gettext(N_("There is no such source."))
        return _sources_page(request, db, error=error, status_code=422)
    done = lang.gettext(N_("Saved. The audit log records it."))
    return _sources_page(request, db, done=done)
