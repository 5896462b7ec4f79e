"""The public tracing-request form, in Arabic and English, and its API twin, on both stores."""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from athar.security.auth import Role
from athar.store.casework import RequestPhoto, TracingRequest
from athar.store.models import AuditEvent, Record, Source, StatusEvent
from web_fixtures import (  # noqa: F401
    Web,
    api_login,
    csrf,
    image_bytes,
    intake_json,
    keyring,
    stored_photo,
    web,
)

__all__ = ["keyring", "web"]

PHONE = "+963 944 123 456"


def png_bytes() -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match
    return match.group(1)


ARABIC_FORM = {
    "requester_name": "ليلى حداد",
    "relationship": "sibling",
    "contact_phone": PHONE,
    "full_name": "عمر خالد حداد",
    "mother_name": "سميرة",
    "sex": "M",
    "birth_date": "1988",
    "arrest_date": "2013-02",
    "arrest_place": "داريا",
    "facility": "سجن صيدنايا العسكري",
    "circumstances": "اعتقل على حاجز",
    "consent": ["partners", "research"],
}


def test_arabic_form_is_rtl_and_files_a_request(web: Web) -> None:
    client = web.client(**{"Accept-Language": "ar,en;q=0.5"})
    page = client.get("/request")
    assert page.status_code == 200
    assert '<html lang="ar" dir="rtl">' in page.text
    assert "السؤال عن شخص مفقود" in page.text
    response = client.post(
        "/request",
        data={**ARABIC_FORM, "csrf_token": form_token(page.text)},
        files={"photo": ("omar.png", png_bytes(), "image/png")},
    )
    assert response.status_code == 201, response.text
    assert 'dir="rtl"' in response.text and "تم تسجيل طلبك" in response.text
    reference = re.search(r'class="reference" dir="ltr">(T-\d{4}-[0-9A-Z]{8})<', response.text)
    assert reference
    # The reply confirms registration only: it never names or matches the person.
    assert "عمر" not in response.text and "حداد" not in response.text

    with Session(web.engine) as db:
        request = db.scalars(select(TracingRequest)).one()
        assert request.reference == reference.group(1)
        assert request.language == "ar" and request.consent == ["partners", "research"]
        assert request.contact_phone == PHONE and request.photo_id is not None
        photo = db.get(RequestPhoto, request.photo_id)
        assert photo is not None and photo.data == stored_photo(png_bytes())
        assert photo.content_type == "image/png" and photo.size == len(photo.data)
        record = db.get(Record, request.record_id)
        assert record is not None and record.record_id == request.reference
        assert db.get(Source, record.source_id).code == "family"  # type: ignore[union-attr]
        assert record.full_name == "عمر خالد حداد" and record.mother_name == "سميرة"
        assert record.birth_year == 1988 and record.arrest_date == "2013-02"
        assert record.facility_code is not None  # mapped onto the facility vocabulary
        assert json.loads(record.raw)["status"] == "missing"
        status = db.scalars(select(StatusEvent)).one()
        assert status.status_code == "missing" and status.record_id == record.id
        event = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "tracing_request.create")
        ).one()
        assert event.actor == "public:web" and event.entity_id == request.reference


def test_contact_and_photo_are_never_stored_in_plaintext(web: Web) -> None:
    client = web.client()
    r = client.post(
        "/api/v1/tracing-requests",
        json=intake_json(
            contact_email="layla@example.org",
            circumstances="taken at the checkpoint",
            photo_base64=base64.b64encode(png_bytes()).decode(),
        ),
        headers={"X-CSRF-Token": csrf(client)},
    )
    assert r.status_code == 201
    with web.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM tracing_request")).mappings().one()
    dumped = " ".join(repr(v) for v in row.values())
    for secret in ("944 123 456", "944123456", "layla@example.org", "Layla Haddad", "checkpoint"):
        assert secret not in dumped
    with web.engine.connect() as conn:
        photo_row = conn.execute(text("SELECT * FROM request_photo")).mappings().one()
    assert stored_photo(png_bytes())[8:40] not in photo_row["data"]
    if web.engine.dialect.name == "sqlite":
        raw_file = web.engine.url.database
        assert raw_file
        with web.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(FULL)")
        with open(raw_file, "rb") as fh:
            data = fh.read()
        assert b"944 123 456" not in data and b"layla@example.org" not in data


