"""A case worker's candidate pages for any subject (a tracing request, an unidentified person
or body): one candidate side by side with the waterfall, and confirm / reject; and a request's
ranked list (an unidentified person's list is on its own page,
:mod:`athar.web.routes.pages_unidentified`)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from athar.services.linking import candidates
from athar.services.linking.candidates import REQUEST, SUBJECTS, Subject
from athar.services.linking.scoring import scoring_job_for
from athar.web.deps import CsrfProtected, CurrentUser, SessionDep, WebUser
from athar.web.errors import InvalidInput
from athar.web.presenters import CANDIDATE_PAGES, candidate_rows, candidates_page, render_pair
from athar.web.ratelimit import limited
from athar.web.render import render

Searcher = Annotated[WebUser, Depends(limited("candidates"))]

router = APIRouter(include_in_schema=False)


@router.get(CANDIDATE_PAGES[REQUEST.kind], response_class=HTMLResponse)
def request_candidates_page(
    reference: str, request: Request, db: SessionDep, user: Searcher
) -> Response:
    found = candidates.candidates_for(db, user.actor, REQUEST, reference)
    rows = candidate_rows(REQUEST, reference, found)
    scoring = scoring_job_for(db, user.actor, REQUEST, reference)
    return render(request, "candidates.html", reference=reference, rows=rows, scoring=scoring)


def _add_flow(subject: Subject) -> None:
    """The pair page and the decision of one subject's candidates."""
    base = CANDIDATE_PAGES[subject.kind]

    @router.get(f"{base}/pair", response_class=HTMLResponse)
    async def pair_page(
        reference: str,
        request: Request,
        db: SessionDep,
        user: Searcher,
        b: Annotated[str, Query(max_length=300)],
    ) -> Response:
        view = await run_in_threadpool(candidates.pair_for, db, user.actor, subject, reference, b)
        here = candidates_page(subject, reference)
        action = f"{here}/decisions" if user.can(subject.work.value) else None
        return render_pair(request, view, action, {"b": b})

    @router.post(f"{base}/decisions", dependencies=[CsrfProtected])
    async def decision(reference: str, request: Request, user: CurrentUser) -> Response:
        form = await request.form()
        values = {
            k: v if isinstance(v := form.get(k), str) else "" for k in ("b", "decision", "reason")
        }
        here = candidates_page(subject, reference)
        if values["decision"] not in ("match", "no_match") or not values["reason"].strip():
            # back to the form, scrolled to it: the message sits beside the choice to make
            return RedirectResponse(
                f"{here}/pair?" + urlencode({"b": values["b"], "missing": "1"}) + "#decide",
                status_code=303,
            )
        try:
            await run_in_threadpool(
                lambda: candidates.decide(
                    request.app.state.engine,
                    user.actor,
                    subject,
                    reference,
                    values["b"],
                    match=values["decision"] == "match",
                    reason=values["reason"],
                )
            )
        except ValueError as exc:  # too long: the same limits as the API
            raise InvalidInput(str(exc)) from None
        return RedirectResponse(f"{here}?decided={values['decision']}", status_code=303)


for _subject in SUBJECTS.values():
    _add_flow(_subject)
