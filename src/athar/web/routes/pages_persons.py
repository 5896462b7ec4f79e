"""The person page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from athar.services.linking import persons
from athar.services.linking.review import PAIR_FIELDS
from athar.web.deps import MAX_ID, CurrentUser, SessionDep
from athar.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/persons/{person_id}", response_class=HTMLResponse)
def person_page(
    person_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    request: Request,
    db: SessionDep,
    user: CurrentUser,
) -> Response:
    view = persons.person_for(db, user.actor, person_id)
    return render(request, "person.html", view=view, fields=PAIR_FIELDS)
