"""Request-scoped dependencies: the database session, the engine, the current user, CSRF,
permissions.

``SessionDep`` (reads), ``EngineDep`` (writes), ``CurrentUser``/``OptionalUser`` and
``requires(permission)`` are the typed dependencies routes use; routes never build queries
themselves but call services.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from athar.security.auth import Permission, Role, csrf_valid, has_permission
from athar.services.actor import Actor
from athar.store.casework import User
from athar.web.errors import CsrfFailed, Forbidden, NotAuthenticated

SESSION_COOKIE = "athar_session"
ANON_COOKIE = "athar_anon"
#: the prefix of every cookie when served over HTTPS (``ATHAR_COOKIE_SECURE``): the browser
#: then keeps it only if Secure, with Path=/ and no Domain, so no sibling host can plant or
#: shadow it (issue 18, finding 22)
HOST_PREFIX = "__Host-"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def cookie_name(settings: Any, base: str) -> str:
    """The name cookie ``base`` has under ``settings``: ``__Host-`` + base over HTTPS."""
    return HOST_PREFIX + base if settings.cookie_secure else base


def delete_cookie(settings: Any, response: Response, base: str) -> None:
    """Remove cookie ``base`` (as it was set: Secure over HTTPS, which ``__Host-`` needs)."""
    response.delete_cookie(
        cookie_name(settings, base), secure=settings.cookie_secure, samesite="lax"
    )


@dataclass(frozen=True)
class WebUser:
    """The logged-in user as the web layer sees it (detached from the database)."""

    id: int
    username: str
    display_name: str
    role: Role
    source_code: str | None

    @classmethod
    def of(cls, user: User) -> WebUser:
        return cls(user.id, user.username, user.display_name, Role(user.role), user.source_code)

    def can(self, permission: str) -> bool:
        return has_permission(self.role, Permission(permission))

    @property
    def actor(self) -> Actor:
        return Actor(f"user:{self.username}", self.role, self.id, self.source_code)


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A session for the route, which uses it in its worker thread.

    ``async``: opening a session does no I/O (it connects on first use), and a sync
    dependency would cost each request one more hand-over to the thread pool, the largest
    single cost of a candidate search under load (py-spy).  Closing it does I/O only if a
    transaction is still open, and then runs in the pool too.
    """
    session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_db)]


async def get_engine(request: Request) -> Engine:
    """The app's engine, for the services that write: each opens and commits its own
    transaction on it (``athar/services/README.md``).  ``async``: no I/O."""
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]


def optional_user(request: Request) -> WebUser | None:
    user = getattr(request.state, "user", None)
    return user if isinstance(user, WebUser) else None


async def current_user(request: Request) -> WebUser:
    # async: no I/O here, and a sync dependency would cost a thread-pool hop per request
    user = optional_user(request)
    if user is None:
        raise NotAuthenticated("log in first")
    return user


OptionalUser = Annotated[WebUser | None, Depends(optional_user)]
CurrentUser = Annotated[WebUser, Depends(current_user)]


def actor_of(user: WebUser | None) -> Actor:
    from athar.services.actor import PUBLIC

    return user.actor if user else PUBLIC


def requires(permission: Permission) -> Callable[..., Awaitable[WebUser]]:
    """A dependency that answers 401 without a login and 403 without ``permission``."""

    async def dependency(user: CurrentUser) -> WebUser:
        if not user.can(permission.value):
            raise Forbidden(f"your role may not do this ({permission.value})")
        return user

    dependency.__name__ = f"requires_{permission.value}"
    return dependency


def csrf_binding(request: Request) -> str | None:
    """What the CSRF token of this request is bound to: the session, else the anonymous cookie."""
    return getattr(request.state, "csrf_binding", None)


async def csrf_protect(request: Request) -> AsyncIterator[None]:
    """Refuse a state-changing request whose CSRF token is missing or wrong.

    A token in the ``X-CSRF-Token`` header or the ``csrf_token`` query parameter is checked
    before a byte of the body is read: the upload forms put it in their action's query, so a
    forged upload is refused before anything is spooled to disk (issue 18, finding 4).  Only
    without one is a form body parsed (within the route's size limit,
    :mod:`athar.web.bodylimit`) for its ``csrf_token`` field, and cached on the request for
    the route; its uploaded files are closed when the request is done.
    """
    secret = request.app.state.settings.secret_key
    early = [request.headers.get(CSRF_HEADER), request.query_params.get(CSRF_FIELD)]
    if any(early):
        if not csrf_valid(secret, csrf_binding(request), early):
            raise CsrfFailed("missing or invalid CSRF token; reload the page and try again")
        try:
            yield
        finally:
            await request.close()  # the files of a form the route parsed, if it did
        return
    candidates: list[str | None] = []
    content_type = request.headers.get("content-type", "")
    form: FormData | None = None
    try:
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value: Any = form.get(CSRF_FIELD)
            candidates.append(value if isinstance(value, str) else None)
        if not csrf_valid(secret, csrf_binding(request), candidates):
            raise CsrfFailed("missing or invalid CSRF token; reload the page and try again")
        yield
    finally:
        if form is not None:
            await form.close()


CsrfProtected = Depends(csrf_protect)


#: Bounds of every integer a route takes (issue 18, finding 19): a database id fits a signed
#: 32-bit column on both stores, and no list is paged past a million rows.  Out of bounds is a
#: 422 naming the parameter, never a 500 from the driver.
MAX_ID = 2**31 - 1
MAX_OFFSET = 1_000_000
