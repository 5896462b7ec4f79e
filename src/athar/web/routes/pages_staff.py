"""Staff pages: tracing requests (case workers) and users (administrators).

Pages call the same services as the JSON API, so the permission checks and the audit are the
same.  A request the user may not see is a 404 page, like a missing one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from athar.domain.messages import N_
from athar.security.auth import Permission, Role, parse_role
from athar.services.access import users
from athar.services.casework import tracing
from athar.web.deps import CsrfProtected, CurrentUser, EngineDep, SessionDep, WebUser, requires
from athar.web.presenters import ROLE_LABELS, render_request
from athar.web.render import language_of, render

router = APIRouter(include_in_schema=False)
Reader = Annotated[WebUser, Depends(requires(Permission.READ_REQUESTS))]
Admin = Annotated[WebUser, Depends(requires(Permission.MANAGE_USERS))]
PAGE_SIZE = 50


@router.get("/requests", response_class=HTMLResponse)
def requests_page(
    request: Request,
    db: SessionDep,
    user: Reader,
    status: Annotated[str | None, Query(max_length=40)] = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    items, total = tracing.list_requests(
        db, actor=user.actor, status=status or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render(
        request,
        "requests.html",
        items=items,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        status=status or "",
        # the list's filter offers spam too (the default list leaves it out)
        statuses=(*tracing.STATUSES, (tracing.SPAM, tracing.SPAM_LABEL)),
    )


@router.get("/requests/{reference}", response_class=HTMLResponse)
def request_page(reference: str, request: Request, db: SessionDep, user: CurrentUser) -> Response:
    return render_request(request, db, user, reference)


@router.get("/requests/{reference}/contact", response_class=HTMLResponse)
def contact_page(reference: str, request: Request, db: SessionDep, user: CurrentUser) -> Response:
    """Contact details are shown only on this page, and every view is audited."""
    contact = tracing.get_contact_for(db, user.actor, reference)
    return render_request(request, db, user, reference, contact=contact)


@router.get("/requests/{reference}/photo")
def photo(reference: str, db: SessionDep, user: CurrentUser) -> Response:
    data, media_type = tracing.get_photo_for(db, user.actor, reference)
    return Response(data, media_type=media_type, headers={"Cache-Control": "no-store"})


@router.post("/requests/{reference}/status", dependencies=[CsrfProtected])
async def status_submit(
    reference: str, request: Request, engine: EngineDep, user: CurrentUser
) -> Response:
    form = await request.form()
    value = form.get("status")
    tracing.set_status(
        engine,
        actor=user.actor,
        reference=reference,
        status=value if isinstance(value, str) else "",
    )
    return RedirectResponse(f"/requests/{reference}", status_code=303)


@router.post("/requests/{reference}/spam", dependencies=[CsrfProtected])
async def spam_submit(
    reference: str, request: Request, db: SessionDep, engine: EngineDep, user: CurrentUser
) -> Response:
    """Mark the request as spam (``spam=yes``) or as not spam, with a reason."""
    form = await request.form()
    spam, reason = form.get("spam"), form.get("reason")
    try:
        tracing.mark_spam(
            engine,
            actor=user.actor,
            reference=reference,
            spam=spam == "yes",
            reason=reason if isinstance(reason, str) else "",
        )
    except tracing.IntakeInvalid as exc:
        values = {"reason": reason if isinstance(reason, str) else ""}
        return render_request(
            request, db, user, reference, errors=exc.errors, form=values, status_code=422
        )
    return RedirectResponse(f"/requests/{reference}", status_code=303)


@router.post("/requests/{reference}/consent", dependencies=[CsrfProtected])
async def consent_submit(
    reference: str, request: Request, engine: EngineDep, user: CurrentUser
) -> Response:
    form = await request.form()
    chosen = [c for c in form.getlist("consent") if isinstance(c, str)]
    tracing.set_consent(engine, actor=user.actor, reference=reference, consent=chosen)
    return RedirectResponse(f"/requests/{reference}", status_code=303)


def _users_page(
    request: Request,
    db: SessionDep,
    user: WebUser,
    created: tuple[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
    reset: tuple[str, str] | None = None,
    done: str | None = None,
) -> Response:
    return render(
        request,
        "users.html",
        status_code=status_code,
        users=users.list_users(db, actor=user.actor),
        roles=[(r.value, ROLE_LABELS[r.value]) for r in Role],
        role_labels=ROLE_LABELS,
        created=created,
        error=error,
        reset=reset,
        done=done,
        me=user.username,
    )


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, db: SessionDep, user: Admin) -> Response:
    return _users_page(request, db, user)


@router.post("/users", response_class=HTMLResponse, dependencies=[CsrfProtected])
async def users_submit(
    request: Request, db: SessionDep, engine: EngineDep, user: Admin
) -> Response:
    form = await request.form()
    fields = {
        k: v if isinstance(v := form.get(k), str) else ""
        for k in ("username", "display_name", "role", "source_code")
    }
    if not fields["role"].strip():  # the form has no default role: one must be chosen
        error = language_of(request).gettext(N_("Choose a role."))
        return _users_page(request, db, user, error=error, status_code=422)
    try:
        created, password = users.create_user(
            engine,
            actor=user.actor,
            username=fields["username"],
            display_name=fields["display_name"],
            role=parse_role(fields["role"]),
            source_code=fields["source_code"] or None,
        )
    except ValueError as exc:
        return _users_page(request, db, user, error=str(exc), status_code=422)
    return _users_page(request, db, user, created=(created.username, password), status_code=201)


@router.post("/users/{username}/active", response_class=HTMLResponse, dependencies=[CsrfProtected])
async def user_active_submit(
    username: Annotated[str, Path(max_length=64)],
    request: Request,
    db: SessionDep,
    engine: EngineDep,
    user: Admin,
) -> Response:
    """Disable (ending its sessions) or enable an account; audited by the service."""
    form = await request.form()
    active = form.get("active")
    lang = language_of(request)
    if active not in ("0", "1"):
        error = lang.gettext(N_("Choose whether to enable or disable the account."))
        return _users_page(request, db, user, error=error, status_code=422)
    if active == "0" and users.normalise_username(username) == user.username:
        error = lang.gettext(N_("You cannot disable your own account."))
        return _users_page(request, db, user, error=error, status_code=422)
    changed = users.set_active(engine, actor=user.actor, username=username, active=active == "1")
    message = (
        N_("%(name)s can log in again.")
        if changed.is_active
        else N_("%(name)s is disabled: their sessions have ended and they cannot log in.")
    )
    db.expire_all()
    return _users_page(request, db, user, done=lang.gettext(message) % {"name": changed.username})


@router.post(
    "/users/{username}/password", response_class=HTMLResponse, dependencies=[CsrfProtected]
)
async def user_password_submit(
    username: Annotated[str, Path(max_length=64)],
    request: Request,
    db: SessionDep,
    engine: EngineDep,
    user: Admin,
) -> Response:
    """A new generated password for the account, shown once; its sessions end (audited)."""
    secret = users.reset_password(engine, actor=user.actor, username=username)
    return _users_page(request, db, user, reset=(users.normalise_username(username), secret))
