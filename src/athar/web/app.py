"""The app factory.  Nothing is built at import time: call :func:`create_app`.

Routers are split by capability (``athar.web.routes.*``); later capabilities (candidate view,
person page, unidentified intake, review queue) add a router each.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from athar import __version__
from athar.security import crypto
from athar.security.auth import Role, csrf_token, new_token, token_digest
from athar.services.access.users import keep_session_alive, session_user_columns
from athar.services.figures.overview import FiguresCache
from athar.services.linking.review import EXPLANATIONS
from athar.store.engine import make_engine, reads_without_transaction
from athar.store.keycheck import check_keys
from athar.store.migrate import require_current
from athar.web.apidocs import install_api_docs
from athar.web.bodylimit import BodyLimit
from athar.web.deps import ANON_COOKIE, SESSION_COOKIE, WebUser, cookie_name, delete_cookie
from athar.web.errors import install_error_handlers
from athar.web.i18n import LANG_COOKIE, LOCALES, load_languages, negotiate
from athar.web.ratelimit import IntakeThrottle, SlidingWindow
from athar.web.render import build_environments
from athar.web.settings import Settings

#: Content-Security-Policy of every page: no inline script, nothing from elsewhere.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def routers() -> list[APIRouter]:
    """Every router of the app, one per capability (the permission-matrix test walks them)."""
    from athar.web.routes import (
        api_auth,
        api_candidates,
        api_persons,
        api_pfif,
        api_registry,
        api_requests,
        api_review,
        api_unidentified,
        api_users,
        pages_candidates,
        pages_persons,
        pages_public,
        pages_registry,
        pages_requests,
        pages_review,
        pages_staff,
        pages_unidentified,
    )

    return [
        api_auth.router,
        api_requests.router,
        api_candidates.router,
        api_persons.router,
        api_users.router,
        api_registry.router,
        api_pfif.router,
        api_review.router,
        api_unidentified.router,
        pages_public.router,
        pages_staff.router,
        pages_requests.router,
        pages_candidates.router,
        pages_persons.router,
        pages_registry.router,
        pages_review.router,
        pages_unidentified.router,
    ]


def _load_user(app: FastAPI, token: str) -> WebUser | None:
    with app.state.engine.connect() as conn:
        conn.execution_options(**reads_without_transaction(conn))
        row = session_user_columns(conn, token)
    if row is None:
        return None
    settings: Settings = app.state.settings
    # used: the idle deadline moves on (one write a minute at most; issue 18, finding 22)
    keep_session_alive(
        app.state.engine,
        token=token,
        row=row,
        idle_minutes=settings.session_idle_minutes,
        hours=settings.session_hours,
    )
    return WebUser(row.id, row.username, row.display_name, Role(row.role), row.source_code)


class RequestContext:
    """Per-request context and the response's security headers, as plain ASGI middleware.

    Before the route: the language, the logged-in user (one indexed lookup of the session
    token, skipped for static files), the CSRF binding and token, on ``request.state``.  After
    it: the language and anonymous cookies, removal of a dead session cookie, and the security
    headers of every answer.  (Plain ASGI, not ``@app.middleware("http")``: that wrapper runs
    each request through extra tasks and streams, which cost more than the candidate search
    itself under load; profiled with py-spy.)
    """

    def __init__(self, app: ASGIApp, app_ref: FastAPI, settings: Settings) -> None:
        self.app = app
        self.fastapi = app_ref
        self.settings = settings
        #: ``__Host-`` names over HTTPS (issue 18, finding 22)
        self.names = tuple(
            cookie_name(settings, c) for c in (SESSION_COOKIE, ANON_COOKIE, LANG_COOKIE)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.settings
        session_cookie, anon_cookie, lang_cookie = self.names
        request = Request(scope)
        query_lang = request.query_params.get("lang")
        cookies = request.cookies
        path: str = scope["path"]
        state = scope.setdefault("state", {})
        state["lang"] = negotiate(
            query_lang,
            cookies.get(lang_cookie),
            request.headers.get("accept-language"),
            settings.default_locale,
        )
        token = cookies.get(session_cookie)
        if path.startswith("/static/"):
            token = None  # no database round trip for a stylesheet
        user = await run_in_threadpool(_load_user, self.fastapi, token) if token else None
        state["user"] = user
        state["session_token"] = token if user else None
        anon = cookies.get(anon_cookie)
        fresh_anon = None
        if not anon or len(anon) > 64:
            anon = fresh_anon = new_token()
        binding = f"s:{token_digest(token)}" if user and token else f"a:{anon}"
        state["csrf_binding"] = binding
        state["csrf_token"] = csrf_token(settings.secret_key, binding)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                cookies_set = " ".join(headers.getlist("set-cookie"))
                extra = Response()
                secure = settings.cookie_secure
                if query_lang and query_lang.lower() in LOCALES:
                    extra.set_cookie(
                        lang_cookie,
                        query_lang.lower(),
                        max_age=365 * 86400,
                        samesite="lax",
                        secure=secure,
                    )
                if fresh_anon and anon_cookie not in cookies_set:
                    extra.set_cookie(
                        anon_cookie, fresh_anon, httponly=True, samesite="lax", secure=secure
                    )
                if token and user is None and session_cookie not in cookies_set:
                    delete_cookie(settings, extra, SESSION_COOKIE)
                for key, value in extra.raw_headers:
                    if key == b"set-cookie":
                        headers.append("set-cookie", value.decode("latin-1"))
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("Content-Security-Policy", CSP)
                headers.setdefault("Vary", "Cookie, Accept-Language")
                if not path.startswith("/static/"):
                    # nothing the app answers may be kept by a browser or proxy: contacts,
                    # notes, a new user's password, CSRF tokens (issue 18, finding 17)
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    keyring: crypto.KeyRing | None = None,
) -> FastAPI:
    """Build the web app on the store named by ``settings.database_url`` (or ``engine``)."""
    settings = settings or Settings.from_env()
    if keyring is not None:
        crypto.configure(keyring)
    ring = crypto.current_keyring()  # fail at start-up, not at the first request, without a key
    engine = engine or make_engine(settings.database_url)
    require_current(engine)
    # and with the wrong key: never seal new contacts under it (issue 18, finding 8)
    check_keys(engine, ring, doing="start the web app")

    app = FastAPI(
        title="Athar",
        version=__version__,
        description=(
            "Tracing requests, case work and the registry of the disappeared. Every error "
            'answers {"error": {"code": ..., "message": ...}}. State-changing calls need the '
            "X-CSRF-Token header: GET /api/v1/session returns the token for your session."
        ),
        # no schema either when the docs are turned off (ATHAR_API_DOCS=false)
        openapi_url="/api/openapi.json" if settings.api_docs else None,
        docs_url=None,  # served by athar.web.apidocs: no CDN, the pages' CSP
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker(engine, expire_on_commit=False)
    app.state.limiters = {
        "candidates": SlidingWindow(settings.search_rate_per_minute),
        # pair explanations and statistics: the costly reads (issue 18, finding 10)
        "costly": SlidingWindow(settings.costly_rate_per_minute),
    }
    EXPLANATIONS.resize(settings.explain_cache_size)
    app.state.intake_throttle = IntakeThrottle(
        settings.intake_per_client_per_hour, settings.intake_per_minute, settings.intake_per_hour
    )
    app.state.figures_cache = FiguresCache()  # the person figures, until the store changes
    app.state.languages = load_languages()
    app.state.jinja = build_environments(app.state.languages, settings.timezone)

    install_error_handlers(app)

    # the last added runs first: the client's address and scheme from a trusted proxy, then
    # the request's context, then the body's size (before any route reads it)
    app.add_middleware(BodyLimit, app_ref=app, settings=settings)
    app.add_middleware(RequestContext, app_ref=app, settings=settings)
    proxies = settings.proxy_networks()
    if proxies:  # X-Forwarded-For/-Proto from these only; nobody else's is believed
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)

    for router in routers():
        app.include_router(router)
    if settings.api_docs:
        install_api_docs(app)
    app.mount("/static", StaticFiles(packages=[("athar.web", "static")]), name="static")
    return app
