"""Hostile input, issue 18's low findings (10, 11, 14-20, 23), each kept closed by a test here.

Part of the OWASP set with ``test_security_owasp.py`` and ``test_security_hostile_input.py``:
real requests against the app, on SQLite and PostgreSQL wherever the store is touched.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import Engine, text, update
from sqlalchemy.orm import Session

from athar.ingest.safe_export import write_csv, write_xlsx
from athar.security.auth import Role
from athar.services.actor import Actor
from athar.services.audit import RefusalThrottle
from athar.services.linking import review
from athar.services.registry.importer import ImportOptions, Problem, import_file
from athar.services.safekeeping.backup import backup
from athar.services.sharing.export_partner import export_partner
from athar.store.engine import make_engine
from athar.store.models import LinkRun
from athar.web.app import create_app, routers
from test_web_permissions import score_pairs
from web_fixtures import Web, api_login, intake_json, keyring, settings, web  # noqa: F401

__all__ = ["keyring", "web"]

HUGE = "99999999999999999999"


# -- finding 19: every integer parameter is bounded ------------------------------------------


def test_huge_integers_on_every_route_answer_422_never_500(web: Web) -> None:
    """Every route, every path id and every paging parameter set to 10**20: a 422 (or a
    refusal), never a 500 from the driver."""
    web.add_user("admin", Role.ADMIN)
    client = web.client()
    token = api_login(client, "admin")
    failures: list[str] = []
    for router in routers():
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            url = re.sub(r"\{[a-z_]+\}", HUGE, route.path)
            for method in route.methods - {"HEAD"}:
                params = {"offset": HUGE, "limit": HUGE, "page": HUGE}
                response = client.request(
                    method,
                    url,
                    params=params,
                    headers={"X-CSRF-Token": token},
                    follow_redirects=False,
                )
                if response.status_code >= 500:
                    failures.append(f"{method} {route.path}: {response.status_code}")
    assert not failures, "\n".join(failures)
    api_login(client, "admin")  # the walk logged out
    for url in ("/api/v1/persons/" + HUGE, "/api/v1/tracing-requests?offset=" + HUGE):
        response = client.get(url)
        assert response.status_code == 422, (url, response.text)
        assert response.json()["error"]["fields"], url
    assert client.get("/persons/" + HUGE).status_code == 422


# -- finding 17: nothing authenticated is cached ----------------------------------------------


def test_authenticated_answers_and_api_answers_are_never_cached(web: Web) -> None:
    web.add_user("admin", Role.ADMIN)
    client = web.client()
    token = api_login(client, "admin")
    reference = client.post(
        "/api/v1/tracing-requests",
        json=intake_json(),
        headers={"X-CSRF-Token": token},
    ).json()["reference"]
    answers: dict[str, Any] = {
        "contact": client.get(f"/api/v1/tracing-requests/{reference}/contact"),
        "notes": client.get(f"/api/v1/tracing-requests/{reference}/notes"),
        "new user": client.post(
            "/api/v1/users",
            json={"username": "rev", "display_name": "Rev", "role": "reviewer"},
            headers={"X-CSRF-Token": token},
        ),
        "me": client.get("/api/v1/me"),
        "list": client.get("/api/v1/tracing-requests"),
        "missing": client.get("/api/v1/tracing-requests/T-2026-AAAAAAAA"),
        "stats": client.get("/api/v1/stats"),
        "page": client.get(f"/requests/{reference}"),
        "session": web.client().get("/api/v1/session"),
    }
    for name, response in answers.items():
        assert response.status_code < 500, name
        assert response.headers.get("cache-control") == "no-store", (name, response.headers)


# -- finding 20: invalid input answers are small ----------------------------------------------


def test_a_body_with_many_unknown_keys_gets_a_small_answer(web: Web) -> None:
    client = web.client()
    token = client.get("/api/v1/session").json()["csrf_token"]
    # under the body limit (finding 4 refuses a larger body with 413 before it is parsed)
    body: dict[str, Any] = {f"k{i}" + "x" * 40: "v" * 50 for i in range(1_500)}
    body["requester_name"] = "Layla"
    body["relationship"] = "sibling"
    body["y" * 50_000] = 1
    response = client.post("/api/v1/tracing-requests", json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == 422
    assert len(response.content) < 8_000, len(response.content)
    fields = response.json()["error"]["fields"]
    assert len(fields) <= 21
    assert fields[-1]["message"].endswith("more problems not shown")
    assert all(len(f["field"]) <= 120 and len(f["message"]) <= 120 for f in fields)


# -- finding 18: files are created owner-only -------------------------------------------------


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_store_and_its_wal_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with _umask(0o022):
        engine = make_engine(f"sqlite:///{path}")
        try:
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE t (x TEXT)"))
                conn.execute(text("INSERT INTO t VALUES ('Omar')"))
            with engine.connect() as conn:  # -wal and -shm exist while a connection is open
                conn.execute(text("SELECT * FROM t")).all()
                files = [path, *(tmp_path / f"store.db{s}" for s in ("-wal", "-shm"))]
                assert all(f.exists() for f in files), list(tmp_path.iterdir())
                assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        finally:
            engine.dispose()


def test_exports_reports_and_backups_are_owner_only(db_engine: Engine, tmp_path: Path) -> None:
    stale = tmp_path / "stale.xlsx"
    stale.write_bytes(b"old")
    stale.chmod(0o644)
    with _umask(0o022):
        export_partner(
            db_engine,
            tmp_path / "partner.csv",
            scope="humanitarian",
            recipient="ICRC",
            actor=Actor("op"),
            all_sources=True,
        )
        write_csv(tmp_path / "report.csv", ["file", "row"], [["a.csv", 2]])
        write_xlsx(stale, ["name"], [["Omar"]])
        backup(
            db_engine,
            tmp_path / "store.backup",
            passphrase="a long passphrase here",
            scrypt_n=2**14,
        )
    for name in ("partner.csv", "report.csv", "stale.xlsx", "store.backup"):
        assert _mode(tmp_path / name) == 0o600, name


# -- finding 15: free text that reaches the audit log is bounded, on pages and API -----------


def _events(web: Web, action: str | None = None) -> int:
    with web.engine.connect() as conn:
        query = "SELECT COUNT(*) FROM audit_event"
        if action is None:
            return int(conn.execute(text(query)).scalar_one())
        return int(conn.execute(text(query + " WHERE action = :a"), {"a": action}).scalar_one())


def test_padding_the_audit_log_is_refused_on_pages_and_api(web: Web) -> None:
    web.add_user("admin", Role.ADMIN)
    client = web.client()
    token = api_login(client, "admin")
    reference = client.post(
        "/api/v1/tracing-requests", json=intake_json(), headers={"X-CSRF-Token": token}
    ).json()["reference"]
    before = _events(web)
    # longer than any reason may be, yet under the body limit: the text limit refuses it (a
    # 900,000-character body is refused earlier still, by size: see the second half)
    huge = "x" * 100_000
    pair = {"a": "family:T-2026-AAAAAAAA", "b": "family:T-2026-BBBBBBBB"}
    api = client.post(
        "/api/v1/review/decisions",
        json={**pair, "decision": "no_match", "reason": huge},
        headers={"X-CSRF-Token": token},
    )
    page = client.post(
        "/review/decisions",
        data={**pair, "decision": "no_match", "reason": huge, "csrf_token": token},
        follow_redirects=False,
    )
    candidate = client.post(
        f"/requests/{reference}/candidates/decisions",
        data={"b": "x" * 400, "decision": "no_match", "reason": "r", "csrf_token": token},
        follow_redirects=False,
    )
    status_api = client.get("/api/v1/tracing-requests", params={"status": "s" * 60_000})
    status_page = client.get("/requests", params={"status": "s" * 60_000})
    unknown = client.get("/api/v1/tracing-requests", params={"status": "hijacked"})
    user = client.post(
        "/users",
        data={
            "username": "padder",
            "display_name": "d" * 100_000,
            "role": "reviewer",
            "csrf_token": token,
        },
    )
    answers = {
        "api reason": api,
        "page reason": page,
        "candidate key": candidate,
        "status api": status_api,
        "status page": status_page,
        "unknown status": unknown,
        "display name": user,
    }
    assert {k: r.status_code for k, r in answers.items()} == dict.fromkeys(answers, 422)
    bigger = client.post(
        "/api/v1/review/decisions",
        json={**pair, "decision": "no_match", "reason": "x" * 900_000},
        headers={"X-CSRF-Token": token},
    )
    assert bigger.status_code == 413
    for name in ("api reason", "status api", "unknown status"):
        assert len(answers[name].content) < 4000, name
    assert _events(web) == before  # nothing padded the log


# -- finding 16: refusals are audited, rate-limited -------------------------------------------


def test_refused_contact_reads_are_audited_once_a_minute(web: Web) -> None:
    web.add_user("rev", Role.REVIEWER)
    web.add_user("admin", Role.ADMIN)
    admin = web.client()
    reference = admin.post(
        "/api/v1/tracing-requests",
        json=intake_json(),
        headers={"X-CSRF-Token": api_login(admin, "admin")},
    ).json()["reference"]
    client = web.client()
    api_login(client, "rev")
    answers = [client.get(f"/api/v1/tracing-requests/{reference}/contact") for _ in range(5)]
    answers.append(client.get(f"/requests/{reference}/contact"))
    assert [r.status_code for r in answers] == [404] * 6
    assert _events(web, "tracing_request.contact_refused") == 1
    with web.engine.connect() as conn:
        actor, entity = conn.execute(
            text(
                "SELECT actor, entity_id FROM audit_event "
                "WHERE action = 'tracing_request.contact_refused'"
            )
        ).one()
    assert (actor, entity) == ("user:rev", reference)
    # the permitted read is audited as before, and a refusal is not a view
    assert admin.get(f"/api/v1/tracing-requests/{reference}/contact").status_code == 200
    assert _events(web, "tracing_request.contact_view") == 1


def test_rate_limited_logins_are_audited_once_a_minute(db_url: str, keyring: Any) -> None:
    engine = make_engine(db_url)
    try:
        strict = Web(
            create_app(settings(db_url, login_rate_per_ip=2), engine=engine, keyring=keyring),
            engine,
            settings(db_url, login_rate_per_ip=2),
        )
        strict.add_user("amira", Role.CASE_WORKER)
        client = strict.client()
        token = client.get("/api/v1/session").json()["csrf_token"]
        wrong = {"username": "amira", "password": "not the password 1"}
        codes = [
            client.post("/api/v1/session", json=wrong, headers={"X-CSRF-Token": token}).status_code
            for _ in range(8)
        ]
        assert codes == [401, 401] + [429] * 6
        assert _events(strict, "login.failure") == 2
        assert _events(strict, "login.rate_limited") == 1
    finally:
        engine.dispose()


def test_the_refusal_throttle_counts_what_it_left_out() -> None:
    throttle = RefusalThrottle(interval_s=60, max_keys=2)
    assert throttle.admit("a", now=0) == 0
    assert [throttle.admit("a", now=t) for t in (1, 2, 59)] == [None, None, None]
    assert throttle.admit("a", now=61) == 3
    throttle.admit("b", now=61)
    throttle.admit("c", now=61)  # past max_keys: the oldest key is forgotten
    assert throttle.admit("a", now=62) == 0


def _without(content: bytes, parts: list[bytes]) -> bytes:
    for part in parts:
        content = content.replace(part, b"<asked>")
    return content


# -- finding 14: the pair routes answer only for scored pairs and candidates -----------------


def test_pair_routes_answer_an_unscored_pair_exactly_like_a_missing_one(web: Web) -> None:
    web.add_user("admin", Role.ADMIN)
    client = web.client()
    token = api_login(client, "admin")
    refs = [
        client.post(
            "/api/v1/tracing-requests", json=intake_json(), headers={"X-CSRF-Token": token}
        ).json()["reference"]
        for _ in range(3)
    ]
    real, other, scored = (f"family:{r}" for r in refs)
    missing = "family:T-2026-ZZZZZZZZ"
    score_pairs(web, [(real, scored)])

    def pair_answers(b: str) -> list[tuple[int, bytes]]:
        answers = [
            client.get("/api/v1/review/pair", params={"a": real, "b": b}),
            client.get("/review/pair", params={"a": real, "b": b}),
            client.get(f"/api/v1/tracing-requests/{refs[0]}/candidates/pair", params={"b": b}),
            client.get(f"/requests/{refs[0]}/candidates/pair", params={"b": b}),
            client.post(
                "/api/v1/review/decisions",
                json={"a": real, "b": b, "decision": "no_match", "reason": "probe"},
                headers={"X-CSRF-Token": token},
            ),
            client.post(
                f"/api/v1/tracing-requests/{refs[0]}/candidates/decisions",
                json={"b": b, "decision": "no_match", "reason": "probe"},
                headers={"X-CSRF-Token": token},
            ),
        ]
        # the pages' language switch repeats the query: the asked key is all that may differ
        asked = [b.encode(), quote(b, safe="").encode()]
        return [(r.status_code, _without(r.content, asked)) for r in answers]

    hidden, absent = pair_answers(other), pair_answers(missing)
    assert [s for s, _ in hidden] == [404] * 6
    assert hidden == absent  # byte for byte
    assert _human_decisions(web) == 0
    # a scored pair is still shown and decided, on the review routes and as a candidate
    shown = pair_answers(scored)
    assert [s for s, _ in shown] == [200] * 4 + [201] * 2
    assert _human_decisions(web) == 2


def _human_decisions(web: Web) -> int:
    with web.engine.connect() as conn:
        query = "SELECT COUNT(*) FROM link_decision WHERE kind <> 'automatic'"
        return int(conn.execute(text(query)).scalar_one())


# -- finding 11: bidi overrides, controls and invisible id characters -------------------------


def test_bidi_overrides_controls_and_invisible_ids_are_quarantined(
    db_engine: Engine, tmp_path: Path
) -> None:
    rows = [
        ("R-1", "Ali\u202eidalaH x"),  # shows as another name
        ("R-2", "Omar\u2067Haddad\u2069"),  # an isolate
        ("R-3", "Samir\x85Khoury"),  # a C1 control (NEL)
        ("A\u200b-1", "Omar Haddad"),  # looks exactly like A-1 in the queue
        ("\ufeffR-5", "Omar Haddad"),
        ("R-6", "\u0645\u062d\u0645\u062f\u200c\u0631\u0636\u0627"),  # ZWNJ: a real name
        ("A-1", "Omar Haddad"),
    ]
    path = tmp_path / "list.csv"
    path.write_text(
        "source,record_id,full_name\n" + "".join(f"ngo_x,{r},{n}\n" for r, n in rows),
        encoding="utf-8",
    )
    problems: list[Problem] = []
    result = import_file(
        db_engine, path, ImportOptions(actor=Actor("test"), on_problem=problems.append)
    )
    assert result.rows_quarantined == 5
    by_row = {p.row: p for p in problems if p.severity == "error"}
    assert set(by_row) == {2, 3, 4, 5, 6}
    assert "bidirectional control character U+202E" in by_row[2].reason
    assert by_row[2].column == "full_name"
    assert "U+2067" in by_row[3].reason
    assert "control character or lone surrogate U+0085" in by_row[4].reason
    assert by_row[5].column == "record_id" and "invisible character U+200B" in by_row[5].reason
    assert "U+FEFF" in by_row[6].reason
    with db_engine.connect() as conn:
        stored = set(conn.execute(text("SELECT record_id, full_name FROM record")).all())
        keys = {r[0] for r in conn.execute(text("SELECT record_id FROM quarantine_row")).all()}
    assert stored == {("R-6", rows[5][1]), ("A-1", "Omar Haddad")}
    # a refused row's key is listed with its invisible characters written as escapes
    assert {"A\\u200b-1", "\\ufeffR-5"} <= keys


def test_forms_refuse_bidi_overrides_in_names(web: Web) -> None:
    client = web.client()
    token = client.get("/api/v1/session").json()["csrf_token"]
    response = client.post(
        "/api/v1/tracing-requests",
        json=intake_json(requester_name="Layla\u202eahdaH", given_name="Omar\x9b"),
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 422, response.text
    fields = {f["field"] for f in response.json()["error"]["fields"]}
    assert {"requester_name", "given_name"} <= fields
    ok = client.post(
        "/api/v1/tracing-requests",
        json=intake_json(given_name="\u0645\u062d\u0645\u062f\u200c\u0631\u0636\u0627"),
        headers={"X-CSRF-Token": token},
    )
    assert ok.status_code == 201, ok.text


# -- finding 10: costly reads are cached and rate-limited ------------------------------------


def test_pair_explanations_are_cached_per_run_and_record_versions(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []

    def explain(db: Any, a: str, b: str) -> dict[str, Any]:
        calls.append((a, b))
        n = float(len(calls))
        return {"prior": n, "steps": [], "match_weight": n, "match_probability": 0.5}

    monkeypatch.setattr(review.linking, "explain_store_pair", explain)
    web.add_user("admin", Role.ADMIN)
    client = web.client()
    token = api_login(client, "admin")
    a, b = (
        "family:"
        + client.post(
            "/api/v1/tracing-requests", json=intake_json(), headers={"X-CSRF-Token": token}
        ).json()["reference"]
        for _ in range(2)
    )
    score_pairs(web, [(a, b)])
    params = {"a": a, "b": b}
    first = client.get("/api/v1/review/pair", params=params)
    assert first.status_code == 200 and first.json()["explanation"] is None  # no model yet
    assert calls == []
    with Session(web.engine) as db:  # a run with a model
        db.execute(update(LinkRun).values(model={"m": 1}))
        db.commit()
    answers = [client.get("/api/v1/review/pair", params=params) for _ in range(3)]
    answers.append(client.get("/review/pair", params=params))
    assert [r.status_code for r in answers] == [200] * 4
    assert calls == [(a, b)]  # computed once for the run and these record versions
    score_pairs(web, [(a, b)])  # a new run
    with Session(web.engine) as db:
        db.execute(update(LinkRun).values(model={"m": 2}))
        db.commit()
    again = client.get("/api/v1/review/pair", params=params).json()["explanation"]
    assert calls == [(a, b)] * 2 and again["prior"] == 2.0


def test_costly_reads_share_one_budget_per_user(db_url: str, keyring: Any) -> None:
    engine = make_engine(db_url)
    try:
        s = settings(db_url, costly_rate_per_minute=3)
        app = Web(create_app(s, engine=engine, keyring=keyring), engine, s)
        app.add_user("admin", Role.ADMIN)
        app.add_user("rita", Role.RESEARCHER)
        client = app.client()
        api_login(client, "admin")
        codes = [
            client.get("/api/v1/stats").status_code,
            client.get("/stats").status_code,
            client.get("/api/v1/review/pair", params={"a": "x:1", "b": "x:2"}).status_code,
            client.get("/api/v1/stats").status_code,
            client.get("/review/pair", params={"a": "x:1", "b": "x:2"}).status_code,
        ]
        assert codes == [200, 200, 404, 429, 429]
        limited = client.get("/api/v1/stats").json()["error"]
        assert limited["code"] == "rate_limited"
        other = app.client()
        api_login(other, "rita")  # another user has a budget of their own
        assert other.get("/api/v1/stats").status_code == 200
    finally:
        engine.dispose()


# -- finding 23: researchers see figures as of the last refresh -------------------------------


def test_researchers_see_a_snapshot_refreshed_after_a_link_run(db_url: str, keyring: Any) -> None:
    engine = make_engine(db_url)
    try:
        s = settings(db_url, small_cell=1)
        app = Web(create_app(s, engine=engine, keyring=keyring), engine, s)
        app.add_user("admin", Role.ADMIN)
        app.add_user("rita", Role.RESEARCHER)
        admin, researcher = app.client(), app.client()
        token = api_login(admin, "admin")
        api_login(researcher, "rita")

        def submit() -> None:
            response = admin.post(
                "/api/v1/tracing-requests", json=intake_json(), headers={"X-CSRF-Token": token}
            )
            assert response.status_code == 201

        submit()
        first = researcher.get("/api/v1/stats").json()
        assert first["as_of"] is not None
        assert first["tracing_requests_by_status"] == {"registered": 1}
        submit()  # one more request: the researcher's figures do not move
        polled = researcher.get("/api/v1/stats").json()
        assert polled == first
        page = researcher.get("/stats")
        assert page.status_code == 200 and first["as_of"][:10] in page.text
        live = admin.get("/api/v1/stats").json()  # staff see live figures
        assert live["as_of"] is None and live["tracing_requests_by_status"] == {"registered": 2}
        score_pairs(app, [])  # a link run finishes: the next view takes a new snapshot
        after = researcher.get("/api/v1/stats").json()
        assert after["tracing_requests_by_status"] == {"registered": 2}
        assert after["as_of"] >= first["as_of"]
        with engine.connect() as conn:
            taken = conn.execute(text("SELECT COUNT(*) FROM figures_snapshot")).scalar_one()
            events = conn.execute(
                text("SELECT COUNT(*) FROM audit_event WHERE action = 'figures.snapshot'")
            ).scalar_one()
        assert (taken, events) == (2, 2)
    finally:
        engine.dispose()
