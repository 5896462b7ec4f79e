"""JSON API: people who cannot identify themselves and unidentified bodies (case workers)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from athar.services.casework import unidentified
from athar.services.linking import candidates
from athar.web.deps import CsrfProtected, CurrentUser, EngineDep, SessionDep, WebUser
from athar.web.errors import InvalidInput
from athar.web.ratelimit import limited
from athar.web.schemas import (
    CandidateDecisionIn,
    CandidateOut,
    DecisionOut,
    ErrorOut,
    PairOut,
    UnidentifiedCreated,
    UnidentifiedIn,
    UnidentifiedOut,
)

Searcher = Annotated[WebUser, Depends(limited("candidates"))]
router = APIRouter(
    prefix="/api/v1/unidentified",
    tags=["unidentified"],
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}},
)


@router.post(
    "",
    response_model=UnidentifiedCreated,
    status_code=201,
    dependencies=[CsrfProtected],
    responses={422: {"model": ErrorOut}},
)
def register(body: UnidentifiedIn, engine: EngineDep, user: CurrentUser) -> UnidentifiedCreated:
    """Register a person who cannot say who they are, or an unidentified body."""
    try:
        values = unidentified.validate(body.model_dump())
    except unidentified.DescriptorsInvalid as exc:
        raise InvalidInput(
            "the descriptors are not valid",
            fields=[{"field": k, "message": v} for k, v in exc.errors.items()],
        ) from None
    return UnidentifiedCreated(
        reference=unidentified.register(engine, actor=user.actor, values=values)
    )


@router.get("/{reference}", response_model=UnidentifiedOut)
def get_unidentified(reference: str, db: SessionDep, user: Searcher) -> UnidentifiedOut:
    """The descriptors and the ranked missing-person reports linkage put near them."""
    view = unidentified.view_for(db, user.actor, reference)
    found = candidates.candidates_for_unidentified(db, user.actor, reference)
    return UnidentifiedOut(
        reference=view.reference,
        kind=view.kind,
        fields=view.fields,
        extra=view.extra,
        candidates=[CandidateOut(**asdict(c)) for c in found],
    )


@router.get("/{reference}/pair", response_model=PairOut)
async def pair(
    reference: str, request: Request, user: Searcher, b: Annotated[str, Query(max_length=300)]
) -> PairOut:
    view = await run_in_threadpool(
        candidates.unidentified_pair, request.app.state.engine, user.actor, reference, b
    )
    return PairOut.model_validate(asdict(view))


@router.post(
    "/{reference}/decisions",
    response_model=DecisionOut,
    status_code=201,
    dependencies=[CsrfProtected],
    responses={422: {"model": ErrorOut}},
)
async def decide(
    reference: str, body: CandidateDecisionIn, request: Request, user: CurrentUser
) -> DecisionOut:
    try:
        did = await run_in_threadpool(
            lambda: candidates.decide_unidentified(
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
