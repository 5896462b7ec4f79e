"""The person page: every record with its source and date, the timeline, conflicts shown."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from athar.security.auth import Role
from athar.services.actor import Actor
from athar.services.registry.importer import ImportOptions, import_file
from athar.store.models import AuditEvent, Person, PersonRecord, Record
from web_fixtures import Web, api_login, keyring, web  # noqa: F401

__all__ = ["keyring", "web"]

LISTS = {
    "ngo_ar.csv": "source,record_id,given_name,family_name,status,last_seen_date\n"
    "ngo_ar,A-1,محمد,الحلبي,مفرج عنه,2014-03\n",
    "registry.csv": "source,record_id,given_name,family_name,status,last_seen_date,facility\n"
    "registry,R-9,محمد,حلبي,deceased,2013-11,Saydnaya Prison\n",
}


def make_person(web: Web, tmp_path: Path) -> int:
    for name, text in LISTS.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        assert import_file(web.engine, path, ImportOptions(actor=Actor("t"))).exit_code == 0
    with Session(web.engine) as db:
        person = Person(created_at=datetime.now(UTC))
        db.add(person)
        db.flush()
        for record in db.scalars(select(Record)):
            db.add(
                PersonRecord(person_id=person.id, record_id=record.id, created_at=datetime.now(UTC))
            )
        db.commit()
        return person.id


def test_person_page_shows_both_sources_and_the_conflict(web: Web, tmp_path: Path) -> None:
    person_id = make_person(web, tmp_path)
    web.add_user("amira", Role.CASE_WORKER)
    client = web.client()
    api_login(client, "amira")
    body = client.get(f"/api/v1/persons/{person_id}").json()
    assert [r["key"] for r in body["records"]] == ["ngo_ar:A-1", "registry:R-9"]
    assert [(c["date"], c["status"], c["source"]) for c in body["timeline"]] == [
        ("2013-11", "deceased", "registry"),
        ("2014-03", "released", "ngo_ar"),
    ]
    assert body["conflicts"] == [{"deceased": ["registry:R-9"], "released": ["ngo_ar:A-1"]}]
    page = client.get(f"/persons/{person_id}?lang=ar")
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    assert (
        "المصادر متعارضة" in page.text and "registry:R-9" in page.text and "مفرج عنه" in page.text
    )
    with Session(web.engine) as db:
        views = [
            (e.actor, json.loads(e.detail)["records"])
            for e in db.scalars(select(AuditEvent).where(AuditEvent.action == "person.view"))
        ]
    assert views == [("user:amira", ["ngo_ar:A-1", "registry:R-9"])] * 2


def test_a_researcher_cannot_open_a_person_page(web: Web, tmp_path: Path) -> None:
    person_id = make_person(web, tmp_path)
    web.add_user("rana", Role.RESEARCHER)
    client = web.client()
    api_login(client, "rana")
    hidden = client.get(f"/api/v1/persons/{person_id}")
    absent = client.get(f"/api/v1/persons/{person_id + 1000}")
    assert hidden.status_code == absent.status_code == 404
    assert (
        hidden.json() == absent.json() == {"error": {"code": "not_found", "message": "not found"}}
    )
    page = client.get(f"/persons/{person_id}")
    assert page.status_code == 404 and "محمد" not in page.text


def test_the_person_page_is_headed_by_a_name_and_says_what_each_list_claims_last(
    web: Web, tmp_path: Path
) -> None:
    """Issue 14: the best-known name as the heading (never an internal number), and the
    latest claim of each source, in words."""
    person_id = make_person(web, tmp_path)
    web.add_user("amira", Role.CASE_WORKER)
    client = web.client()
    api_login(client, "amira")
    body = client.get(f"/api/v1/persons/{person_id}").json()
    assert body["name"] == "محمد الحلبي"
    assert [(c["source"], c["status"], c["date"]) for c in body["latest_claims"]] == [
        ("ngo_ar", "released", "2014-03"),
        ("registry", "deceased", "2013-11"),
    ]
    assert body["requests"] == []
    page = client.get(f"/persons/{person_id}?lang=en")
    heading = page.text.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert "محمد الحلبي" in heading and str(person_id) not in heading
    assert "says: deceased" in page.text and "Sednaya Military Prison" in page.text
    assert "says: released" in page.text
