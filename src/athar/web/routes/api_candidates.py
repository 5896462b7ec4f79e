"""JSON API: a tracing request's candidate matches, their explanations, and the case worker's
confirm / reject.  A request the caller may not see answers 404 like a missing one."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from athar.services.linking import candidates
from athar.web.deps import CsrfProtected, CurrentUser, SessionDep, WebUser
from athar.web.errors import InvalidInput
from athar.web.ratelimit import limited
from athar.web.schemas import (
    CandidateDecisionIn,
    CandidateOut,
    DecisionOut,
    ErrorOut,
    PairOut,
)

Searcher = Annotated[WebUser, Depends(limited("candidates"))]

router = APIRouter(
    prefix="/api/v1/tracing-requests/{reference}/candidates",
    tags=["tracing requests"],
    responses={401: {"model": ErrorOut}, 404: {"model": ErrorOut}},
)


#: the answer's JSON is written here, from models validated once, not by FastAPI's second
#: validation pass over the returned list (a tenth of a search's server time under load)
_LIST = TypeAdapter(list[CandidateOut])


@router.get("", response_model=list[CandidateOut])
def list_candidates(reference: str, db: SessionDep, user: Searcher) -> Response:
    """Records from every list that linkage put near this request, best first."""
    found = [
        CandidateOut(**asdict(c)) for c in candidates.candidates_for(db, user.actor, reference)
    ]
    return Response(_LIST.dump_json(found), media_type="application/json")


@router.get("/pair", response_model=PairOut)
async def candidate_pair(
    reference: str,
    request: Request,
    user: Searcher,
    b: Annotated[str, Query(max_length=300)],
) -> PairOut:
    """The request's record and candidate ``b`` side by side, with the per-field waterfall."""
    view = await run_in_threadpool(
        candidates.candidate_pair, request.app.state.engine, user.actor, reference, b
    )
    return PairOut.model_validate(asdict(view))


@router.post(
    "/decisions",
    response_model=DecisionOut,
    status_code=201,
    dependencies=[CsrfProtected],
    responses={422: {"model": ErrorOut}},
)
async def decide(
    reference: str, body: CandidateDecisionIn, request: Request, user: CurrentUser
) -> DecisionOut:
    """Confirm (``match``) or reject (``no_match``) a candidate, with the reason."""
    try:
        did = await run_in_threadpool(
            lambda: candidates.decide_candidate(
                request.app.state.engine,
                user.actor,
                reference,
                body.b,
                match=body.decision == "match",
                reason=body.reason,
            )
        )
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return DecisionOut(id=did, decision=body.decision)
