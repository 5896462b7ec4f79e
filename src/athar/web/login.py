"""Logging in and out, shared by the pages and the JSON API."""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy import Engine

from athar.security.auth import csrf_token, token_digest
from athar.services.access.users import (
    LoginPolicy,
    LoginRefused,
    authenticate,
    end_session,
    start_session,
)
from athar.store.casework import User
from athar.web.deps import (
    ANON_COOKIE,
    SESSION_COOKIE,
    actor_of,
    cookie_name,
    delete_cookie,
    optional_user,
)
from athar.web.errors import ApiError, InvalidCredentials, LockedOut, RateLimited
from athar.web.ratelimit import client_address
from athar.web.settings import Settings

_REFUSALS: dict[str, type[ApiError]] = {
    "invalid_credentials": InvalidCredentials,
    "locked_out": LockedOut,
    "rate_limited": RateLimited,
}


def policy(settings: Settings) -> LoginPolicy:
    return LoginPolicy(
        lockout_failures=settings.lockout_failures,
        lockout_minutes=settings.lockout_minutes,
        rate_per_client=settings.login_rate_per_ip,
        rate_window_minutes=settings.login_rate_window_minutes,
        max_delay_seconds=settings.login_max_delay_seconds,
    )


def log_in(request: Request, engine: Engine, username: str, password: str) -> tuple[User, str]:
    """Check the password and start a *new* session (the old cookie's session is revoked)."""
    settings: Settings = request.app.state.settings
    try:
        user = authenticate(
            engine,
            username=username,
            password=password,
            client=client_address(request),
            policy=policy(settings),
        )
    except LoginRefused as refused:
        raise _REFUSALS[refused.code](refused.message) from None
    token = start_session(
        engine,
        user=user,
        hours=settings.session_hours,
        previous_token=request.cookies.get(cookie_name(settings, SESSION_COOKIE)),
        idle_minutes=settings.session_idle_minutes,
    )
    return user, token


def session_csrf_token(request: Request, token: str) -> str:
    """The CSRF token that goes with a new session token."""
    return csrf_token(request.app.state.settings.secret_key, f"s:{token_digest(token)}")


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings: Settings = request.app.state.settings
    response.set_cookie(
        cookie_name(settings, SESSION_COOKIE),
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    # a fresh anonymous id too: nothing from before the login carries over
    delete_cookie(settings, response, ANON_COOKIE)


def log_out(request: Request, engine: Engine, response: Response) -> None:
    settings: Settings = request.app.state.settings
    end_session(
        engine,
        token=request.cookies.get(cookie_name(settings, SESSION_COOKIE)),
        actor=actor_of(optional_user(request)),
    )
    delete_cookie(settings, response, SESSION_COOKIE)
