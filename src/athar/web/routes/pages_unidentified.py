"""Pages: register a person who cannot identify themselves or an unidentified body, and see
the missing-person reports ranked for them.  A candidate's pair page and the decision on it
are the candidate flow's, as for any subject (:mod:`athar.web.routes.pages_candidates`)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from athar.security.auth import Permission
from athar.services.casework import tracing_intake, unidentified
from athar.services.linking import candidates
from athar.services.linking.candidates import UNIDENTIFIED
from athar.services.linking.scoring import scoring_job_for
from athar.web.deps import CsrfProtected, EngineDep, SessionDep, WebUser, requires
from athar.web.presenters import candidate_rows
from athar.web.ratelimit import limited
from athar.web.render import render

router = APIRouter(include_in_schema=False)
Worker = Annotated[WebUser, Depends(requires(Permission.WORK_REQUESTS))]
Reader = Annotated[WebUser, Depends(requires(Permission.READ_REQUESTS))]
PAGE_SIZE = 50
Searcher = Annotated[WebUser, Depends(limited("candidates"))]


def _form(
    request: Request, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Response:
    return render(
        request,
        "unidentified_new.html",
        status_code=status,
        values=values,
        errors=errors,
        kinds=unidentified.KINDS,
        sexes=tracing_intake.SEXES,
    )


@router.get("/unidentified", response_class=HTMLResponse)
def list_page(
    request: Request,
    db: SessionDep,
    user: Reader,
    kind: Annotated[str, Query(pattern="^(living|body)?$")] = "",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    """Every registration, newest first, with a filter on the kind and paging."""
    items, total = unidentified.list_unidentified(
        db, actor=user.actor, kind=kind or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render(
        request,
        "unidentified_list.html",
        items=items,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        kind=kind,
        kinds=unidentified.KINDS,
        sexes=dict(tracing_intake.SEXES),
    )


@router.get("/unidentified/new", response_class=HTMLResponse)
def new_form(request: Request, user: Worker) -> Response:
    return _form(request, {}, {})


@router.post("/unidentified/new", dependencies=[CsrfProtected])
async def new_submit(request: Request, engine: EngineDep, user: Worker) -> Response:
    form = await request.form()
    raw = {k: v for k in unidentified.FIELDS if isinstance(v := form.get(k), str)}
    try:
        values = unidentified.validate(raw)
    except unidentified.DescriptorsInvalid as exc:
        return _form(request, raw, exc.errors, status=422)
    reference = await run_in_threadpool(
        lambda: unidentified.register(engine, actor=user.actor, values=values)
    )
    return RedirectResponse(f"/unidentified/{quote(reference)}", status_code=303)


@router.get("/unidentified/{reference}", response_class=HTMLResponse)
def view_page(reference: str, request: Request, db: SessionDep, user: Searcher) -> Response:
    view = unidentified.view_for(db, user.actor, reference)
    found = candidates.candidates_for(db, user.actor, UNIDENTIFIED, reference)
    rows = candidate_rows(UNIDENTIFIED, reference, found)
    scoring = scoring_job_for(db, user.actor, UNIDENTIFIED, reference)
    return render(
        request,
        "unidentified.html",
        view=view,
        rows=rows,
        kinds=dict(unidentified.KINDS),
        scoring=scoring,
    )
