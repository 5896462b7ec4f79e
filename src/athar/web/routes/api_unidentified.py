"""JSON API: people who cannot identify themselves and unidentified bodies (case workers).

A candidate's pair and the decision on it are the candidate flow's, as for any subject
(:mod:`athar.web.routes.api_candidates`)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from athar.security.auth import Permission
from athar.services.casework import unidentified
from athar.services.linking import candidates
from athar.services.linking.candidates import UNIDENTIFIED
from athar.web.deps import (
    MAX_OFFSET,
    CsrfProtected,
    CurrentUser,
    EngineDep,
    SessionDep,
    WebUser,
    requires,
)
from athar.web.errors import InvalidInput
from athar.web.presenters import candidates_out
from athar.web.ratelimit import limited
from athar.web.schemas import (
    ErrorOut,
    UnidentifiedCreated,
    UnidentifiedIn,
    UnidentifiedList,
    UnidentifiedOut,
    UnidentifiedSummaryOut,
)

Searcher = Annotated[WebUser, Depends(limited("candidates"))]
Reader = Annotated[WebUser, Depends(requires(Permission.READ_REQUESTS))]
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


@router.get("", response_model=UnidentifiedList)
def list_unidentified(
    db: SessionDep,
    user: Reader,
    kind: Annotated[str | None, Query(pattern="^(living|body)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> UnidentifiedList:
    """Registrations newest first, with the total; audited like the list of requests."""
    items, total = unidentified.list_unidentified(
        db, actor=user.actor, kind=kind, limit=limit, offset=offset
    )
    return UnidentifiedList(items=[UnidentifiedSummaryOut(**asdict(i)) for i in items], total=total)


@router.get("/{reference}", response_model=UnidentifiedOut)
def get_unidentified(reference: str, db: SessionDep, user: Searcher) -> UnidentifiedOut:
    """The descriptors and the ranked missing-person reports linkage put near them."""
    view = unidentified.view_for(db, user.actor, reference)
    found = candidates.candidates_for(db, user.actor, UNIDENTIFIED, reference)
    return UnidentifiedOut(
        reference=view.reference,
        kind=view.kind,
        fields=view.fields,
        extra=view.extra,
        candidates=candidates_out(found),
    )
