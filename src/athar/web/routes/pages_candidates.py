"""A case worker's candidate pages for a tracing request: the ranked list, one candidate side by
side with the waterfall, and confirm / reject."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from athar.services.linking import candidates
from athar.web.deps import CsrfProtected, CurrentUser, SessionDep, WebUser
from athar.web.ratelimit import limited
from athar.web.render import render
from athar.web.routes.pages_review import render_pair

Searcher = Annotated[WebUser, Depends(limited("candidates"))]

router = APIRouter(include_in_schema=False)


@router.get("/requests/{reference}/candidates", response_class=HTMLResponse)
def candidates_page(reference: str, request: Request, db: SessionDep, user: Searcher) -> Response:
    found = candidates.candidates_for(db, user.actor, reference)
    base = f"/requests/{quote(reference)}/candidates/pair?"
    rows = [(c, base + urlencode({"b": c.key})) for c in found]
    return render(request, "candidates.html", reference=reference, rows=rows)


@router.get("/requests/{reference}/candidates/pair", response_class=HTMLResponse)
async def candidate_pair_page(
    reference: str, request: Request, user: Searcher, b: Annotated[str, Query(max_length=300)]
) -> Response:
    view = await run_in_threadpool(
        candidates.candidate_pair, request.app.state.engine, user.actor, reference, b
    )
    action = (
        f"/requests/{quote(reference)}/candidates/decisions" if user.can("work_requests") else None
    )
    return render_pair(request, view, action, {"b": b})


@router.post("/requests/{reference}/candidates/decisions", dependencies=[CsrfProtected])
async def candidate_decision(reference: str, request: Request, user: CurrentUser) -> Response:
    form = await request.form()
    values = {
        k: v if isinstance(v := form.get(k), str) else "" for k in ("b", "decision", "reason")
    }
    here = f"/requests/{quote(reference)}/candidates"
    if values["decision"] not in ("match", "no_match") or not values["reason"].strip():
        return RedirectResponse(
            f"{here}/pair?" + urlencode({"b": values["b"], "missing": "1"}), status_code=303
        )
    await run_in_threadpool(
        lambda: candidates.decide_candidate(
            request.app.state.engine,
            user.actor,
            reference,
            values["b"],
            match=values["decision"] == "match",
            reason=values["reason"],
        )
    )
    return RedirectResponse(here, status_code=303)
