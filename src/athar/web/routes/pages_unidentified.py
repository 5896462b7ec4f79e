"""Pages: register a person who cannot identify themselves or an unidentified body, and see
the missing-person reports ranked for them."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from athar.security.auth import Permission
from athar.services.casework import tracing_intake, unidentified
from athar.services.linking import candidates
from athar.web.deps import CsrfProtected, CurrentUser, EngineDep, SessionDep, WebUser, requires
from athar.web.ratelimit import limited
from athar.web.render import render
from athar.web.routes.pages_review import render_pair

router = APIRouter(include_in_schema=False)
Worker = Annotated[WebUser, Depends(requires(Permission.WORK_REQUESTS))]
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
    found = candidates.candidates_for_unidentified(db, user.actor, reference)
    base = f"/unidentified/{quote(reference)}/pair?"
    rows = [(c, base + urlencode({"b": c.key})) for c in found]
    return render(
        request, "unidentified.html", view=view, rows=rows, kinds=dict(unidentified.KINDS)
    )


@router.get("/unidentified/{reference}/pair", response_class=HTMLResponse)
async def pair_page(
    reference: str, request: Request, user: Searcher, b: Annotated[str, Query(max_length=300)]
) -> Response:
    view = await run_in_threadpool(
        candidates.unidentified_pair, request.app.state.engine, user.actor, reference, b
    )
    action = f"/unidentified/{quote(reference)}/decisions" if user.can("work_requests") else None
    return render_pair(request, view, action, {"b": b})


@router.post("/unidentified/{reference}/decisions", dependencies=[CsrfProtected])
async def decision(reference: str, request: Request, user: CurrentUser) -> Response:
    form = await request.form()
    values = {
        k: v if isinstance(v := form.get(k), str) else "" for k in ("b", "decision", "reason")
    }
    here = f"/unidentified/{quote(reference)}"
    if values["decision"] not in ("match", "no_match") or not values["reason"].strip():
        return RedirectResponse(
            f"{here}/pair?" + urlencode({"b": values["b"], "missing": "1"}), status_code=303
        )
    await run_in_threadpool(
        lambda: candidates.decide_unidentified(
            request.app.state.engine,
            user.actor,
            reference,
            values["b"],
            match=values["decision"] == "match",
            reason=values["reason"],
        )
    )
    return RedirectResponse(here, status_code=303)
