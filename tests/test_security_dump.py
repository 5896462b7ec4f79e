"""A dump of the database reveals no encrypted value: raw SQLite bytes, and pg_dump output.

Each test also stores a *control* phone number in a plain column and checks that the dump
does show it, so a dump that we failed to read (or searched wrongly) cannot pass.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from athar.security import crypto
from athar.security.crypto import EncryptedBytes, EncryptedText, encrypted_columns
from athar.security.keys import KeyRing
from athar.store.engine import make_engine

md = sa.MetaData()
contact = sa.Table(
    "sec_dump_contact",
    md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("phone", EncryptedText(context="sec_dump_contact.phone")),
    sa.Column("note", EncryptedText(context="sec_dump_contact.note")),
    sa.Column("photo", EncryptedBytes(context="sec_dump_contact.photo")),
    sa.Column("control", sa.Text),  # NOT encrypted: must show up in the dump
)

N = 300
PHOTO_MARK = b"SYNTHETIC-PHOTO-MARKER-7d1e"


def phone(i: int) -> str:
    return f"+963 944 {i:06d}"  # synthetic: no real number has this shape of counter


def note(i: int) -> str:
    return f"شوهد في الفرع رقم {i} - confidential witness {i:05d}"


def forms(value: str) -> list[bytes]:
    """How a phone number could appear in a dump: as written, digits only, local part."""
    digits = "".join(ch for ch in value if ch.isdigit())
    return [value.encode(), digits.encode(), digits[3:].encode()]


@pytest.fixture(autouse=True)
def ring() -> Iterator[KeyRing]:
    ring = KeyRing.generate("kd1")
    crypto.configure(ring)
    yield ring
    crypto.configure(None)


def fill(engine: sa.Engine) -> None:
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            contact.insert(),
            [
                {
                    "id": i,
                    "phone": phone(i),
                    "note": note(i),
                    "photo": PHOTO_MARK + bytes([i % 256]) * 64,
                    "control": "+963 911 777888" if i == 1 else None,
                }
                for i in range(1, N + 1)
            ],
        )
        # update some values too, so old row versions (PostgreSQL MVCC, SQLite free pages)
        # would also have to be clean
        for i in range(1, N + 1, 10):
            conn.execute(contact.update().where(contact.c.id == i).values(phone=phone(i)))


def dump(engine: sa.Engine, db_url: str) -> bytes:
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        engine.dispose()
        assert url.database is not None
        base = Path(url.database)
        return b"".join(
            p.read_bytes()
            for p in (base, Path(f"{base}-wal"), Path(f"{base}-journal"))
            if p.exists()
        )
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is needed for this test (postgresql-client)"
    out = subprocess.run(
        [
            pg_dump,
            "--no-owner",
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            url.database or "",
        ],
        check=True,
        capture_output=True,
    )
    return out.stdout


def assert_clean(data: bytes, phones: list[str], notes: list[str]) -> None:
    assert b"+963 911 777888" in data, "control value missing: the dump was not read"
    leaks = [p for p in phones for f in forms(p) if f in data]
    assert not leaks, f"{len(leaks)} phone numbers in clear in the dump, e.g. {leaks[:3]}"
    assert not [n for n in notes if n.encode() in data]
    assert "شوهد في الفرع".encode() not in data
    assert PHOTO_MARK not in data


def test_dump_has_no_plaintext_of_encrypted_columns(db_url: str) -> None:
    engine = make_engine(db_url)
    fill(engine)
    with engine.connect() as conn:  # the application still reads them
        assert conn.execute(sa.select(contact.c.phone).where(contact.c.id == 5)).scalar() == phone(
            5
        )
    data = dump(engine, db_url)
    engine.dispose()
    assert_clean(data, [phone(i) for i in range(1, N + 1)], [note(i) for i in range(1, N + 1)])


def test_registry_lists_the_test_table() -> None:
    assert [c.name for c in encrypted_columns(md)] == [
        "sec_dump_contact.phone",
        "sec_dump_contact.note",
        "sec_dump_contact.photo",
    ]


# -- the real thing: tracing requests filed through the web app's service -----------------


def _photo() -> bytes:
    """A real JPEG of noise: its re-encoded bytes are distinctive enough to look for."""
    import io
    import random

    from PIL import Image

    noise = random.Random(7).randbytes(32 * 32 * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (32, 32), noise).save(out, format="JPEG", quality=95)
    return out.getvalue()


PHOTO = _photo()


def relative(i: int) -> str:
    return f"Synthetic Relative Namir {i:04d}"


def file_requests(engine: sa.Engine, n: int, photo: bool = True) -> list[str]:
    """File ``n`` tracing requests with synthetic contact details; return their references."""

    from athar.services.actor import PUBLIC
    from athar.services.casework.tracing import submit_request
    from athar.services.casework.tracing_intake import validate_intake

    refs = []
    for i in range(1, n + 1):
        intake = validate_intake(
            {
                "requester_name": relative(i),
                "relationship": "sibling",
                "contact_phone": phone(i),
                "contact_email": f"relative.{i:04d}@example.org",
                "contact_other": f"signal {phone(i)}",
                "full_name": "محمد أحمد الحلبي",
                "given_name": "Controlname",
                "circumstances": note(i),
            },
            ["partners"],
            PHOTO if photo else None,
            photo_max_bytes=1_000_000,
        )
        refs.append(submit_request(engine, actor=PUBLIC, intake=intake, language="ar").reference)
    return refs


def test_dump_of_tracing_requests_has_no_contact_detail(db_url: str) -> None:
    from athar.store.casework import TracingRequest

    cols = {c.name for c in encrypted_columns(TracingRequest.metadata)}
    assert {
        "tracing_request.contact_phone",
        "tracing_request.contact_email",
        "tracing_request.contact_other",
        "tracing_request.requester_name",
        "tracing_request.circumstances",
        "tracing_request.other_names",
        "tracing_request.residence_place",
        "request_photo.data",
    } <= cols
    engine = make_engine(db_url)
    n = 40
    file_requests(engine, n)
    data = dump(engine, db_url)
    engine.dispose()
    # control: the missing person's name is deliberately not encrypted (linkage needs it)
    assert b"Controlname" in data, "control value missing: the dump was not read"
    leaks = [p for i in range(1, n + 1) for p in forms(phone(i)) if p in data]
    assert not leaks, f"phone numbers in clear: {leaks[:3]}"
    for i in range(1, n + 1):
        for secret in (relative(i), f"relative.{i:04d}@example.org", note(i)):
            assert secret.encode() not in data, secret
    assert PHOTO_MARK not in data
    from athar.services.casework.photos import clean_photo

    stored = clean_photo(PHOTO, max_pixels=10**6).data  # what the request row holds
    assert stored[-200:-100] not in data
