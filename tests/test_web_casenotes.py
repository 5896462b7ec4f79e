"""Notes on a tracing request and the record of when and how the family was told (API and
pages), on both stores: append-only, encrypted where they should be, audited, permission-checked,
and a request the caller may not see answers like a missing one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from athar.security.auth import Role
from athar.security.crypto import KeyRing, configure, encrypted_columns
from athar.services.audit import verify_chain
from athar.services.safekeeping.backup import backup, restore
from athar.services.safekeeping.key_rotation import key_usage, reencrypt_all, store_metadata
from athar.store import migrate
from athar.store.casework import FamilyNotification, RequestNote
from athar.store.engine import make_engine
from athar.store.models import AuditEvent, Base
from web_fixtures import Web, api_login, csrf, intake_json, keyring, web  # noqa: F401

__all__ = ["keyring", "web"]

SECRET_NOTE = "The brother asked us not to call the mother at home"
PLAIN_NOTE = "Checked the Saydnaya list of 2016 again"


def _file(web: Web) -> str:
    client = web.client()
    response = client.post(
        "/api/v1/tracing-requests", json=intake_json(), headers={"X-CSRF-Token": csrf(client)}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["reference"])


def _worker(web: Web, name: str = "amira", role: Role = Role.CASE_WORKER) -> tuple[TestClient, str]:
    web.add_user(name, role, source_code="ngo_x" if role is Role.DATA_PARTNER else None)
    client = web.client()
    return client, api_login(client, name)


def _actions(web: Web, reference: str) -> list[str]:
    with Session(web.engine) as db:
        return list(
            db.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.entity_id == reference)
                .order_by(AuditEvent.seq)
            )
        )


def test_notes_are_appended_encrypted_when_sensitive_and_audited(web: Web) -> None:
    reference = _file(web)
    client, token = _worker(web)
    h = {"X-CSRF-Token": token}
    url = f"/api/v1/tracing-requests/{reference}/notes"
    r1 = client.post(url, json={"text": PLAIN_NOTE}, headers=h)
    r2 = client.post(url, json={"text": SECRET_NOTE, "sensitive": True}, headers=h)
    assert r1.status_code == r2.status_code == 201, (r1.text, r2.text)
    assert r2.json()["sensitive"] is True and r2.json()["author"] == "amira"

    items = client.get(url).json()["items"]
    assert [(n["text"], n["sensitive"]) for n in items] == [
        (PLAIN_NOTE, False),
        (SECRET_NOTE, True),
    ]
    # At rest: the sensitive text is ciphertext bound to its column, the plain one is text.
    with web.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT text, sealed_text, sensitive FROM request_note ORDER BY id")
        ).all()
    assert rows[0][0] == PLAIN_NOTE and rows[0][1] is None
    assert rows[1][0] is None and rows[1][1].startswith("athar1:")
    assert SECRET_NOTE not in rows[1][1]
    assert ("request_note", "sealed_text") in {
        (c.table.name, c.column) for c in encrypted_columns(Base.metadata)
    }
    assert _actions(web, reference).count("tracing_request.note_add") == 2
    assert "tracing_request.notes_view" in _actions(web, reference)
    with web.engine.connect() as conn:
        assert verify_chain(conn).ok

    # No edit and no delete: the API has no such method.
    assert client.put(f"{url}/1", json={"text": "x"}, headers=h).status_code in (404, 405)
    assert client.delete(f"{url}/1", headers=h).status_code in (404, 405)


def test_note_input_errors_have_the_error_shape(web: Web) -> None:
    reference = _file(web)
    client, token = _worker(web)
    url = f"/api/v1/tracing-requests/{reference}/notes"
    r = client.post(url, json={"text": "   "}, headers={"X-CSRF-Token": token})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_input"
    assert r.json()["error"]["fields"][0]["field"] == "text"
    # without the CSRF token nothing is stored
    r = client.post(url, json={"text": "no token"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    with Session(web.engine) as db:
        assert db.scalar(select(RequestNote.id)) is None


def test_family_informed_is_recorded_encrypted_and_sets_the_status(web: Web) -> None:
    reference = _file(web)
    client, token = _worker(web)
    h = {"X-CSRF-Token": token}
    url = f"/api/v1/tracing-requests/{reference}/notifications"
    told_at = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    body = {
        "informed_at": told_at.isoformat(),
        "channel": "phone",
        "outcome": "candidate_found",
        "details": "Told the sister a record in the released list may be him",
    }
    r = client.post(url, json=body, headers=h)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["request_status"] == "family_informed"
    assert got["channel"] == "phone" and got["recorded_by"] == "amira"
    assert datetime.fromisoformat(got["informed_at"]) == told_at
    assert client.get(f"/api/v1/tracing-requests/{reference}").json()["status"] == (
        "family_informed"
    )
    items = client.get(url).json()["items"]
    assert [(i["outcome"], i["details"]) for i in items] == [("candidate_found", body["details"])]
    with web.engine.connect() as conn:
        stored = conn.execute(text("SELECT details FROM family_notification")).scalar_one()
    assert stored.startswith("athar1:") and "sister" not in stored
    actions = _actions(web, reference)
    assert "tracing_request.family_informed" in actions
    assert "tracing_request.status" in actions  # the status change is audited as such
    assert "tracing_request.notifications_view" in actions


def test_a_closed_request_stays_closed_and_bad_input_is_refused(web: Web) -> None:
    reference = _file(web)
    client, token = _worker(web)
    h = {"X-CSRF-Token": token}
    base = f"/api/v1/tracing-requests/{reference}"
    assert client.put(f"{base}/status", json={"status": "closed"}, headers=h).status_code == 200
    r = client.post(
        f"{base}/notifications", json={"channel": "letter", "outcome": "no_news"}, headers=h
    )
    assert r.status_code == 201 and r.json()["request_status"] == "closed"
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    r = client.post(
        f"{base}/notifications",
        json={"channel": "pigeon", "outcome": "nothing", "informed_at": future},
        headers=h,
    )
    assert r.status_code == 422
    assert {f["field"] for f in r.json()["error"]["fields"]} == {
        "channel",
        "outcome",
        "informed_at",
    }
    with Session(web.engine) as db:
        assert len(list(db.scalars(select(FamilyNotification)))) == 1


def test_hidden_is_not_found_for_every_other_role(web: Web) -> None:
    reference = _file(web)
    worker, wtoken = _worker(web)
    worker.post(
        f"/api/v1/tracing-requests/{reference}/notes",
        json={"text": SECRET_NOTE, "sensitive": True},
        headers={"X-CSRF-Token": wtoken},
    )
    for i, role in enumerate((Role.REVIEWER, Role.DATA_PARTNER, Role.RESEARCHER)):
        client, token = _worker(web, f"other{i}", role)
        h = {"X-CSRF-Token": token}
        for path in (reference, "T-NO-SUCH-REF"):
            for kind in ("notes", "notifications"):
                url = f"/api/v1/tracing-requests/{path}/{kind}"
                got = client.get(url)
                assert got.status_code == 404 and got.json()["error"]["code"] == "not_found"
            # even invalid input answers 404, saying nothing about the request
            r = client.post(f"/api/v1/tracing-requests/{path}/notes", json={"text": ""}, headers=h)
            assert r.status_code == 404, (role, r.text)
            r = client.post(
                f"/api/v1/tracing-requests/{path}/notifications",
                json={"channel": "x", "outcome": "y"},
                headers=h,
            )
            assert r.status_code == 404, (role, r.text)
            page = client.post(f"/requests/{path}/notifications", data={"csrf_token": token})
            assert page.status_code == 404
    anonymous = web.client()
    assert anonymous.get(f"/api/v1/tracing-requests/{reference}/notes").status_code == 401


def _form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match
    return match.group(1)


def test_the_request_page_shows_the_history_and_its_forms_work(web: Web) -> None:
    reference = _file(web)
    web.add_user("amira", Role.CASE_WORKER)
    client = web.client()
    api_login(client, "amira")
    page = client.get(f"/requests/{reference}?lang=en")
    assert page.status_code == 200
    assert "The family has not been told anything yet." in page.text
    assert "No notes yet." in page.text
    token = _form_token(page.text)

    r = client.post(
        f"/requests/{reference}/notes",
        data={"csrf_token": token, "text": SECRET_NOTE, "sensitive": "on"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("#notes")
    r = client.post(
        f"/requests/{reference}/notifications",
        data={
            "csrf_token": token,
            "informed_at": "2026-01-05T14:30",
            "channel": "in_person",
            "outcome": "person_confirmed",
            "details": "Met the family in Gaziantep",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = client.get(f"/requests/{reference}?lang=en")
    assert SECRET_NOTE in page.text and "Sensitive (kept encrypted)" in page.text
    # the form reads the time where the case worker is (ATHAR_TIMEZONE), and shows it so
    assert "2026-01-05 14:30 (UTC+03:00)" in page.text and "In person" in page.text
    assert "The person was identified" in page.text and "Met the family in Gaziantep" in page.text
    assert "Family informed" in page.text
    ar = client.get(f"/requests/{reference}?lang=ar")
    assert "حضوريا" in ar.text  # "In person" through the catalogue
    assert "tracing_request.history_view" in _actions(web, reference)

    # invalid form input re-renders the page with the error, and stores nothing
    r = client.post(
        f"/requests/{reference}/notes",
        data={"csrf_token": token, "text": " "},
        follow_redirects=False,
    )
    assert r.status_code == 422 and 'class="error"' in r.text
    r = client.post(
        f"/requests/{reference}/notifications",
        data={"csrf_token": token, "informed_at": "not a date", "channel": "phone"},
        follow_redirects=False,
    )
    assert r.status_code == 422
    # a form without its CSRF token is refused
    r = client.post(f"/requests/{reference}/notes", data={"text": "x"}, follow_redirects=False)
    assert r.status_code == 403
    with Session(web.engine) as db:
        assert len(list(db.scalars(select(RequestNote)))) == 1
        assert len(list(db.scalars(select(FamilyNotification)))) == 1


def test_reviewer_sees_no_forms_and_no_history(web: Web) -> None:
    """A role without read_requests gets the request page's 404, so no history leaks."""
    reference = _file(web)
    web.add_user("rami", Role.REVIEWER)
    client = web.client()
    api_login(client, "rami")
    assert client.get(f"/requests/{reference}").status_code == 404


