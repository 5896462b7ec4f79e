"""Public pages: home, the tracing-request form, staff login and logout.

Every form carries a CSRF token; all of it works without JavaScript.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from athar.domain.messages import N_
from athar.services.casework import tracing, tracing_intake
from athar.web.deps import CsrfProtected, EngineDep, OptionalUser, actor_of
from athar.web.errors import ApiError, RateLimited, TooLarge
from athar.web.login import log_in, log_out, set_session_cookie
from athar.web.presenters import ROLE_LABELS
from athar.web.ratelimit import check_intake
from athar.web.render import language_of, render

router = APIRouter(include_in_schema=False)

_FORM_OVERHEAD = 256 * 1024


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def home(request: Request, user: OptionalUser) -> Response:
    role_label = language_of(request).gettext(ROLE_LABELS[user.role.value]) if user else None
    return render(request, "home.html", role_label=role_label)


def _intake_page(
    request: Request, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> Response:
    settings = request.app.state.settings
    return render(
        request,
        "intake.html",
        status_code=status_code,
        values=values,
        errors=errors,
        relationships=tracing_intake.RELATIONSHIPS,
        sexes=tracing_intake.SEXES,
        consent_scopes=tracing_intake.CONSENT_SCOPES,
        photo_max_mb=round(settings.photo_max_bytes / (1024 * 1024), 1),
    )


@router.get("/request", response_class=HTMLResponse)
def intake_form(request: Request) -> Response:
    return _intake_page(request, {}, {})


@router.post("/request", response_class=HTMLResponse, dependencies=[CsrfProtected])
async def intake_submit(request: Request, engine: EngineDep) -> Response:
    settings = request.app.state.settings
    try:
        check_intake(request)  # before the body is read: a refusal costs nothing (finding 3)
    except RateLimited as busy:
        headers = busy.headers or {}
        page = render(
            request,
            "intake_busy.html",
            status_code=busy.status,
            minutes=max(1, -(-int(headers.get("Retry-After", "60")) // 60)),
        )
        page.headers.update(headers)
        return page
    declared = request.headers.get("content-length")
    if (
        declared
        and declared.isdigit()
        and int(declared) > settings.photo_max_bytes + _FORM_OVERHEAD
    ):
        raise TooLarge("the form is too large")
    form = await request.form()
    values: dict[str, Any] = {
        name: value
        for name in tracing_intake.TEXT_FIELDS
        if isinstance(value := form.get(name), str)
    }
    consent = [c for c in form.getlist("consent") if isinstance(c, str)]
    values["consent"] = consent
    photo: bytes | None = None
    upload = form.get("photo")
    if isinstance(upload, UploadFile) and upload.filename:
        photo = await upload.read(settings.photo_max_bytes + 1)
    try:
        # in a worker thread: a photo is decoded and re-encoded (finding 12)
        intake = await run_in_threadpool(
            partial(
                tracing_intake.validate_intake,
                values,
                consent,
                photo,
                photo_max_bytes=settings.photo_max_bytes,
                photo_max_pixels=settings.photo_max_pixels,
            )
        )
    except tracing.IntakeInvalid as exc:
        return _intake_page(request, values, exc.errors, status_code=422)
    stored = await run_in_threadpool(
        tracing.submit_request,
        engine,
        actor=actor_of(None),
        intake=intake,
        language=language_of(request).code,
    )
    return render(request, "intake_done.html", status_code=201, reference=stored.reference)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return render(request, "login.html")


@router.post("/login", response_class=HTMLResponse, dependencies=[CsrfProtected])
async def login_submit(request: Request, engine: EngineDep) -> Response:
    form = await request.form()
    username = form.get("username")
    password = form.get("password")
    username = username if isinstance(username, str) else ""
    password = password if isinstance(password, str) else ""
    gettext = language_of(request).gettext
    try:
        _, token = await run_in_threadpool(log_in, request, engine, username, password)
    except ApiError as exc:
        messages = {
            "invalid_credentials": N_("Wrong user name or password."),
            "locked_out": N_(
                "Too many failed attempts on this account: wait a minute and try again."
            ),
            "rate_limited": N_("Too many attempts. Wait a few minutes and try again."),
        }
        return render(
            request,
            "login.html",
            status_code=exc.status,
            error=gettext(messages.get(exc.code, messages["invalid_credentials"])),
            username=username,
        )
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(request, response, token)
    return response


@router.post("/logout", dependencies=[CsrfProtected])
def logout(request: Request, engine: EngineDep) -> Response:
    response = RedirectResponse("/", status_code=303)
    log_out(request, engine, response)
    return response
