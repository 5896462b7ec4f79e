"""Permission matrix: every endpoint against every role (and no login), on both stores.

The table below must list every route the app serves: a new route without a row fails
``test_the_matrix_covers_every_route``.  Expected answers:

* ``PUBLIC``: anybody, logged in or not, gets the success status;
* a set of roles on a role-gated endpoint: others get 403 ``forbidden`` (401 without login);
* a set of roles on a record endpoint: others get 404 ``not_found``, exactly like a missing
  record (401 without login).
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from athar.security.auth import PERMISSIONS, Permission, Role
from athar.services.actor import CLI
from athar.services.casework.unidentified import register, validate
from athar.store.models import LinkDecision, LinkRun, Person, Record, Source
from athar.web.app import routers
from web_fixtures import (  # noqa: F401
    PASSWORD,
    Web,
    api_login,
    csrf,
    image_bytes,
    intake_json,
    keyring,
    web,
)

__all__ = ["keyring", "web"]

PUBLIC = frozenset(Role) | {None}
LOGGED_IN = frozenset(Role)
ROLE_GATE = "role"  # refused with 403
RECORD = "record"  # refused with 404
_counter = itertools.count()
#: two records for the review endpoints, filled in by the test
PAIR: dict[str, str] = {}


@dataclass(frozen=True)
class Call:
    method: str
    route: str  # the route's path template, as registered
    allowed: frozenset[Role | None]
    ok: int
    kind: str = ROLE_GATE
    #: builds the request: (client, csrf token, reference) -> kwargs for client.request
    build: Callable[[TestClient, str, str], dict[str, Any]] | None = None


def roles(permission: Permission) -> frozenset[Role | None]:
    return frozenset(PERMISSIONS[permission])


def _json(body: Callable[[], dict[str, Any]]) -> Callable[[TestClient, str, str], dict[str, Any]]:
    return lambda client, token, ref: {"json": body(), "headers": {"X-CSRF-Token": token}}


def _form(body: Callable[[], dict[str, Any]]) -> Callable[[TestClient, str, str], dict[str, Any]]:
    return lambda client, token, ref: {"data": {**body(), "csrf_token": token}}


def _new_user() -> dict[str, Any]:
    return {"username": f"new{next(_counter)}", "display_name": "New", "role": "reviewer"}


def _upload(client: TestClient, token: str, ref: str) -> dict[str, Any]:
    n = next(_counter)
    content = f"source,record_id,given_name\nngo_x,X-{n},Omar\n".encode()
    return {
        "files": {"file": (f"list{n}.csv", content, "text/csv")},
        "headers": {"X-CSRF-Token": token},
    }


def _upload_form(client: TestClient, token: str, ref: str) -> dict[str, Any]:
    kwargs = _upload(client, token, ref)
    return {"files": kwargs["files"], "data": {"csrf_token": token}}


def _pair(client: TestClient, token: str, ref: str) -> dict[str, Any]:
    return {"params": dict(PAIR)}


def _decision_json(client: TestClient, token: str, ref: str) -> dict[str, Any]:
    body = {**PAIR, "decision": "no_match", "reason": "different mothers"}
    return {"json": body, "headers": {"X-CSRF-Token": token}}


def _decision_form(client: TestClient, token: str, ref: str) -> dict[str, Any]:
    return {"data": {**PAIR, "decision": "no_match", "reason": "different", "csrf_token": token}}


def _candidate(client: TestClient, token: str, ref: str) -> dict[str, Any]:
    return {"params": {"b": PAIR["b"]}}


def _candidate_json(client: TestClient, token: str, ref: str) -> dict[str, Any]:
    body = {"b": PAIR.get("b", ""), "decision": "no_match", "reason": "different person"}
    return {"json": body, "headers": {"X-CSRF-Token": token}}


def _candidate_form(client: TestClient, token: str, ref: str) -> dict[str, Any]:
    body = {"b": PAIR.get("b", ""), "decision": "no_match", "reason": "different"}
    return {"data": {**body, "csrf_token": token}}


def _unidentified_json(client: TestClient, token: str, ref: str) -> dict[str, Any]:
    return {
        "json": {"kind": "body", "sex": "M", "age": "30-40"},
        "headers": {"X-CSRF-Token": token},
    }


def _unidentified_form(client: TestClient, token: str, ref: str) -> dict[str, Any]:
    return {"data": {"kind": "living", "age": "25-35", "csrf_token": token}}


def _other(client: TestClient, token: str, ref: str) -> dict[str, Any]:
    return {"params": {"b": PAIR["a"]}}


def _other_json(client: TestClient, token: str, ref: str) -> dict[str, Any]:
    body = {"b": PAIR.get("a", ""), "decision": "no_match", "reason": "different person"}
    return {"json": body, "headers": {"X-CSRF-Token": token}}


def _other_form(client: TestClient, token: str, ref: str) -> dict[str, Any]:
    body = {"b": PAIR.get("a", ""), "decision": "no_match", "reason": "different"}
    return {"data": {**body, "csrf_token": token}}


PHOTO = base64.b64encode(image_bytes("JPEG")).decode()

MATRIX = [
    # JSON API
    Call("GET", "/api/v1/session", PUBLIC, 200),
    Call("GET", "/api/v1/me", LOGGED_IN, 200),
    Call("GET", "/api/v1/users", roles(Permission.MANAGE_USERS), 200),
    Call("POST", "/api/v1/users", roles(Permission.MANAGE_USERS), 201, build=_json(_new_user)),
    Call("POST", "/api/v1/tracing-requests", PUBLIC, 201, build=_json(intake_json)),
    Call("GET", "/api/v1/tracing-requests", roles(Permission.READ_REQUESTS), 200),
    Call(
        "GET", "/api/v1/tracing-requests/{reference}", roles(Permission.READ_REQUESTS), 200, RECORD
    ),
    Call(
        "GET",
        "/api/v1/tracing-requests/{reference}/contact",
        roles(Permission.READ_CONTACT),
        200,
        RECORD,
    ),
    Call(
        "GET",
        "/api/v1/tracing-requests/{reference}/photo",
        roles(Permission.READ_REQUESTS),
        200,
        RECORD,
    ),
    Call(
        "PUT",
        "/api/v1/tracing-requests/{reference}/status",
        roles(Permission.WORK_REQUESTS),
        200,
        RECORD,
        _json(lambda: {"status": "in_progress"}),
    ),
    Call(
        "PUT",
        "/api/v1/tracing-requests/{reference}/spam",
        roles(Permission.MARK_SPAM),
        200,
        RECORD,
        _json(lambda: {"spam": False, "reason": "checked: a real request"}),
    ),
    Call(
        "PUT",
        "/api/v1/tracing-requests/{reference}/consent",
        roles(Permission.WORK_REQUESTS),
        200,
        RECORD,
        _json(lambda: {"consent": ["partners"]}),
    ),
    Call(
        "GET",
        "/api/v1/tracing-requests/{reference}/notes",
        roles(Permission.READ_REQUESTS),
        200,
        RECORD,
    ),
    Call(
        "POST",
        "/api/v1/tracing-requests/{reference}/notes",
        roles(Permission.WORK_REQUESTS),
        201,
        RECORD,
        _json(lambda: {"text": "called the family", "sensitive": True}),
    ),
    Call(
        "GET",
        "/api/v1/tracing-requests/{reference}/notifications",
        roles(Permission.READ_REQUESTS),
        200,
        RECORD,
    ),
    Call(
        "POST",
        "/api/v1/tracing-requests/{reference}/notifications",
        roles(Permission.WORK_REQUESTS),
        201,
        RECORD,
        _json(lambda: {"channel": "phone", "outcome": "no_news", "details": "no news yet"}),
    ),
    Call(
        "GET",
        "/api/v1/tracing-requests/{reference}/candidates",
        roles(Permission.READ_REQUESTS),
        200,
        RECORD,
    ),
    Call(
        "GET",
        "/api/v1/tracing-requests/{reference}/candidates/pair",
        roles(Permission.READ_REQUESTS),
        200,
        RECORD,
        _candidate,
    ),
    Call(
        "POST",
        "/api/v1/tracing-requests/{reference}/candidates/decisions",
        roles(Permission.WORK_REQUESTS),
        201,
        RECORD,
        _candidate_json,
    ),
    Call("GET", "/api/v1/persons/{person_id}", roles(Permission.READ_PERSONS), 200, RECORD),
    Call(
        "POST",
        "/api/v1/unidentified",
        roles(Permission.WORK_REQUESTS),
        201,
        build=_unidentified_json,
    ),
    Call("GET", "/api/v1/unidentified", roles(Permission.READ_REQUESTS), 200),
    Call("GET", "/api/v1/unidentified/{reference}", roles(Permission.READ_REQUESTS), 200, RECORD),
    Call(
        "GET",
        "/api/v1/unidentified/{reference}/pair",
        roles(Permission.READ_REQUESTS),
        200,
        RECORD,
        _other,
    ),
    Call(
        "POST",
        "/api/v1/unidentified/{reference}/decisions",
        roles(Permission.WORK_REQUESTS),
        201,
        RECORD,
        _other_json,
    ),
    Call("POST", "/api/v1/imports", roles(Permission.IMPORT_LISTS), 201, build=_upload),
    Call("GET", "/api/v1/stats", roles(Permission.READ_AGGREGATES), 200),
    # a partner's API key reads it, never a session (tests/test_pfif.py)
    Call("GET", "/api/v1/pfif/feed", frozenset(), 200),
    Call("GET", "/api/v1/review/queue", roles(Permission.REVIEW), 200),
    Call("GET", "/api/v1/review/pair", roles(Permission.REVIEW), 200, build=_pair),
    Call("POST", "/api/v1/review/decisions", roles(Permission.REVIEW), 201, build=_decision_json),
    # pages
    Call("GET", "/review", roles(Permission.REVIEW), 200),
    Call("GET", "/review/pair", roles(Permission.REVIEW), 200, build=_pair),
    Call("POST", "/review/decisions", roles(Permission.REVIEW), 303, build=_decision_form),
    Call("GET", "/", PUBLIC, 200),
    Call("GET", "/request", PUBLIC, 200),
    Call(
        "POST",
        "/request",
        PUBLIC,
        201,
        build=_form(lambda: {**intake_json(), "consent": ["partners"]}),
    ),
    Call("GET", "/login", PUBLIC, 200),
    Call("GET", "/requests", roles(Permission.READ_REQUESTS), 200),
    Call("GET", "/requests/{reference}", roles(Permission.READ_REQUESTS), 200, RECORD),
    Call("GET", "/requests/{reference}/contact", roles(Permission.READ_CONTACT), 200, RECORD),
    Call("GET", "/requests/{reference}/photo", roles(Permission.READ_REQUESTS), 200, RECORD),
    Call(
        "POST",
        "/requests/{reference}/status",
        roles(Permission.WORK_REQUESTS),
        303,
        RECORD,
        _form(lambda: {"status": "in_progress"}),
    ),
    Call(
        "POST",
        "/requests/{reference}/spam",
        roles(Permission.MARK_SPAM),
        303,
        RECORD,
        _form(lambda: {"spam": "no", "reason": "checked: a real request"}),
    ),
    Call(
        "POST",
        "/requests/{reference}/consent",
        roles(Permission.WORK_REQUESTS),
        303,
        RECORD,
        _form(lambda: {"consent": ["research"]}),
    ),
    Call(
        "POST",
        "/requests/{reference}/notes",
        roles(Permission.WORK_REQUESTS),
        303,
        RECORD,
        _form(lambda: {"text": "called the family"}),
    ),
    Call(
        "POST",
        "/requests/{reference}/notifications",
        roles(Permission.WORK_REQUESTS),
        303,
        RECORD,
        _form(lambda: {"channel": "letter", "outcome": "no_news"}),
    ),
    Call("GET", "/requests/{reference}/candidates", roles(Permission.READ_REQUESTS), 200, RECORD),
    Call(
        "GET",
        "/requests/{reference}/candidates/pair",
        roles(Permission.READ_REQUESTS),
        200,
        RECORD,
        _candidate,
    ),
    Call(
        "POST",
        "/requests/{reference}/candidates/decisions",
        roles(Permission.WORK_REQUESTS),
        303,
        RECORD,
        _candidate_form,
    ),
    Call("GET", "/persons/{person_id}", roles(Permission.READ_PERSONS), 200, RECORD),
    Call("GET", "/unidentified", roles(Permission.READ_REQUESTS), 200),
    Call("GET", "/unidentified/new", roles(Permission.WORK_REQUESTS), 200),
    Call(
        "POST", "/unidentified/new", roles(Permission.WORK_REQUESTS), 303, build=_unidentified_form
    ),
    Call("GET", "/unidentified/{reference}", roles(Permission.READ_REQUESTS), 200, RECORD),
    Call(
        "GET",
        "/unidentified/{reference}/pair",
        roles(Permission.READ_REQUESTS),
        200,
        RECORD,
        _other,
    ),
    Call(
        "POST",
        "/unidentified/{reference}/decisions",
        roles(Permission.WORK_REQUESTS),
        303,
        RECORD,
        _other_form,
    ),
    Call("GET", "/imports", roles(Permission.IMPORT_LISTS), 200),
    Call("POST", "/imports", roles(Permission.IMPORT_LISTS), 303, build=_upload_form),
    # no such job (a job of another user answers the same)
    Call("GET", "/imports/jobs/{job_id}", roles(Permission.IMPORT_LISTS), 404),
    Call("GET", "/stats", roles(Permission.READ_AGGREGATES), 200),
    Call("GET", "/users", roles(Permission.MANAGE_USERS), 200),
    Call("POST", "/users", roles(Permission.MANAGE_USERS), 201, build=_form(_new_user)),
    Call(
        "POST",
        "/users/{username}/active",
        roles(Permission.MANAGE_USERS),
        200,
        build=_form(lambda: {"active": "1"}),
    ),
    Call(
        "POST",
        "/users/{username}/password",
        roles(Permission.MANAGE_USERS),
        200,
        build=_form(dict),
    ),
    Call("GET", "/sources", roles(Permission.MANAGE_USERS), 200),
    Call(
        "POST",
        "/sources/pfif",
        roles(Permission.MANAGE_USERS),
        200,
        build=_form(lambda: {"source": "partner.example", "decision": "allow", "reason": "MoU"}),
    ),
]
#: these end or start the caller's session; they are exercised last, on their own client
SESSION_CALLS = [
    Call("POST", "/api/v1/session", PUBLIC, 200),
    Call("POST", "/login", PUBLIC, 303),
    Call("DELETE", "/api/v1/session", LOGGED_IN, 204),
    Call("POST", "/logout", PUBLIC, 303),
]


def test_the_matrix_covers_every_route(web: Web) -> None:
    served = {
        (method, route.path)
        for router in routers()
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
        if method != "HEAD"
    }
    listed = {(c.method, c.route) for c in MATRIX + SESSION_CALLS}
    assert served == listed, f"missing from the matrix: {served - listed}; stale: {listed - served}"
    # and every router is mounted: each listed route answers something other than 404/405
    client = web.client()
    for method, path in served:
        if "{" not in path:
            assert client.request(method, path).status_code not in (404, 405), (method, path)


def score_pairs(web: Web, pairs: list[tuple[str, str]]) -> None:
    """A link run (without a model) that scored each pair of keys ``source:record_id``."""
    now = datetime.now(UTC)
    with Session(web.engine) as db:
        run = LinkRun(
            engine="test",
            settings={},
            threshold=20.0,
            actor="test",
            started_at=now,
            finished_at=now,
        )
        db.add(run)
        db.flush()
        for a, b in pairs:
            ids = []
            for key in (a, b):
                code, _, rid = key.partition(":")
                ids.append(
                    db.scalars(
                        select(Record.id)
                        .join(Source, Source.id == Record.source_id)
                        .where(Source.code == code, Record.record_id == rid)
                    ).one()
                )
            db.add(
                LinkDecision(
                    kind="automatic",
                    record_a_id=ids[0],
                    record_b_id=ids[1],
                    score=5.0,
                    link_run_id=run.id,
                    decided_at=now,
                )
            )
        db.commit()


def seed_world(web: Web) -> dict[str, str]:
    """A request (with a photo), a second one (the pair for review calls), an unidentified
    person and a person: the ids every route of the matrix is called with."""
    public = web.client()
    token = csrf(public)
    reference = public.post(
        "/api/v1/tracing-requests",
        json=intake_json(photo_base64=PHOTO),
        headers={"X-CSRF-Token": token},
    ).json()["reference"]
    other = public.post(
        "/api/v1/tracing-requests", json=intake_json(), headers={"X-CSRF-Token": token}
    ).json()["reference"]
    PAIR.update(a=f"family:{reference}", b=f"family:{other}")
    unknown = register(web.engine, actor=CLI, values=validate({"kind": "body", "sex": "F"}))
    # the pair routes answer only for pairs a link run scored (issue 18, finding 14)
    score_pairs(web, [(PAIR["a"], PAIR["b"]), (f"unidentified:{unknown}", PAIR["a"])])
    with Session(web.engine) as db:
        person = Person(created_at=datetime.now(UTC))
        db.add(person)
        db.commit()
        person_id = str(person.id)
    return {"reference": reference, "unidentified": unknown, "person_id": person_id}


def _client(web: Web, role: Role | None) -> tuple[TestClient, str]:
    client = web.client()
    if role is None:
        return client, csrf(client)
    return client, api_login(client, role.value)


def test_every_role_against_every_endpoint(web: Web) -> None:
    for role in Role:
        web.add_user(role.value, role, source_code="ngo_x" if role is Role.DATA_PARTNER else None)
    web.add_user("target", Role.REVIEWER)  # the account the user-management routes act on
    ids = seed_world(web)
    reference, unknown, person_id = ids["reference"], ids["unidentified"], ids["person_id"]

    failures: list[str] = []
    for role in [None, *Role]:
        client, token = _client(web, role)
        for call in MATRIX:
            ref = unknown if "unidentified" in call.route else reference
            url = call.route.replace("{reference}", ref).replace("{person_id}", person_id)
            url = url.replace("{job_id}", "999999").replace("{username}", "target")
            kwargs = call.build(client, token, reference) if call.build else {}
            response = client.request(call.method, url, follow_redirects=False, **kwargs)
            if role in call.allowed:
                expected, code = call.ok, None
            elif role is None:
                expected, code = 401, "not_authenticated"
            elif call.kind == RECORD:
                expected, code = 404, "not_found"
            else:
                expected, code = 403, "forbidden"
            if response.status_code != expected:
                failures.append(
                    f"{role} {call.method} {call.route}: {response.status_code} != {expected}"
                )
            elif code and url.startswith("/api/") and response.json()["error"]["code"] != code:
                failures.append(f"{role} {call.method} {call.route}: {response.json()}")

        # session calls: log in (again) on a fresh client, then log out two ways
        fresh = web.client()
        name = role.value if role else "nobody"
        login = fresh.post(
            "/api/v1/session",
            json={"username": name, "password": PASSWORD},
            headers={"X-CSRF-Token": csrf(fresh)},
        )
        if login.status_code != (200 if role else 401):
            failures.append(f"{role} POST /api/v1/session: {login.status_code}")
        page = web.client()
        form_token = csrf(page)
        login_page = page.post(
            "/login",
            data={"username": name, "password": PASSWORD, "csrf_token": form_token},
            follow_redirects=False,
        )
        if login_page.status_code != (303 if role else 401):
            failures.append(f"{role} POST /login: {login_page.status_code}")
        bye = client.delete("/api/v1/session", headers={"X-CSRF-Token": token})
        if bye.status_code != (204 if role else 401):
            failures.append(f"{role} DELETE /api/v1/session: {bye.status_code}")
        token = csrf(page)
        out = page.post("/logout", data={"csrf_token": token}, follow_redirects=False)
        if out.status_code != 303:
            failures.append(f"{role} POST /logout: {out.status_code}")
    assert not failures, "\n".join(failures)


def test_every_state_changing_route_requires_csrf(web: Web) -> None:
    web.add_user("admin", Role.ADMIN)
    client, _ = _client(web, Role.ADMIN)
    for call in MATRIX + SESSION_CALLS:
        if call.method == "GET":
            continue
        url = call.route.replace("{reference}", "T-2026-AAAAAAAA").replace("{person_id}", "1")
        url = url.replace("{username}", "admin")
        kwargs: dict[str, Any] = {}
        if call.build:
            kwargs = call.build(client, "bad-token", "T-2026-AAAAAAAA")
            kwargs.pop("headers", None)
        response = client.request(call.method, url, follow_redirects=False, **kwargs)
        assert response.status_code == 403, (call, response.status_code)
        if url.startswith("/api/"):
            assert response.json()["error"]["code"] == "csrf_failed"
