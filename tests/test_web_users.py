"""Administrators disable, enable and reset accounts from the web app, audited (issue 14)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from athar.security.auth import Role
from athar.store.models import AuditEvent
from web_fixtures import PASSWORD, Web, api_login, csrf, keyring, web  # noqa: F401

__all__ = ["keyring", "web"]


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match
    return match.group(1)


def _can_log_in(web: Web, username: str, password: str) -> bool:
    client = web.client()
    r = client.post(
        "/api/v1/session",
        json={"username": username, "password": password},
        headers={"X-CSRF-Token": csrf(client)},
    )
    return r.status_code == 200


def test_an_administrator_disables_enables_and_resets_an_account(web: Web) -> None:
    web.add_user("admin", Role.ADMIN)
    web.add_user("rami", Role.REVIEWER)
    rami = web.client()
    api_login(rami, "rami")
    assert rami.get("/api/v1/review/queue").status_code == 200
    admin = web.client()
    api_login(admin, "admin")
    page = admin.get("/users?lang=en")
    assert 'action="/users/rami/active"' in page.text
    assert 'action="/users/admin/active"' not in page.text  # no button to lock oneself out
    token = _token(page.text)

    off = admin.post("/users/rami/active?lang=en", data={"active": "0", "csrf_token": token})
    assert off.status_code == 200 and "rami is disabled" in off.text
    assert rami.get("/api/v1/review/queue").status_code == 401  # the session has ended
    assert not _can_log_in(web, "rami", PASSWORD)

    on = admin.post("/users/rami/active?lang=ar", data={"active": "1", "csrf_token": token})
    assert on.status_code == 200 and 'dir="rtl"' in on.text
    assert _can_log_in(web, "rami", PASSWORD)

    reset = admin.post("/users/rami/password?lang=en", data={"csrf_token": token})
    assert reset.status_code == 200 and "rami has a new password" in reset.text
    found = re.search(r'<span class="secret" dir="ltr">([^<]+)</span>', reset.text)
    assert found
    assert not _can_log_in(web, "rami", PASSWORD)
    assert _can_log_in(web, "rami", found.group(1))
    assert found.group(1) not in admin.get("/users").text  # shown once

    mine = admin.post("/users/admin/active?lang=en", data={"active": "0", "csrf_token": token})
    assert mine.status_code == 422 and "cannot disable your own account" in mine.text
    bad = admin.post("/users/rami/active", data={"active": "maybe", "csrf_token": token})
    assert bad.status_code == 422
    assert admin.post("/users/nobody/password", data={"csrf_token": token}).status_code == 404
    with Session(web.engine) as db:
        actions = [
            (e.action, e.actor)
            for e in db.scalars(
                select(AuditEvent).where(AuditEvent.action.like("user.%")).order_by(AuditEvent.seq)
            )
        ]
    assert ("user.disable", "user:admin") in actions
    assert ("user.enable", "user:admin") in actions
    assert ("user.reset_password", "user:admin") in actions
