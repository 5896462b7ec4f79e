"""JSON API: the session (log in, log out, who am I, CSRF token)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from athar.web.deps import CsrfProtected, CurrentUser, EngineDep, OptionalUser, WebUser
from athar.web.login import log_in, log_out, session_csrf_token, set_session_cookie
from athar.web.schemas import ErrorOut, LoginIn, SessionOut, UserOut

router = APIRouter(
    prefix="/api/v1",
    tags=["session"],
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 429: {"model": ErrorOut}},
)


def user_out(user: WebUser) -> UserOut:
    return UserOut(
        username=user.username,
        display_name=user.display_name,
        role=user.role.value,
        source_code=user.source_code,
    )


@router.get("/session", response_model=SessionOut)
def get_session(request: Request, user: OptionalUser) -> SessionOut:
    """Who is logged in, and the CSRF token to send as ``X-CSRF-Token``."""
    return SessionOut(
        authenticated=user is not None,
        user=user_out(user) if user else None,
        csrf_token=request.state.csrf_token,
    )


@router.post("/session", response_model=SessionOut, dependencies=[CsrfProtected])
def create_session(
    body: LoginIn, request: Request, response: Response, engine: EngineDep
) -> SessionOut:
    """Log in.  A new session id is issued; the CSRF token changes with it."""
    user, token = log_in(request, engine, body.username, body.password)
    set_session_cookie(request, response, token)
    return SessionOut(
        authenticated=True,
        user=user_out(WebUser.of(user)),
        csrf_token=session_csrf_token(request, token),
    )


@router.delete("/session", status_code=204, dependencies=[CsrfProtected])
def delete_session(request: Request, engine: EngineDep, user: CurrentUser) -> Response:
    """Log out: the session is revoked server-side."""
    response = Response(status_code=204)
    log_out(request, engine, response)
    return response


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return user_out(user)