def test_english_form_shows_every_problem_in_english(web: Web) -> None:
    client = web.client()
    page = client.get("/request?lang=en")
    assert '<html lang="en" dir="ltr">' in page.text
    response = client.post(
        "/request?lang=en",
        data={
            "csrf_token": form_token(page.text),
            "relationship": "cousin-in-law",
            "birth_date": "1985-13-40",
            "age": "two hundred",
            "contact_email": "not-an-email",
        },
        files={"photo": ("x.jpg", b"GIF89a not a jpeg", "image/jpeg")},
    )
    assert response.status_code == 422
    for message in (
        "Please give your name.",
        "Please choose your relationship.",
        "This does not look like an email address.",
        "Please give at least one name of the missing person.",
        "This is not a valid date",
        "Please give an age in years",
        "The photo must be a JPEG, PNG or WebP image.",
    ):
        assert message in response.text, message
    # the summary at the top names each field, with a link to it (issue 14, defect 12)
    summary = response.text.split('id="errors"', 1)[1].split("</div>", 1)[0]
    for field, title in (
        ("requester_name", "Your name"),
        ("relationship", "Your relationship to the missing person"),
        ("contact_email", "Email"),
        ("birth_date", "Date of birth"),
        ("photo", "Photo"),
    ):
        assert f'href="#f-{field}">{title}</a>' in summary, field
    assert "Please give your name." in summary
    with Session(web.engine) as db:
        assert db.scalars(select(TracingRequest)).first() is None
        assert db.scalars(select(Record)).first() is None


def test_arabic_errors_are_in_arabic(web: Web) -> None:
    client = web.client()
    page = client.get("/request?lang=ar")
    response = client.post("/request", data={"csrf_token": form_token(page.text)})
    assert response.status_code == 422
    assert "يُرجى كتابة اسمك." in response.text and 'dir="rtl"' in response.text


