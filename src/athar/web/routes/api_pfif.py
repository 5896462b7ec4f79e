"""JSON API's PFIF feed: a partner's API key reads the PFIF 1.4 Atom person feed.

Not for logged-in users: the feed is how a partner's system syncs, with a key that holds the
partner's consent scope and sources (``athar api-keys create``).  The key comes in the header
``X-Api-Key`` (or ``Authorization: Bearer <key>``), never in the URL, where logs would keep it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from athar.services.sharing.api_keys import key_for_token
from athar.services.sharing.pfif_feed import (
    MAX_RESULTS,
    key_actor,
    parse_min_entry_date,
    pfif_feed,
)
from athar.web.deps import EngineDep, OptionalUser, SessionDep
from athar.web.errors import Forbidden, NotAuthenticated
from athar.web.schemas import ErrorOut

router = APIRouter(
    prefix="/api/v1",
    tags=["pfif"],
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)


@router.get(
    "/pfif/feed",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}}},
)
def feed(
    request: Request,
    db: SessionDep,
    engine: EngineDep,
    user: OptionalUser,
    min_entry_date: Annotated[str | None, Query(max_length=40)] = None,
    skip: Annotated[int, Query(ge=0)] = 0,
    max_results: Annotated[int, Query(ge=1, le=MAX_RESULTS)] = 200,
    x_api_key: Annotated[str | None, Header(max_length=200)] = None,
    authorization: Annotated[str | None, Header(max_length=220)] = None,
) -> Response:
    """PFIF 1.4 Atom person feed: ``min_entry_date`` (UTC), ``skip``, ``max_results``.

    Entries come in ``entry_date`` order; sync with ``min_entry_date`` = the last entry_date
    seen and ``skip`` = the entries with that entry_date already received.  Every request is
    audited.
    """
    token = x_api_key
    if token is None and authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    if not token:
        if user is not None:
            raise Forbidden("the PFIF feed is read with a partner's API key, not a session")
        raise NotAuthenticated("an API key is required (header X-Api-Key)")
    key = key_for_token(db, token)
    db.close()
    if key is None:
        raise NotAuthenticated("unknown or revoked API key")
    since = parse_min_entry_date(min_entry_date)
    got = pfif_feed(
        engine,
        key,
        min_entry_date=since,
        skip=skip,
        max_results=max_results,
        feed_url=str(request.url.remove_query_params(["skip"])),
        actor=key_actor(key),
        family_domain=request.app.state.settings.pfif_domain,
    )
    return Response(got.body, media_type="application/atom+xml; charset=utf-8")