def test_key_rotation_and_backup_cover_the_history(
    web: Web, keyring: KeyRing, tmp_path: Path
) -> None:
    """`athar keys status|rotate` see the new encrypted columns, and rotated values still read."""
    reference = _file(web)
    client, token = _worker(web)
    h = {"X-CSRF-Token": token}
    base = f"/api/v1/tracing-requests/{reference}"
    client.post(f"{base}/notes", json={"text": SECRET_NOTE, "sensitive": True}, headers=h)
    client.post(f"{base}/notes", json={"text": PLAIN_NOTE}, headers=h)
    client.post(
        f"{base}/notifications",
        json={"channel": "phone", "outcome": "no_news", "details": "told by phone"},
        headers=h,
    )
    metadata = store_metadata()
    usage = key_usage(web.engine, metadata)
    assert usage["request_note.sealed_text"] == {keyring.active: 1}
    assert usage["family_notification.details"] == {keyring.active: 1}
    rotated = keyring.with_new_active("k-next")
    configure(rotated)
    report = reencrypt_all(web.engine, metadata, rotated)
    assert report.reencrypted >= 2
    usage = key_usage(web.engine, metadata)
    assert usage["request_note.sealed_text"] == {"k-next": 1}
    assert usage["family_notification.details"] == {"k-next": 1}
    notes = client.get(f"{base}/notes").json()["items"]
    assert [n["text"] for n in notes] == [SECRET_NOTE, PLAIN_NOTE]
    told = client.get(f"{base}/notifications").json()["items"]
    assert told[0]["details"] == "told by phone"
    # a backup carries both tables, ciphertext as ciphertext, and a restore reads them back
    archive = tmp_path / "store.athar-backup"
    report = backup(web.engine, archive, ring=rotated, models=metadata)
    assert report.tables["request_note"] == 2 and report.tables["family_notification"] == 1
    target = make_engine(f"sqlite:///{tmp_path / 'restored.db'}")
    try:
        migrate.upgrade(target)
        restore(target, archive, ring=rotated, models=metadata, force=True)
        with Session(target) as db:
            sealed = db.scalars(select(RequestNote.sealed_text).where(RequestNote.sensitive))
            assert list(sealed) == [SECRET_NOTE]
            assert db.scalars(select(FamilyNotification.details)).one() == "told by phone"
    finally:
        target.dispose()
