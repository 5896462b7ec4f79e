"""The person page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from athar.services.linking import persons
from athar.services.linking.review import PAIR_FIELDS
from athar.web.deps import CurrentUser, SessionDep
from athar.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/persons/{person_id}", response_class=HTMLResponse)
def person_page(person_id: int, request: Request, db: SessionDep, user: CurrentUser) -> Response:
    view = persons.person_for(db, user.actor, person_id)
    return render(request, "person.html", view=view, fields=PAIR_FIELDS)
