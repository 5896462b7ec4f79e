"""Login, lock-out, rate limit, session rotation (no fixation), logout and CSRF, on both stores."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from athar.security.auth import Role
from athar.store.casework import LoginSession
from athar.store.models import AuditEvent
from athar.web.app import create_app
from web_fixtures import PASSWORD, Web, api_login, csrf, keyring, settings, web  # noqa: F401

__all__ = ["keyring", "web"]


def _form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "form without a CSRF token"
    return match.group(1)


def test_page_login_rotates_the_session_and_logout_revokes_it(web: Web) -> None:
    web.add_user("amira", Role.CASE_WORKER)
    client = web.client()
    # An attacker plants a session id before the login (fixation attempt).
    client.cookies.set("athar_session", "planted-by-attacker", domain="testserver.local")
    page = client.get("/login")
    assert page.status_code == 200
    response = client.post(
        "/login",
        data={"username": "amira", "password": PASSWORD, "csrf_token": _form_token(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    first = client.cookies.get("athar_session")
    assert first and first != "planted-by-attacker"
    assert client.get("/api/v1/me").json()["username"] == "amira"

    # A second login issues a new id and revokes the previous one.
    api_login(client, "amira")
    second = client.cookies.get("athar_session")
    assert second and second != first
    stale = web.client()
    stale.cookies.set("athar_session", first)
    assert stale.get("/api/v1/me").status_code == 401

    # Logging out revokes the session server-side: replaying the cookie fails.
    home = client.get("/")
    out = client.post(
        "/logout", data={"csrf_token": _form_token(home.text)}, follow_redirects=False
    )
    assert out.status_code == 303
    replay = web.client()
    replay.cookies.set("athar_session", second)
    assert replay.get("/api/v1/me").status_code == 401
    with Session(web.engine) as db:
        sessions = db.scalars(select(LoginSession)).all()
        assert len(sessions) == 2 and all(s.revoked_at is not None for s in sessions)
        # only digests are stored, never the cookie value
        assert {s.token_digest for s in sessions}.isdisjoint({first, second})
        actions = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert actions.count("login.success") == 2 and "logout" in actions


def test_wrong_password_and_unknown_user_answer_alike(web: Web) -> None:
    web.add_user("amira", Role.ADMIN)
    client = web.client()
    token = csrf(client)
    bodies = []
    for username in ("amira", "nobody"):
        r = client.post(
            "/api/v1/session",
            json={"username": username, "password": "wrong password!"},
            headers={"X-CSRF-Token": token},
        )
        assert r.status_code == 401
        bodies.append(r.json())
    assert bodies[0] == bodies[1]
    assert bodies[0]["error"]["code"] == "invalid_credentials"


def test_repeated_failures_make_even_the_right_password_wait(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within the delay after the failures (the clock stands still here: the delay is a few
    seconds, and a loaded machine must not pass it), even the right password is refused."""
    from athar.services.access import users

    frozen = users.now()
    monkeypatch.setattr(users, "now", lambda: frozen)
    web.add_user("amira", Role.ADMIN)
    client = web.client()
    token = csrf(client)

    def attempt(username: str, password: str) -> tuple[int, str]:
        r = client.post(
            "/api/v1/session",
            json={"username": username, "password": password},
            headers={"X-CSRF-Token": token},
        )
        return r.status_code, r.json().get("error", {}).get("code", "ok")

    for _ in range(web.settings.lockout_failures):
        assert attempt("amira", "not the password") == (401, "invalid_credentials")
    assert attempt("amira", PASSWORD) == (429, "locked_out")
    # an account that does not exist locks the same way (no enumeration)
    for _ in range(web.settings.lockout_failures):
        attempt("ghost", "not the password")
    assert attempt("ghost", PASSWORD) == (429, "locked_out")
    # the page says so in the user's language
    page = client.get("/login?lang=ar")
    r = client.post(
        "/login",
        data={"username": "amira", "password": PASSWORD, "csrf_token": _form_token(page.text)},
    )
    assert r.status_code == 429 and "انتظر دقيقة" in r.text


def test_reset_password_clears_the_lock(web: Web) -> None:
    from athar.services.access.users import reset_password
    from athar.services.actor import CLI

    web.add_user("amira", Role.ADMIN)
    client = web.client()
    token = csrf(client)
    for _ in range(web.settings.lockout_failures):
        client.post(
            "/api/v1/session",
            json={"username": "amira", "password": "nope nope nope"},
            headers={"X-CSRF-Token": token},
        )
    new_password = reset_password(web.engine, actor=CLI, username="amira")
    assert api_login(client, "amira", new_password)


