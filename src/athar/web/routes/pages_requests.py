"""A request's case history on its page: notes, and "family informed" records (forms, CSRF).

The request page itself is served by :mod:`athar.web.routes.pages_staff`; both render it with
:func:`athar.web.presenters.render_request`, so the history is shown (and its read audited)
with the request.  A
request the user may not see is a 404 page, like a missing one; invalid input re-renders the
page with the errors (422).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from athar.security.auth import Permission
from athar.services.casework import casenotes, tracing
from athar.services.casework.casenotes import CaseNoteInvalid
from athar.web.deps import CsrfProtected, CurrentUser, EngineDep, SessionDep
from athar.web.presenters import render_request

router = APIRouter(include_in_schema=False)


def _text(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


def _when(value: str | None, timezone: str) -> datetime | None:
    """A ``datetime-local`` value, read in the instance's time zone (the form says which,
    as every page shows times in it); empty means now."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CaseNoteInvalid({"informed_at": casenotes.N_("This date is not valid.")}) from None
    local = parsed.replace(tzinfo=ZoneInfo(timezone)) if parsed.tzinfo is None else parsed
    return local.astimezone(UTC)


@router.post("/requests/{reference}/notes", dependencies=[CsrfProtected])
async def note_submit(
    reference: str, request: Request, db: SessionDep, engine: EngineDep, user: CurrentUser
) -> Response:
    form = await request.form()
    text = _text(form, "text")
    sensitive = form.get("sensitive") == "on"
    try:
        casenotes.add_note(
            engine, actor=user.actor, reference=reference, text=text, sensitive=sensitive
        )
    except CaseNoteInvalid as exc:
        db.rollback()
        values = {"text": text or "", "sensitive": sensitive}
        return render_request(
            request, db, user, reference, errors=exc.errors, form=values, status_code=422
        )
    return RedirectResponse(f"/requests/{reference}#notes", status_code=303)


@router.post("/requests/{reference}/notifications", dependencies=[CsrfProtected])
async def notification_submit(
    reference: str, request: Request, db: SessionDep, engine: EngineDep, user: CurrentUser
) -> Response:
    # hidden == not found before anything about the input is said
    tracing.visible_request(db, user.actor, reference, Permission.WORK_REQUESTS)
    form = await request.form()
    values = {k: _text(form, k) or "" for k in ("informed_at", "channel", "outcome", "details")}
    try:
        casenotes.record_notification(
            engine,
            actor=user.actor,
            reference=reference,
            channel=values["channel"],
            outcome=values["outcome"],
            details=values["details"],
            informed_at=_when(values["informed_at"], request.app.state.settings.timezone),
        )
    except CaseNoteInvalid as exc:
        db.rollback()
        return render_request(
            request, db, user, reference, errors=exc.errors, form=values, status_code=422
        )
    return RedirectResponse(f"/requests/{reference}#told", status_code=303)
