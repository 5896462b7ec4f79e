"""Review queue pages: the uncertain pairs, both records side by side with the waterfall."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from athar.security.auth import Permission
from athar.services.linking import review
from athar.web.deps import CsrfProtected, SessionDep, WebUser, requires
from athar.web.errors import InvalidInput
from athar.web.presenters import render_pair
from athar.web.ratelimit import COSTLY, limited
from athar.web.render import render

router = APIRouter(include_in_schema=False)
Reviewer = Annotated[WebUser, Depends(requires(Permission.REVIEW))]


@router.get("/review", response_class=HTMLResponse)
async def queue_page(request: Request, user: Reviewer, db: SessionDep) -> Response:
    items = await run_in_threadpool(review.queue_for, db, user.actor, 50)
    links = [(i, "/review/pair?" + urlencode({"a": i.a, "b": i.b})) for i in items]
    return render(request, "review.html", items=links)


@router.get("/review/pair", response_class=HTMLResponse, dependencies=[Depends(limited(COSTLY))])
async def pair_page(
    request: Request,
    user: Reviewer,
    db: SessionDep,
    a: Annotated[str, Query(max_length=300)],
    b: Annotated[str, Query(max_length=300)],
) -> Response:
    view = await run_in_threadpool(review.pair_for, db, user.actor, a, b)
    return render_pair(request, view, "/review/decisions", {"a": a, "b": b})


@router.post("/review/decisions", dependencies=[CsrfProtected])
async def decide_submit(request: Request, user: Reviewer) -> Response:
    form = await request.form()
    values = {
        k: v if isinstance(v := form.get(k), str) else "" for k in ("a", "b", "decision", "reason")
    }
    if values["decision"] not in ("match", "no_match") or not values["reason"].strip():
        back = (
            "/review/pair?"
            + urlencode({"a": values["a"], "b": values["b"], "missing": "1"})
            + "#decide"
        )
        return RedirectResponse(back, status_code=303)
    try:
        await run_in_threadpool(
            lambda: review.decide(
                request.app.state.engine,
                user.actor,
                values["a"],
                values["b"],
                match=values["decision"] == "match",
                reason=values["reason"],
            )
        )
    except ValueError as exc:  # too long: the same limits as the API
        raise InvalidInput(str(exc)) from None
    return RedirectResponse(f"/review?decided={values['decision']}", status_code=303)
