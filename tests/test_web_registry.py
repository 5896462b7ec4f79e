"""Imports through the API (data partners into their own list only) and aggregate figures."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from athar.security.auth import Role
from athar.store.models import QuarantineRow, Record, Source
from web_fixtures import Web, api_login, csrf, intake_json, keyring, web  # noqa: F401

__all__ = ["keyring", "web"]

CSV = (
    "source,record_id,given_name,family_name,birth_date\n"
    "ngo_x,X-1,محمد,الحلبي,1985\n"
    "ngo_x,X-2,Omar,Haddad,1988-04\n"
    "other_ngo,O-1,Sami,Nasser,1990\n"
)


def _import(client, token: str, content: str, name: str = "list.csv", **fields: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/imports",
        files={"file": (name, content.encode("utf-8"), "text/csv")},
        data=fields,
        headers={"X-CSRF-Token": token},
    )


def test_a_data_partner_imports_only_into_their_own_list(web: Web) -> None:
    web.add_user("partner", Role.DATA_PARTNER, source_code="ngo_x")
    client = web.client()
    token = api_login(client, "partner")
    r = _import(client, token, CSV)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["source"] == "ngo_x" and body["outcome"] == "quarantined"
    assert body["rows_new"] == 2 and body["rows_quarantined"] == 1
    assert any(p["column"] == "source" and p["row"] == 4 for p in body["problems"])
    asked_other = _import(client, token, CSV, source="other_ngo")
    assert asked_other.status_code == 403 and asked_other.json()["error"]["code"] == "forbidden"
    with Session(web.engine) as db:
        codes = {
            db.get(Source, r.source_id).code  # type: ignore[union-attr]
            for r in db.scalars(select(Record))
        }
        assert codes == {"ngo_x"}
        quarantined = db.scalars(select(QuarantineRow)).one()
        assert json.loads(quarantined.raw)["source"] == "other_ngo"
    # the same file again changes nothing
    again = _import(client, token, CSV)
    assert again.status_code == 200 and again.json()["outcome"] in ("unchanged", "already_imported")


def test_an_administrator_imports_any_list_and_bad_files_are_refused(web: Web) -> None:
    web.add_user("admin", Role.ADMIN)
    client = web.client()
    token = api_login(client, "admin")
    r = _import(client, token, CSV)
    assert r.status_code == 201 and r.json()["rows_new"] == 3 and r.json()["source"] is None
    unusable = _import(client, token, "given_name\nOmar\n", name="nosource.csv")
    assert unusable.status_code == 422 and unusable.json()["error"]["code"] == "unusable_file"
    missing = client.post("/api/v1/imports", data={"x": "1"}, headers={"X-CSRF-Token": token})
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "invalid_input"


def test_researchers_see_only_suppressed_aggregates(web: Web) -> None:
    web.add_user("admin", Role.ADMIN)
    web.add_user("rana", Role.RESEARCHER)
    admin = web.client()
    rows = "".join(f"ngo_x,X-{i},Omar{i}\n" for i in range(7))
    assert (
        _import(
            admin, api_login(admin, "admin"), "source,record_id,given_name\n" + rows
        ).status_code
        == 201
    )
    public = web.client()
    public.post(
        "/api/v1/tracing-requests", json=intake_json(), headers={"X-CSRF-Token": csrf(public)}
    )
    researcher = web.client()
    api_login(researcher, "rana")
    r = researcher.get("/api/v1/stats")
    assert r.status_code == 200
    stats = r.json()
    assert stats["current_records_by_source"] == {"ngo_x": 7, "family": None}
    assert stats["tracing_requests_by_status"] == {"registered": None}
    assert "Omar" not in r.text and "Haddad" not in r.text
    # and nothing with names is open to them
    for url in ("/api/v1/tracing-requests", "/requests"):
        assert researcher.get(url).status_code == 403


def test_the_partner_upload_page_and_the_figures_page(web: Web) -> None:
    import re

    web.add_user("partner", Role.DATA_PARTNER, source_code="ngo_x")
    client = web.client()
    api_login(client, "partner")
    page = client.get("/imports?lang=ar")
    assert page.status_code == 200 and 'dir="rtl"' in page.text and "ngo_x" in page.text
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert token
    done = client.post(
        "/imports?lang=ar",
        files={"file": ("list.csv", CSV.encode("utf-8"), "text/csv")},
        data={"csrf_token": token.group(1)},
    )
    # the upload answers at once with its job's page (the job ran in-process meanwhile)
    assert done.history and done.history[0].status_code == 303
    assert done.url.path.startswith("/imports/jobs/")
    assert done.status_code == 200 and "محفوظة جانبًا بسبب مشكلات" in done.text
    assert "other_ngo" in done.text  # the reason names the refused source
    bad = client.post(
        "/imports",
        files={"file": ("x.csv", b"given_name\nOmar\n", "text/csv")},
        data={"csrf_token": token.group(1)},
    )
    assert bad.status_code == 200 and 'role="alert"' in bad.text  # the job failed, and says why
    assert "given_name" in bad.text or "record_id" in bad.text
    assert client.get("/stats").status_code == 403  # partners see no figures
    web.add_user("rana", Role.RESEARCHER)
    researcher = web.client()
    api_login(researcher, "rana")
    figures = researcher.get("/stats?lang=en")
    assert figures.status_code == 200 and "ngo_x" in figures.text and "&lt; 5" in figures.text
    assert "Omar" not in figures.text
