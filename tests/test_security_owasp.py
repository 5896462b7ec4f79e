"""The OWASP basics, gathered: real requests against the app, on SQLite and PostgreSQL.

| OWASP concern | tested here | also tested in |
|---|---|---|
| CSRF (A01) | every state-changing route of the permission matrix, page and API, refuses a request without a token, with a forged token and with another session's token, and changes nothing | ``test_web_auth.py``: the token is bound to the session and changes at login |
| session fixation (A07) | a session id planted before login is never the one after, and never authenticates as the victim | ``test_web_auth.py``: rotation at login, revocation at logout |
| authorisation bypass by changing ids (A01) | every record route of the matrix, for every role that may not see it, answers a real id exactly like a missing one (status, type, body); a partner cannot overwrite another partner's record | ``test_web_permissions.py`` (the whole matrix), ``test_web_errors.py`` |
| rate limits (A04/A07) | login: the page and the API share one per-address budget, and the right password does not pass while limited; candidate search: requests and the unidentified share one per-user budget | ``test_web_auth.py``: the API limits alone |
| uploads (A04) | lists and photos: too large is refused before it is stored, the type is judged by content not by name, a stored photo is served with its sniffed type and ``nosniff`` | ``test_web_intake.py``: photo size/type through the API; ``test_security_hostile_input.py``: photos re-encoded without metadata, pixel bombs, the intake throttle and spam (issue 18) |
| security headers (A05) | CSP without inline script or style, ``frame-ancestors 'none'``, ``nosniff``, ``Referrer-Policy``, ``X-Frame-Options`` on pages, API answers, errors and static files; no template has inline script, style or event handlers | |
| issue 18, finding 4 (A04) | an oversized body, declared or streamed, is refused with 413 before CSRF or any parsing; a forged upload is refused on its header/query token before it is spooled | ``bench fuzz`` (live server, every route) |
| issue 18, finding 5 (A03) | ``Ahmad;=cmd...`` never becomes a formula in a partner's CSV (every field quoted, triggers after a separator neutralised) or XLSX (strings only) | ``test_safe_export.py`` |
| issue 18, finding 6 (A01) | no partner is bound to ``family``/``unidentified``; no upload, and no import at all as a new version, writes their records | |
| issue 18, finding 7 (A05) | ``/api/docs`` under the pages' CSP, nothing from elsewhere; ``ATHAR_API_DOCS=false`` serves no docs and no schema | ``test_web_browser_apidocs.py`` |
| issue 18, finding 8 (A02) | with a key ring lacking a key id, or with the wrong key under the right id, the app does not start and backup and export refuse | |
| issue 18, finding 9 (A07) | behind a trusted proxy each client has its own log-in budget, and a spoofed header from anyone else changes nothing; failures delay an account, never lock it | |
| issue 18, finding 22 (A07) | ``__Host-`` cookies over HTTPS; sessions end when idle, and at their absolute lifetime even in use | |
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from athar.security.auth import Role
from athar.store.casework import User
from athar.store.engine import make_engine
from athar.store.models import AuditEvent, Person, QuarantineRow, Record
from athar.web.app import create_app
from athar.web.deps import ANON_COOKIE, SESSION_COOKIE
from test_web_permissions import MATRIX, RECORD, SESSION_CALLS, Call, seed_world
from web_fixtures import (  # noqa: F401
    PASSWORD,
    Web,
    api_login,
    csrf,
    image_bytes,
    intake_json,
    keyring,
    settings,
    stored_photo,
    web,
)

__all__ = ["keyring", "web"]

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
TEMPLATES = Path(__file__).parents[1] / "src" / "athar" / "web" / "templates"


def _url(call: Call, ids: dict[str, str]) -> str:
    ref = ids["unidentified"] if "unidentified" in call.route else ids["reference"]
    return call.route.replace("{reference}", ref).replace("{person_id}", ids["person_id"])


def _without_token(kwargs: dict[str, Any], token: str | None) -> dict[str, Any]:
    """The same request with its CSRF token removed (``token=None``) or replaced."""
    out = dict(kwargs)
    headers = {k: v for k, v in out.pop("headers", {}).items() if k.lower() != "x-csrf-token"}
    data = {k: v for k, v in out.pop("data", {}).items() if k != "csrf_token"}
    if token is not None:
        headers["X-CSRF-Token"] = token
    if headers:
        out["headers"] = headers
    if data or "files" in out:
        out["data"] = data
    return out


def _state(web: Web) -> tuple[int, int, int]:
    with Session(web.engine) as db:
        return (
            db.scalar(select(func.count()).select_from(AuditEvent)) or 0,
            db.scalar(select(func.count()).select_from(Record)) or 0,
            db.scalar(select(func.count()).select_from(Person)) or 0,
        )


# --- CSRF ------------------------------------------------------------------------------------


def test_every_state_changing_route_refuses_a_request_without_a_valid_token(web: Web) -> None:
    web.add_user("admin", Role.ADMIN)
    ids = seed_world(web)
    admin = web.client()
    admin_token = api_login(admin, "admin")
    anonymous = web.client()
    anonymous_token = csrf(anonymous)
    calls = [c for c in MATRIX + SESSION_CALLS if c.method in STATE_CHANGING]
    assert len(calls) >= 15  # the matrix's writes: users, requests, decisions, imports, ...
    before = _state(web)
    failures: list[str] = []
    for call in calls:
        url = _url(call, ids)
        clients = [(admin, admin_token, anonymous_token)]
        if None in call.allowed:  # public routes: an anonymous visitor too
            clients.append((anonymous, anonymous_token, admin_token))
        for client, own, foreign in clients:
            kwargs = call.build(client, own, ids["reference"]) if call.build else {}
            for token in (None, "0" * 64, foreign):
                response = client.request(
                    call.method, url, follow_redirects=False, **_without_token(kwargs, token)
                )
                if response.status_code != 403:
                    failures.append(f"{call.method} {call.route} token={token}: {response}")
                elif url.startswith("/api/") and response.json()["error"]["code"] != "csrf_failed":
                    failures.append(f"{call.method} {call.route}: {response.json()}")
    assert failures == []
    assert _state(web) == before  # nothing written, not even an audit event
    assert admin.get("/api/v1/me").status_code == 200  # and no one was logged out


# --- session fixation ---------------------------------------------------------------------------


def test_a_session_id_planted_before_login_is_never_the_one_after(web: Web) -> None:
    web.add_user("victim", Role.CASE_WORKER)
    web.add_user("mallory", Role.REVIEWER)
    # the attacker's own valid session, and an invented one, planted in the victim's browser
    attacker = web.client()
    api_login(attacker, "mallory")
    attacker_session = attacker.cookies[SESSION_COOKIE]
    [jar_domain] = {c.domain for c in attacker.cookies.jar}  # where the app's cookies live
    for planted in (attacker_session, "planted-session-id-0123456789abcdef"):
        for via_page in (False, True):
            victim = web.client()
            victim.cookies.set(SESSION_COOKIE, planted, domain=jar_domain)
            victim.cookies.set(ANON_COOKIE, "planted-anonymous-id", domain=jar_domain)
            if via_page:
                r = victim.post(
                    "/login",
                    data={"username": "victim", "password": PASSWORD, "csrf_token": csrf(victim)},
                    follow_redirects=False,
                )
                assert r.status_code == 303
            else:
                api_login(victim, "victim")
            after = victim.cookies[SESSION_COOKIE]
            assert after != planted
            assert victim.get("/api/v1/me").json()["username"] == "victim"
            # the planted id never authenticates as the victim
            replay = web.client()
            replay.cookies.set(SESSION_COOKIE, planted, domain=jar_domain)
            me = replay.get("/api/v1/me")
            assert me.status_code == 401 or me.json()["username"] == "mallory"


# --- authorisation bypass by changing ids -----------------------------------------------------


def _missing(ids: dict[str, str]) -> dict[str, str]:
    """The same ids, each changed into one of the same shape that does not exist."""
    return {
        "reference": ids["reference"][:-3] + "999",
        "unidentified": ids["unidentified"][:-3] + "999",
        "person_id": str(int(ids["person_id"]) + 1000),
    }


def _send(client: TestClient, token: str, call: Call, ids: dict[str, str], lang: str) -> Any:
    kwargs = call.build(client, token, ids["reference"]) if call.build else {}
    params = {**kwargs.pop("params", {}), "lang": lang}
    return client.request(
        call.method, _url(call, ids), params=params, follow_redirects=False, **kwargs
    )


def test_every_record_route_answers_a_hidden_id_exactly_like_a_missing_one(web: Web) -> None:
    for role in Role:
        web.add_user(role.value, role, source_code="ngo_x" if role is Role.DATA_PARTNER else None)
    ids = seed_world(web)
    missing = _missing(ids)
    record_calls = [c for c in MATRIX if c.kind == RECORD]
    assert len(record_calls) >= 15
    failures: list[str] = []
    for role in Role:
        client = web.client()
        token = api_login(client, role.value)
        for call in record_calls:
            for lang in ("en", "ar"):
                absent = _send(client, token, call, missing, lang)
                if role in call.allowed:
                    if absent.status_code != 404:
                        failures.append(f"{role} {call.method} {call.route} missing: {absent}")
                    continue
                hidden = _send(client, token, call, ids, lang)
                if (
                    hidden.status_code != 404
                    or hidden.content != absent.content
                    or hidden.headers["content-type"] != absent.headers["content-type"]
                ):
                    failures.append(f"{role} {call.method} {call.route} ({lang})")
    assert failures == []


def test_a_partner_cannot_overwrite_another_partners_record(web: Web) -> None:
    web.add_user("partner_a", Role.DATA_PARTNER, source_code="ngo_a")
    web.add_user("partner_b", Role.DATA_PARTNER, source_code="ngo_b")
    a, b = web.client(), web.client()
    token_a, token_b = api_login(a, "partner_a"), api_login(b, "partner_b")

    def upload(client: TestClient, token: str, text: str) -> Any:
        return client.post(
            "/api/v1/imports",
            files={"file": ("list.csv", text.encode(), "text/csv")},
            headers={"X-CSRF-Token": token},
        )

    assert upload(a, token_a, "source,record_id,given_name\nngo_a,A-1,Omar\n").status_code == 201
    forged = upload(b, token_b, "source,record_id,given_name\nngo_a,A-1,Forged\n")
    assert forged.status_code == 201 and forged.json()["rows_quarantined"] == 1
    assert forged.json()["rows_new"] == forged.json()["rows_new_version"] == 0
    with Session(web.engine) as db:
        [record] = db.scalars(select(Record)).all()
        assert (record.record_id, record.given_name, record.version) == ("A-1", "Omar", 1)
        assert db.scalar(select(func.count()).select_from(QuarantineRow)) == 1


# --- rate limits --------------------------------------------------------------------------------


@pytest.fixture
def strict(db_url: str, keyring: Any) -> Iterator[Web]:
    """An app with small limits: 3 logins per address, 3 searches a minute, 2 KiB lists."""
    engine = make_engine(db_url)
    s = settings(db_url, login_rate_per_ip=3, search_rate_per_minute=3, import_max_bytes=2048)
    try:
        yield Web(create_app(s, engine=engine, keyring=keyring), engine, s)
    finally:
        engine.dispose()


def test_login_rate_limit_is_shared_by_page_and_api_and_stops_the_right_password(
    strict: Web,
) -> None:
    strict.add_user("amira", Role.CASE_WORKER)
    client = strict.client()
    token = csrf(client)
    wrong = {"username": "amira", "password": "not the password 1"}
    r1 = client.post("/api/v1/session", json=wrong, headers={"X-CSRF-Token": token})
    r2 = client.post("/login", data={**wrong, "csrf_token": token}, follow_redirects=False)
    r3 = client.post("/api/v1/session", json=wrong, headers={"X-CSRF-Token": token})
    assert [r.status_code for r in (r1, r2, r3)] == [401, 401, 401]
    right = {"username": "amira", "password": PASSWORD}
    api = client.post("/api/v1/session", json=right, headers={"X-CSRF-Token": token})
    assert api.status_code == 429 and api.json()["error"]["code"] == "rate_limited"
    page = client.post("/login", data={**right, "csrf_token": token}, follow_redirects=False)
    assert page.status_code == 429 and SESSION_COOKIE not in page.headers.get("set-cookie", "")
    assert client.get("/api/v1/me").status_code == 401


def test_candidate_search_budget_is_shared_across_requests_and_the_unidentified(
    strict: Web,
) -> None:
    strict.add_user("amira", Role.CASE_WORKER)
    ids = seed_world(strict)
    client = strict.client()
    api_login(client, "amira")
    urls = [
        f"/api/v1/tracing-requests/{ids['reference']}/candidates",
        f"/unidentified/{ids['unidentified']}",
        f"/requests/{ids['reference']}/candidates",
        f"/api/v1/unidentified/{ids['unidentified']}",
    ]
    codes = [client.get(url).status_code for url in urls]
    assert codes == [200, 200, 200, 429]
    assert client.get(urls[0]).json()["error"]["code"] == "rate_limited"


# --- uploads ----------------------------------------------------------------------------------


def test_lists_too_large_or_not_lists_are_refused_and_nothing_is_stored(strict: Web) -> None:
    strict.add_user("admin", Role.ADMIN)
    client = strict.client()
    token = api_login(client, "admin")
    big = ("source,record_id,given_name\n" + "ngo_x,X-{i},Omar\n" * 200).encode()
    assert len(big) > strict.settings.import_max_bytes
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2
    cases = [
        (("list.csv", big, "text/csv"), 413, "too_large"),
        (("list.exe", b"MZ\x90\x00" + b"\0" * 200, "application/octet-stream"), 422, None),
        (("list.csv", png, "text/csv"), 422, "unusable_file"),
        (("list.xlsx", b"source,record_id\nngo_x,1\n", "application/vnd.ms-excel"), 422, None),
    ]
    before = _state(strict)
    for upload, status, code in cases:
        api = client.post(
            "/api/v1/imports", files={"file": upload}, headers={"X-CSRF-Token": token}
        )
        assert api.status_code == status, (upload[0], api.text)
        if code:
            assert api.json()["error"]["code"] == code
        page = client.post("/imports", files={"file": upload}, data={"csrf_token": token})
        if status == 413:  # refused while it is received: no job
            assert page.status_code == 413, (upload[0], page.status_code)
        else:  # the page answers at once with the import job's page, which says why it failed
            assert page.status_code == 200 and page.url.path.startswith("/imports/jobs/")
        assert 'role="alert"' in page.text, (upload[0], page.text)
    assert _state(strict)[1:] == before[1:]  # no record stored


def test_photos_are_judged_by_content_and_served_as_what_they_are(web: Web) -> None:
    web.add_user("amira", Role.CASE_WORKER)
    client = web.client()
    token = csrf(client)
    form = {k: v for k, v in intake_json().items() if isinstance(v, str)}
    disguised = [
        ("photo.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg"),
        ("photo.png", b"GIF89a" + b"\0" * 64, "image/png"),
        ("photo.jpg", b"\xff\xd8\xff" + b"\0" * web.settings.photo_max_bytes, "image/jpeg"),
    ]
    for upload in disguised:
        r = client.post("/request", data={**form, "csrf_token": token}, files={"photo": upload})
        assert r.status_code in (413, 422), (upload[0], r.status_code)
    with Session(web.engine) as db:
        assert db.scalar(select(func.count()).select_from(Record)) == 0
    png = image_bytes("PNG")
    r = client.post(
        "/request",
        data={**form, "csrf_token": token},
        files={"photo": ("innocent.html", png, "text/html")},
    )
    assert r.status_code == 201
    reference = re.search(r'class="reference" dir="ltr">(T-[^<]+)<', r.text)
    assert reference is not None
    staff = web.client()
    api_login(staff, "amira")
    for url in (
        f"/api/v1/tracing-requests/{reference.group(1)}/photo",
        f"/requests/{reference.group(1)}/photo",
    ):
        photo = staff.get(url)
        assert photo.status_code == 200 and photo.content == stored_photo(png)
        assert photo.headers["content-type"] == "image/png"
        assert photo.headers["x-content-type-options"] == "nosniff"


# --- security headers -------------------------------------------------------------------------


def _check_headers(response: Any, where: str) -> None:
    h = response.headers
    assert h.get("x-content-type-options") == "nosniff", where
    assert h.get("referrer-policy") == "no-referrer", where
    assert h.get("x-frame-options") == "DENY", where
    csp = {
        d.split()[0]: d.split()[1:]
        for d in (p.strip() for p in h.get("content-security-policy", "").split(";"))
        if d
    }
    assert csp.get("frame-ancestors") == ["'none'"], where
    assert csp.get("script-src") == ["'self'"] and csp.get("style-src") == ["'self'"], where
    assert csp.get("default-src") == ["'self'"] and csp.get("base-uri") == ["'none'"], where
    assert "'unsafe-inline'" not in h["content-security-policy"], where


def test_security_headers_on_every_kind_of_response(web: Web) -> None:
    web.add_user("admin", Role.ADMIN)
    anonymous, admin = web.client(), web.client()
    api_login(admin, "admin")
    responses = {
        "home page": anonymous.get("/"),
        "intake form": anonymous.get("/request?lang=ar"),
        "login page": anonymous.get("/login"),
        "API answer": anonymous.get("/api/v1/session"),
        "API error": anonymous.get("/api/v1/users"),
        "missing page": admin.get("/requests/T-0000-000000"),
        "missing API record": admin.get("/api/v1/persons/999999"),
        "unknown path": anonymous.get("/no/such/page"),
        "CSRF refusal": anonymous.post("/login", data={"username": "x", "password": "y"}),
        "static file": anonymous.get("/static/athar.css"),
        "staff page": admin.get("/requests"),
    }
    for where, response in responses.items():
        assert response.status_code < 500, where
        _check_headers(response, where)


def test_no_template_needs_inline_script_or_style() -> None:
    """The CSP forbids inline script and style: a template that used them would break."""
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|javascript:", re.IGNORECASE
    )
    templates = sorted(TEMPLATES.glob("*.html"))
    assert len(templates) >= 10
    offenders = [
        f"{t.name}: {m.group(0)}" for t in templates for m in inline.finditer(t.read_text())
    ]
    assert offenders == []


# --- reserved sources (issue 18, finding 6) --------------------------------------------------


@pytest.mark.parametrize("reserved", ["family", "unidentified"])
def test_reserved_sources_are_written_only_by_their_own_services(web: Web, reserved: str) -> None:
    """A partner bound to ``family``/``unidentified`` could rewrite a tracing request's record
    (a new version with a ``deceased`` claim) and probe which references exist."""
    ids = seed_world(web)
    target = ids["reference"] if reserved == "family" else ids["unidentified"]
    with pytest.raises(ValueError, match="reserved"):
        web.add_user("hijacker", Role.DATA_PARTNER, source_code=reserved)
    # an account bound to it before the fix (written straight into the store) gets nowhere
    web.add_user("hijacker", Role.DATA_PARTNER, source_code="ngo_h")
    web.add_user("admin", Role.ADMIN)
    with Session(web.engine) as db:
        db.execute(update(User).where(User.username == "hijacker").values(source_code=reserved))
        db.commit()
    hijack = (
        f"source,record_id,full_name,status\n{reserved},{target},HIJACKED NAME,deceased\n"
        f"{reserved},T-NOPE-0000,Probe,deceased\n"
    ).encode()

    def snapshot() -> list[tuple[str, str | None, int, bool]]:
        with Session(web.engine) as db:
            return [
                (r.record_id, r.full_name, r.version, r.is_current)
                for r in db.scalars(select(Record).order_by(Record.id))
            ]

    before = snapshot()
    partner = web.client()
    token = api_login(partner, "hijacker")
    r = partner.post(
        "/api/v1/imports",
        files={"file": ("list.csv", hijack, "text/csv")},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 403 and "reserved" in r.json()["error"]["message"], r.text
    # nor may an administrator import into it, by a row, by the mapping or by the form field
    admin = web.client()
    token = api_login(admin, "admin")
    r = admin.post(
        "/api/v1/imports",
        files={"file": ("list.csv", hijack, "text/csv")},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["rows_quarantined"] == 2, body
    assert body["rows_new"] == body["rows_new_version"] == body["rows_unchanged"] == 0
    mapped = admin.post(
        "/api/v1/imports",
        files={
            "file": ("list.csv", f"record_id,full_name\n{target},HIJACKED NAME\n".encode()),
            "mapping": ("m.yaml", f"constants:\n  source: {reserved}\n".encode()),
        },
        headers={"X-CSRF-Token": token},
    )
    assert mapped.status_code == 201 and mapped.json()["rows_quarantined"] == 1, mapped.text
    chosen = admin.post(
        "/api/v1/imports",
        files={"file": ("list.csv", f"record_id,full_name\n{target},HIJACKED NAME\n".encode())},
        data={"source": reserved},
        headers={"X-CSRF-Token": token},
    )
    assert chosen.status_code == 403 and "reserved" in chosen.text, chosen.text
    assert snapshot() == before
    assert all(name != "HIJACKED NAME" for _, name, _, _ in snapshot())


def test_the_operators_import_never_rewrites_a_tracing_requests_record(
    web: Web, tmp_path: Path
) -> None:
    """``athar import`` may load a legacy family list (new records), but a new version of a
    stored family record (a tracing request's) is quarantined, not written."""
    from athar.services.actor import Actor
    from athar.services.registry.importer import ImportOptions, import_file

    ids = seed_world(web)
    path = tmp_path / "family.csv"
    path.write_text(
        f"source,record_id,full_name,status\nfamily,{ids['reference']},HIJACKED NAME,deceased\n"
        "family,T-LEGACY-1,Legacy Name,detained\n",
        encoding="utf-8",
    )
    result = import_file(web.engine, path, ImportOptions(actor=Actor("operator")))
    assert (result.rows_new, result.rows_new_version, result.rows_quarantined) == (1, 0, 1)
    assert any("reserved" in p.reason for p in result.problems)
    with Session(web.engine) as db:
        names = set(db.scalars(select(Record.full_name)))
    assert "HIJACKED NAME" not in names and "Legacy Name" in names


# --- formulas in partner exports (issue 18, finding 5) ---------------------------------------

HOSTILE_NAME = "Ahmad;=cmd|' /C calc'!A0"


def _pieces(line: str) -> list[str]:
    """A CSV line as a spreadsheet that splits at ``;`` (and ignores quoting) sees it."""
    return [p.strip().strip('"').lstrip(" ") for p in line.split(";")]


def test_a_formula_after_a_semicolon_never_reaches_a_partners_spreadsheet(
    web: Web, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    from athar.ingest.safe_export import FORMULA_TRIGGERS
    from athar.services.actor import Actor
    from athar.services.registry.importer import ImportOptions, import_file
    from athar.services.sharing.export_partner import export_partner

    listed = tmp_path / "list.csv"
    listed.write_text(
        f'source,record_id,full_name,facility\nngo_x,X-1,"{HOSTILE_NAME}","Sednaya, +1"\n',
        encoding="utf-8",
    )
    assert import_file(web.engine, listed, ImportOptions(actor=Actor("t"))).outcome == "stored"
    out = tmp_path / "partner.csv"
    export_partner(
        web.engine, out, scope="partners", recipient="R", actor=Actor("op"), sources=["ngo_x"]
    )
    lines = out.read_text(encoding="utf-8").splitlines()
    columns = lines[0].count(",") + 1
    for line in lines[:2]:  # every field quoted, the header's too
        assert line[0] == line[-1] == '"' and line.count('","') == columns - 1, line
    for piece in _pieces(lines[1]) + [p.lstrip() for p in lines[1].split(",")]:
        assert piece.strip('"')[:1] not in FORMULA_TRIGGERS, (piece, lines[1])
    assert "Ahmad;'=cmd" in lines[1] and "Sednaya, '+1" in lines[1]

    book = tmp_path / "partner.xlsx"
    export_partner(
        web.engine, book, scope="partners", recipient="R", actor=Actor("op"), sources=["ngo_x"]
    )
    sheet = load_workbook(book).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert "Ahmad;'=cmd|' /C calc'!A0" in [c.value for c in cells]


# --- bodies refused by size as they stream (issue 18, finding 4) -----------------------------


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body without a Content-Length (sent chunked)."""
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


def test_an_oversized_body_is_refused_before_csrf_or_parsing(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    from starlette.requests import Request

    parsed: list[str] = []
    real_form, real_body = Request.form, Request.body

    def form(self: Request, *a: Any, **k: Any) -> Any:
        parsed.append(self.url.path)
        return real_form(self, *a, **k)

    async def body(self: Request) -> bytes:
        parsed.append(self.url.path)
        return await real_body(self)

    monkeypatch.setattr(Request, "form", form)
    monkeypatch.setattr(Request, "body", body)
    client = web.client()
    limit = web.settings.max_body_bytes
    # declared too large: 413, not the 403 of the missing token, and the body is never read
    big_json = b'{"username": "' + b"a" * (limit + 10) + b'"}'
    r = client.post(
        "/api/v1/session", content=big_json, headers={"content-type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large", r.text
    assert "KiB" in r.json()["error"]["message"]
    r = client.post("/login", content=b"username=" + b"a" * (limit + 10))
    assert r.status_code == 413 and parsed == []
    # streamed without a length: counted as it comes, refused once past the limit
    r = client.post(
        "/api/v1/session",
        content=_chunks(4 * limit),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large", r.text
    # a page in the reader's language
    page = client.post(
        "/login?lang=ar",
        content=_chunks(4 * limit),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert page.status_code == 413 and 'lang="ar"' in page.text
    # an upload's limit is the list's, not a form's: a list larger than a form is accepted ...
    web.add_user("admin", Role.ADMIN)
    token = api_login(client, "admin")
    rows = "".join(f"ngo_x,X-{i},Omar Haddad {i}\n" for i in range(limit // 20))
    listed = ("source,record_id,full_name\n" + rows).encode()
    assert len(listed) > limit
    r = client.post(
        "/api/v1/imports",
        files={"file": ("list.csv", listed, "text/csv")},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 201, r.text
    # ... and a forged upload is refused on its header or query token before it is spooled
    parsed.clear()
    for where in ({"headers": {"X-CSRF-Token": "forged"}}, {"params": {"csrf_token": "forged"}}):
        r = client.post("/imports", files={"file": ("list.csv", listed, "text/csv")}, **where)  # type: ignore[arg-type]
        assert r.status_code == 403, r.text
    assert parsed == []


def test_the_upload_forms_carry_their_csrf_token_ahead_of_the_body(web: Web) -> None:
    web.add_user("admin", Role.ADMIN)
    client = web.client()
    page = client.get("/request")
    assert re.search(r'action="/request\?csrf_token=[^"&]+"', page.text), page.text[:2000]
    api_login(client, "admin")
    page = client.get("/imports")
    assert re.search(r'action="/imports\?csrf_token=[^"&]+"', page.text)


# --- the API docs (issue 18, finding 7) ------------------------------------------------------


def test_the_api_docs_run_nothing_from_elsewhere_and_can_be_turned_off(
    db_url: str, keyring: Any
) -> None:
    engine = make_engine(db_url)
    try:
        on = TestClient(create_app(settings(db_url), engine=engine, keyring=keyring))
        docs, home = on.get("/api/docs"), on.get("/")
        assert docs.status_code == 200
        assert docs.headers["content-security-policy"] == home.headers["content-security-policy"]
        assert re.findall(r"(?:src|href)=\"([^\"]+)\"", docs.text)
        for url in re.findall(r"(?:src|href)=\"([^\"]+)\"", docs.text):
            assert url.startswith("/") and not url.startswith("//"), url
            assert on.get(url).status_code == 200, url
        assert "http://" not in docs.text and "https://" not in docs.text
        assert on.get("/api/openapi.json").status_code == 200
        off = TestClient(
            create_app(settings(db_url, api_docs=False), engine=engine, keyring=keyring)
        )
        for url in ("/api/docs", "/api/docs/assets/swagger-ui-bundle.js", "/api/openapi.json"):
            assert off.get(url).status_code == 404, url
        assert off.get("/").status_code == 200
    finally:
        engine.dispose()


# --- client addresses and the login delay (issue 18, finding 9) ------------------------------


def test_behind_a_trusted_proxy_each_client_has_its_own_login_budget(
    db_url: str, keyring: Any
) -> None:
    from athar.web.ratelimit import client_address  # the one function every limiter uses

    assert callable(client_address)
    engine = make_engine(db_url)
    s = settings(db_url, login_rate_per_ip=3, trusted_proxies="10.0.0.0/8")
    app = create_app(s, engine=engine, keyring=keyring)
    try:
        create_user_for = Web(app, engine, s)
        create_user_for.add_user("amira", Role.CASE_WORKER)

        def attempts(peer: str, forwarded: str, n: int) -> list[int]:
            client = TestClient(app, client=(peer, 40000))
            codes = []
            for _ in range(n):
                token = csrf(client)
                r = client.post(
                    "/api/v1/session",
                    json={"username": f"nobody{len(codes)}", "password": "wrong wrong"},
                    headers={"X-CSRF-Token": token, "X-Forwarded-For": forwarded},
                )
                codes.append(r.status_code)
            return codes

        # two people behind the proxy: one's failures do not spend the other's budget
        assert attempts("10.0.0.1", "203.0.113.5", 4) == [401, 401, 401, 429]
        assert attempts("10.0.0.1", "203.0.113.6", 1) == [401]
        # a peer that is not a trusted proxy cannot choose its address with the header
        assert attempts("192.0.2.9", "198.51.100.1", 3) == [401, 401, 401]
        assert attempts("192.0.2.9", "198.51.100.2", 1) == [429]
    finally:
        engine.dispose()


def test_failed_logins_delay_the_account_but_never_lock_it(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from athar.services.access import users

    web.add_user("amira", Role.CASE_WORKER)
    client = web.client()
    token = csrf(client)
    frozen = users.now()  # the clock stands still unless the test moves it
    shift = timedelta(0)
    monkeypatch.setattr(users, "now", lambda: frozen + shift)

    def attempt(password: str) -> tuple[int, str]:
        r = client.post(
            "/api/v1/session",
            json={"username": "amira", "password": password},
            headers={"X-CSRF-Token": token},
        )
        return r.status_code, r.json().get("error", {}).get("code", "ok")

    for _ in range(web.settings.lockout_failures):
        assert attempt("not the password") == (401, "invalid_credentials")
    assert attempt(PASSWORD) == (429, "locked_out")  # too soon after the last failure
    # an attacker who keeps trying while the account rests changes nothing ...
    for _ in range(5):
        assert attempt("still not it") == (429, "locked_out")
    # ... and the owner who waits out the (short) delay gets in: no 15-minute lock
    shift = timedelta(seconds=web.settings.login_max_delay_seconds + 1)
    assert attempt(PASSWORD)[0] == 200


# --- cookies and idle sessions (issue 18, finding 22) ----------------------------------------


def test_over_https_cookies_are_host_prefixed_and_sessions_end_when_idle(
    db_url: str, keyring: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from athar.services.access import users

    engine = make_engine(db_url)
    s = settings(db_url, session_idle_minutes=30, session_hours=2).with_changes(cookie_secure=True)
    app = create_app(s, engine=engine, keyring=keyring)
    real_now = users.now
    shift = timedelta(0)
    monkeypatch.setattr(users, "now", lambda: real_now() + shift)
    try:
        Web(app, engine, s).add_user("amira", Role.CASE_WORKER)
        client = TestClient(app, base_url="https://testserver")
        first = client.get("/api/v1/session")
        anon = first.headers.get_list("set-cookie")
        assert anon and all(c.startswith("__Host-") for c in anon), anon
        r = client.post(
            "/api/v1/session",
            json={"username": "amira", "password": PASSWORD},
            headers={"X-CSRF-Token": first.json()["csrf_token"]},
        )
        assert r.status_code == 200, r.text
        cookie = next(c for c in r.headers.get_list("set-cookie") if "_session=" in c)
        parts = [p.strip().lower() for p in cookie.split(";")]
        assert parts[0].startswith("__host-athar_session=")
        assert "secure" in parts and "path=/" in parts and "httponly" in parts
        assert not any(p.startswith("domain") for p in parts)
        assert client.get("/api/v1/me").status_code == 200
        # used every 20 minutes: still live after 80
        for minutes in (20, 40, 60, 80):
            shift = timedelta(minutes=minutes)
            assert client.get("/api/v1/me").status_code == 200, minutes
        # left alone for 31 minutes: over
        shift = timedelta(minutes=80 + 31)
        assert client.get("/api/v1/me").status_code == 401
    finally:
        engine.dispose()


def test_a_session_in_use_still_ends_at_its_absolute_lifetime(
    db_url: str, keyring: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from athar.services.access import users

    engine = make_engine(db_url)
    s = settings(db_url, session_idle_minutes=30, session_hours=1)
    app = create_app(s, engine=engine, keyring=keyring)
    real_now = users.now
    shift = timedelta(0)
    monkeypatch.setattr(users, "now", lambda: real_now() + shift)
    try:
        Web(app, engine, s).add_user("amira", Role.CASE_WORKER)
        client = TestClient(app)
        api_login(client, "amira")
        for minutes in (20, 40, 55):
            shift = timedelta(minutes=minutes)
            assert client.get("/api/v1/me").status_code == 200, minutes
        shift = timedelta(minutes=61)
        assert client.get("/api/v1/me").status_code == 401
    finally:
        engine.dispose()


# --- the wrong key file (issue 18, finding 8) ------------------------------------------------


def test_with_the_wrong_keys_nothing_starts_backs_up_or_exports(
    web: Web, keyring: Any, tmp_path: Path
) -> None:
    from athar.errors import EXIT_FAILED, ConfigError
    from athar.security import crypto
    from athar.security.crypto import KeyRing
    from athar.services.actor import Actor
    from athar.services.safekeeping.backup import backup
    from athar.services.sharing.export_partner import export_partner
    from athar.store.keycheck import KeysDoNotMatch

    seed_world(web)  # two tracing requests: contact details sealed with the "test" key
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    other_id = KeyRing.generate("other")
    same_id_wrong_bytes = KeyRing.generate("test")
    try:
        for ring, says in ((other_id, "lacks key id(s) 'test'"), (same_id_wrong_bytes, "not the")):
            with pytest.raises(KeysDoNotMatch, match="refusing to start the web app") as err:
                create_app(web.settings, engine=web.engine, keyring=ring)
            message = str(err.value)
            assert says in message and "tracing_request." in message, message
            assert isinstance(err.value, ConfigError) and err.value.exit_code == EXIT_FAILED
            archive = tmp_path / "store.athar-backup"
            with pytest.raises(KeysDoNotMatch, match="refusing to back up"):
                backup(web.engine, archive, ring=ring)
            crypto.configure(ring)
            out = tmp_path / "partner.csv"
            with pytest.raises(KeysDoNotMatch, match="refusing to export"):
                export_partner(web.engine, out, scope="partners", recipient="R", actor=Actor("o"))
            assert list(tmp_path.iterdir()) == []  # no archive, no export, no partial file
        # the right ring (and a ring that also holds a newer key) passes
        create_app(web.settings, engine=web.engine, keyring=keyring)
        both = KeyRing({**keyring.keys, **other_id.keys}, "other")
        create_app(web.settings, engine=web.engine, keyring=both)
    finally:
        crypto.configure(keyring)
