"""People who cannot identify themselves and unidentified bodies: intake and candidates."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import null, select
from sqlalchemy.orm import Session

from athar.security.auth import Role
from athar.services.actor import Actor
from athar.services.registry.importer import ImportOptions, import_file
from athar.store.models import AuditEvent, LinkDecision, LinkRun, Record, Source, StatusEvent
from web_fixtures import Web, api_login, keyring, web  # noqa: F401

__all__ = ["keyring", "web"]


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match
    return match.group(1)


def test_register_an_unidentified_body_in_arabic(web: Web) -> None:
    web.add_user("amira", Role.CASE_WORKER)
    client = web.client()
    api_login(client, "amira")
    page = client.get("/unidentified/new?lang=ar")
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    bad = client.post(
        "/unidentified/new",
        data={
            "csrf_token": _token(page.text),
            "kind": "ghost",
            "height_cm": "tall",
            "found_date": "2024-13",
        },
    )
    assert bad.status_code == 422
    for message in (
        "يُرجى الاختيار من القائمة.",
        "يُرجى كتابة الطول بالسنتيمتر",
        "هذا ليس تاريخًا صحيحًا",
    ):
        assert message in bad.text
    done = client.post(
        "/unidentified/new",
        data={
            "csrf_token": _token(page.text),
            "kind": "body",
            "sex": "M",
            "age": "30-40",
            "height_cm": "174",
            "marks": "ندبة على الساعد الأيسر",
            "found_place": "مشفى تشرين العسكري",
            "found_date": "2024-12-10",
            "facility": "سجن صيدنايا العسكري",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    reference = done.headers["location"].rsplit("/", 1)[1]
    assert re.fullmatch(r"U-\d{4}-[0-9A-Z]{8}", reference)
    view = client.get(f"/unidentified/{reference}?lang=ar")
    assert (
        view.status_code == 200
        and "ندبة على الساعد الأيسر" in view.text
        and "جثة مجهولة الهوية" in view.text
    )
    api = client.get(f"/api/v1/unidentified/{reference}").json()
    assert api["kind"] == "body" and api["extra"]["height_cm"] == "174" and api["candidates"] == []
    with Session(web.engine) as db:
        record = db.scalars(select(Record).where(Record.record_id == reference)).one()
        assert db.get(Source, record.source_id).code == "unidentified"  # type: ignore[union-attr]
        assert (
            record.status_code == "unidentified_body"
            and record.age_min == 30
            and record.age_max == 40
        )
        assert record.last_seen_date == "2024-12-10" and record.facility_code is not None
        assert json.loads(record.extra or "{}")["marks"] == "ندبة على الساعد الأيسر"
        claim = db.scalars(select(StatusEvent).where(StatusEvent.record_id == record.id)).one()
        assert claim.status_code == "unidentified_body" and claim.event_date == "2024-12-10"
        actions = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert "unidentified.create" in actions and "unidentified.view" in actions
    assert "unidentified.candidates_view" in actions


def test_candidates_are_missing_person_reports_only(web: Web, tmp_path: Path) -> None:
    web.add_user("amira", Role.CASE_WORKER)
    client = web.client()
    token = api_login(client, "amira")
    reference = client.post(
        "/api/v1/unidentified",
        json={"kind": "living", "sex": "M", "age": "30-40"},
        headers={"X-CSRF-Token": token},
    ).json()["reference"]
    lists = tmp_path / "lists.csv"
    lists.write_text(
        "source,record_id,given_name,sex,status\n"
        "ngo_ar,A-1,محمد,M,missing\n"
        "released,X-1,,M,released\n"
        "morgue,M-1,,M,unidentified body\n",
        encoding="utf-8",
    )
    assert import_file(web.engine, lists, ImportOptions(actor=Actor("t"))).exit_code == 0
    with Session(web.engine) as db:
        ids = {r.record_id: r.id for r in db.scalars(select(Record))}
        run = LinkRun(
            engine="test",
            settings={},
            model=null(),
            threshold=5.0,
            actor="t",
            started_at=datetime.now(UTC),
        )
        db.add(run)
        db.flush()
        for other, score in (("A-1", 3.5), ("X-1", 4.0), ("M-1", 2.0)):
            db.add(
                LinkDecision(
                    kind="automatic",
                    record_a_id=ids[reference],
                    record_b_id=ids[other],
                    score=score,
                    link_run_id=run.id,
                    decided_at=datetime.now(UTC),
                )
            )
        db.commit()
    found = client.get(f"/api/v1/unidentified/{reference}").json()["candidates"]
    assert [c["key"] for c in found] == ["ngo_ar:A-1"]
    r = client.post(
        f"/api/v1/unidentified/{reference}/decisions",
        json={"b": "ngo_ar:A-1", "decision": "match", "reason": "tattoo described by the family"},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 201
    assert (
        client.get(f"/api/v1/unidentified/{reference}").json()["candidates"][0]["decision"]
        == "must_link"
    )
    pair = client.get(f"/api/v1/unidentified/{reference}/pair", params={"b": "ngo_ar:A-1"}).json()
    assert pair["a"]["key"] == f"unidentified:{reference}" and pair["explanation"] is None
