"""JSON API: candidate matches for a subject (a tracing request, an unidentified person or
body), their explanations, and the case worker's confirm / reject.  One flow for every
subject (:class:`athar.services.linking.candidates.Subject`); a subject the caller may not see
answers 404 like a missing one.

A request's candidates are listed at ``…/candidates``; an unidentified person's come with its
descriptors (:mod:`athar.web.routes.api_unidentified`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from athar.services.linking import candidates
from athar.services.linking.candidates import REQUEST, SUBJECTS, UNIDENTIFIED, Subject
from athar.web.deps import CsrfProtected, CurrentUser, SessionDep, WebUser
from athar.web.errors import InvalidInput
from athar.web.presenters import candidates_out, pair_out
from athar.web.ratelimit import limited
from athar.web.schemas import CandidateDecisionIn, CandidateOut, DecisionOut, ErrorOut, PairOut

Searcher = Annotated[WebUser, Depends(limited("candidates"))]

router = APIRouter()

_REQUEST_BASE = "/api/v1/tracing-requests/{reference}/candidates"
#: per subject: where its pair and decisions are, its tag, and the errors it documents
_API: dict[str, tuple[str, str, tuple[int, ...]]] = {
    REQUEST.kind: (_REQUEST_BASE, "tracing requests", (401, 404)),
    UNIDENTIFIED.kind: ("/api/v1/unidentified/{reference}", "unidentified", (401, 403, 404)),
}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorOut} for status in statuses}


#: the answer's JSON is written here, from models validated once, not by FastAPI's second
#: validation pass over the returned list (a tenth of a search's server time under load)
_LIST = TypeAdapter(list[CandidateOut])


@router.get(
    _REQUEST_BASE,
    response_model=list[CandidateOut],
    tags=["tracing requests"],
    responses=_errors(*_API[REQUEST.kind][2]),
)
def list_candidates(reference: str, db: SessionDep, user: Searcher) -> Response:
    """Records from every list that linkage put near this request, best first."""
    found = candidates_out(candidates.candidates_for(db, user.actor, REQUEST, reference))
    return Response(_LIST.dump_json(found), media_type="application/json")


def _add_flow(subject: Subject) -> None:
    """The pair and the decision of one subject's candidates."""
    base, tag, statuses = _API[subject.kind]

    @router.get(f"{base}/pair", response_model=PairOut, tags=[tag], responses=_errors(*statuses))
    async def candidate_pair(
        reference: str,
        request: Request,
        db: SessionDep,
        user: Searcher,
        b: Annotated[str, Query(max_length=300)],
    ) -> PairOut:
        """The subject's record and candidate ``b`` side by side, with the per-field waterfall."""
        view = await run_in_threadpool(candidates.pair_for, db, user.actor, subject, reference, b)
        return pair_out(view)

    @router.post(
        f"{base}/decisions",
        response_model=DecisionOut,
        status_code=201,
        dependencies=[CsrfProtected],
        tags=[tag],
        responses=_errors(*statuses, 422),
    )
    async def decide(
        reference: str, body: CandidateDecisionIn, request: Request, user: CurrentUser
    ) -> DecisionOut:
        """Confirm (``match``) or reject (``no_match``) a candidate, with the reason."""
        try:
            did = await run_in_threadpool(
                lambda: candidates.decide(
                    request.app.state.engine,
                    user.actor,
                    subject,
                    reference,
                    body.b,
                    match=body.decision == "match",
                    reason=body.reason,
                )
            )
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        return DecisionOut(id=did, decision=body.decision)


for _subject in SUBJECTS.values():
    _add_flow(_subject)
