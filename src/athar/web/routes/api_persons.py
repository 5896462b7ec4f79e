"""JSON API: the person page (every record, a timeline of claims, conflicts shown)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path

from athar.services.linking import persons
from athar.web.deps import MAX_ID, CurrentUser, SessionDep
from athar.web.schemas import ErrorOut, PersonOut

router = APIRouter(
    prefix="/api/v1/persons",
    tags=["persons"],
    responses={401: {"model": ErrorOut}, 404: {"model": ErrorOut}},
)


@router.get("/{person_id}", response_model=PersonOut)
def get_person(
    person_id: Annotated[int, Path(ge=1, le=MAX_ID)], db: SessionDep, user: CurrentUser
) -> PersonOut:
    """Every record about the person and the status claims in date order.  Audited."""
    return PersonOut.model_validate(asdict(persons.person_for(db, user.actor, person_id)))