def test_login_rate_limit_per_client_address(db_url: str, keyring: object) -> None:
    from sqlalchemy import Engine

    from athar.store.engine import make_engine

    engine: Engine = make_engine(db_url)
    try:
        app = create_app(settings(db_url, login_rate_per_ip=3), engine=engine, keyring=keyring)  # type: ignore[arg-type]
        from fastapi.testclient import TestClient

        client = TestClient(app)
        token = csrf(client)
        codes = []
        for i in range(5):
            r = client.post(
                "/api/v1/session",
                json={"username": f"user{i}", "password": "whatever123456"},
                headers={"X-CSRF-Token": token},
            )
            codes.append(r.json()["error"]["code"])
        assert codes[:3] == ["invalid_credentials"] * 3
        assert codes[3:] == ["rate_limited"] * 2
    finally:
        engine.dispose()


def test_csrf_is_required_and_bound_to_the_session(web: Web) -> None:
    web.add_user("amira", Role.ADMIN)
    client = web.client()
    anonymous_token = csrf(client)
    # no token, a wrong token: refused
    for headers in ({}, {"X-CSRF-Token": "0" * 64}):
        r = client.post(
            "/api/v1/session", json={"username": "amira", "password": PASSWORD}, headers=headers
        )
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    # a form without its token is refused too
    r = client.post("/login", data={"username": "amira", "password": PASSWORD})
    assert r.status_code == 403 and "dir=" in r.text
    session_token = api_login(client, "amira")
    assert session_token != anonymous_token
    # the token from before the login no longer works
    r = client.post(
        "/api/v1/users",
        json={"username": "x1", "display_name": "X", "role": "reviewer"},
        headers={"X-CSRF-Token": anonymous_token},
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    # another user's session token does not work in this session
    web.add_user("badr", Role.ADMIN)
    other = web.client()
    other_token = api_login(other, "badr")
    r = client.post(
        "/api/v1/users",
        json={"username": "x1", "display_name": "X", "role": "reviewer"},
        headers={"X-CSRF-Token": other_token},
    )
    assert r.status_code == 403
    r = client.post(
        "/api/v1/users",
        json={"username": "x1", "display_name": "X", "role": "reviewer"},
        headers={"X-CSRF-Token": session_token},
    )
    assert r.status_code == 201


def test_disabled_user_loses_the_session(web: Web) -> None:
    from athar.services.access.users import set_active
    from athar.services.actor import CLI

    web.add_user("amira", Role.CASE_WORKER)
    client = web.client()
    api_login(client, "amira")
    assert client.get("/api/v1/me").status_code == 200
    set_active(web.engine, actor=CLI, username="amira", active=False)
    assert client.get("/api/v1/me").status_code == 401
    token = csrf(client)
    r = client.post(
        "/api/v1/session",
        json={"username": "amira", "password": PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 401


def test_cookies_are_http_only_and_same_site(web: Web) -> None:
    web.add_user("amira", Role.ADMIN)
    client = web.client()
    token = csrf(client)
    r = client.post(
        "/api/v1/session",
        json={"username": "amira", "password": PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("athar_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_sliding_window_forgets_old_hits() -> None:
    from athar.web.ratelimit import SlidingWindow

    window = SlidingWindow(2, window_seconds=60)
    assert window.allow("a", now=0) and window.allow("a", now=1)
    assert not window.allow("a", now=30) and window.allow("b", now=30)
    assert window.allow("a", now=61)


def test_candidate_search_is_rate_limited_per_user(db_url: str, keyring: object) -> None:
    from athar.store.engine import make_engine
    from web_fixtures import intake_json

    engine = make_engine(db_url)
    try:
        app = create_app(
            settings(db_url, search_rate_per_minute=3),
            engine=engine,
            keyring=keyring,  # type: ignore[arg-type]
        )
        web = Web(app, engine, app.state.settings)
        public = web.client()
        reference = public.post(
            "/api/v1/tracing-requests", json=intake_json(), headers={"X-CSRF-Token": csrf(public)}
        ).json()["reference"]
        web.add_user("amira", Role.CASE_WORKER)
        web.add_user("badr", Role.CASE_WORKER)
        amira, badr = web.client(), web.client()
        api_login(amira, "amira")
        api_login(badr, "badr")
        url = f"/api/v1/tracing-requests/{reference}/candidates"
        codes = [amira.get(url).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert amira.get(url).json()["error"]["code"] == "rate_limited"
        assert amira.get(f"/requests/{reference}/candidates").status_code == 429
        assert badr.get(url).status_code == 200
    finally:
        engine.dispose()