def test_photo_size_and_type_checked_by_content(web: Web) -> None:
    client = web.client()
    token = csrf(client)
    too_big = b"\xff\xd8\xff" + b"\0" * web.settings.photo_max_bytes
    r = client.post(
        "/api/v1/tracing-requests",
        json=intake_json(photo_base64=base64.b64encode(too_big).decode()),
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "photo"
    for fake in (b"<?php evil ?>", b"%PDF-1.4", b"RIFF\0\0\0\0AVI "):
        r = client.post(
            "/api/v1/tracing-requests",
            json=intake_json(photo_base64=base64.b64encode(fake).decode()),
            headers={"X-CSRF-Token": token},
        )
        assert r.status_code == 422, fake
    webp = image_bytes("WEBP")
    jpeg = image_bytes("JPEG")
    for image in (webp, jpeg):
        r = client.post(
            "/api/v1/tracing-requests",
            json=intake_json(photo_base64=base64.b64encode(image).decode()),
            headers={"X-CSRF-Token": token},
        )
        assert r.status_code == 201
    with Session(web.engine) as db:
        # both re-encoded as JPEG, without metadata (issue 18, finding 12)
        assert sorted(db.scalars(select(RequestPhoto.content_type))) == [
            "image/jpeg",
            "image/jpeg",
        ]


def test_the_answer_is_the_same_whether_or_not_the_person_is_known(web: Web) -> None:
    client = web.client()
    token = csrf(client)
    first = client.post(
        "/api/v1/tracing-requests", json=intake_json(), headers={"X-CSRF-Token": token}
    )
    again = client.post(
        "/api/v1/tracing-requests", json=intake_json(), headers={"X-CSRF-Token": token}
    )
    stranger = client.post(
        "/api/v1/tracing-requests",
        json=intake_json(given_name="Zaid", family_name="Nobody"),
        headers={"X-CSRF-Token": token},
    )
    bodies = [r.json() for r in (first, again, stranger)]
    assert [r.status_code for r in (first, again, stranger)] == [201, 201, 201]
    assert [sorted(b) for b in bodies] == [["message", "reference"]] * 3
    assert len({b["reference"] for b in bodies}) == 3


def test_no_public_search_by_name(web: Web) -> None:
    client = web.client()
    token = csrf(client)
    client.post("/api/v1/tracing-requests", json=intake_json(), headers={"X-CSRF-Token": token})
    for url in (
        "/api/v1/tracing-requests?name=Omar",
        "/api/v1/tracing-requests?q=Haddad",
        "/requests?q=Omar",
        "/search?q=Omar",
        "/api/v1/search?q=Omar",
        "/api/v1/persons?name=Omar",
    ):
        r = client.get(url)
        assert r.status_code in (401, 404), url
        assert "Omar" not in r.text


def test_staff_sees_the_request_and_every_view_is_audited(web: Web) -> None:
    client = web.client()
    r = client.post(
        "/api/v1/tracing-requests",
        json=intake_json(language="ar"),
        headers={"X-CSRF-Token": csrf(client)},
    )
    reference = r.json()["reference"]
    web.add_user("amira", Role.CASE_WORKER)
    staff = web.client()
    api_login(staff, "amira")
    listing = staff.get("/api/v1/tracing-requests").json()
    assert listing["total"] == 1 and listing["items"][0]["name"] == "Omar Khaled Haddad"
    detail = staff.get(f"/api/v1/tracing-requests/{reference}").json()
    assert detail["person"]["mother_name"] == "Samira" and "contact_phone" not in json.dumps(detail)
    assert PHONE not in json.dumps(detail)
    contact = staff.get(f"/api/v1/tracing-requests/{reference}/contact").json()
    assert contact["phone"] == PHONE
    page = staff.get(f"/requests/{reference}/contact?lang=ar")
    assert PHONE in page.text and 'dir="rtl"' in page.text
    with Session(web.engine) as db:
        events = [
            (e.actor, e.action, e.entity_id)
            for e in db.scalars(select(AuditEvent).order_by(AuditEvent.seq))
        ]
    assert ("user:amira", "tracing_request.view", reference) in events
    assert [e for e in events if e[1] == "tracing_request.contact_view"] == [
        ("user:amira", "tracing_request.contact_view", reference)
    ] * 2
    assert any(e[1] == "tracing_request.list" for e in events)


def test_a_case_worker_records_consent_withdrawal_and_it_is_audited(web: Web) -> None:
    public = web.client()
    reference = public.post(
        "/api/v1/tracing-requests", json=intake_json(), headers={"X-CSRF-Token": csrf(public)}
    ).json()["reference"]
    web.add_user("amira", Role.CASE_WORKER)
    staff = web.client()
    token = api_login(staff, "amira")
    r = staff.put(
        f"/api/v1/tracing-requests/{reference}/consent",
        json={"consent": ["research"]},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 200 and r.json() == {"consent": ["research"]}
    bad = staff.put(
        f"/api/v1/tracing-requests/{reference}/consent",
        json={"consent": ["everyone"]},
        headers={"X-CSRF-Token": token},
    )
    assert bad.status_code == 422
    page = staff.get(f"/requests/{reference}")
    withdraw = staff.post(
        f"/requests/{reference}/consent",
        data={
            "csrf_token": re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)
        },  # type: ignore[union-attr]
        follow_redirects=False,
    )
    assert withdraw.status_code == 303
    assert staff.get(f"/api/v1/tracing-requests/{reference}").json()["consent"] == []
    with Session(web.engine) as db:
        changes = [
            json.loads(e.detail)
            for e in db.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "tracing_request.consent")
                .order_by(AuditEvent.seq)
            )
        ]
    assert changes == [
        {"from": ["humanitarian", "partners"], "to": ["research"]},
        {"from": ["research"], "to": []},
    ]
