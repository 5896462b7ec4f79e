"""JSON API: the review queue of uncertain pairs (reviewers and administrators)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from athar.security.auth import Permission
from athar.services.linking import review
from athar.web.deps import CsrfProtected, SessionDep, WebUser, requires
from athar.web.errors import InvalidInput
from athar.web.ratelimit import COSTLY, limited
from athar.web.schemas import DecisionIn, DecisionOut, ErrorOut, PairOut, QueueItemOut

router = APIRouter(
    prefix="/api/v1/review",
    tags=["review"],
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}},
)
Reviewer = Annotated[WebUser, Depends(requires(Permission.REVIEW))]


@router.get("/queue", response_model=list[QueueItemOut])
async def queue(
    request: Request,
    user: Reviewer,
    db: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[QueueItemOut]:
    """The latest link run's uncertain pairs that nobody has decided yet, best first."""
    items = await run_in_threadpool(review.queue_for, db, user.actor, limit)
    return [QueueItemOut(a=i.a, b=i.b, score=i.score) for i in items]


@router.get("/pair", response_model=PairOut, dependencies=[Depends(limited(COSTLY))])
async def pair(
    request: Request,
    user: Reviewer,
    db: SessionDep,
    a: Annotated[str, Query(max_length=300)],
    b: Annotated[str, Query(max_length=300)],
) -> PairOut:
    """Both records side by side with the per-field waterfall.  Every view is audited."""
    view = await run_in_threadpool(review.pair_for, db, user.actor, a, b)
    return PairOut.model_validate(asdict(view))


@router.post(
    "/decisions",
    response_model=DecisionOut,
    status_code=201,
    dependencies=[CsrfProtected],
    responses={422: {"model": ErrorOut}},
)
async def decide(body: DecisionIn, request: Request, user: Reviewer) -> DecisionOut:
    """Same person (``match``) or not (``no_match``), with the reason; later link runs obey it."""
    try:
        did = await run_in_threadpool(
            lambda: review.decide(
                request.app.state.engine,
                user.actor,
                body.a,
                body.b,
                match=body.decision == "match",
                reason=body.reason,
            )
        )
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return DecisionOut(id=did, decision=body.decision)
