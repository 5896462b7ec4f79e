"""Key rotation on both databases: batches, resumability, a live application meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from athar.security import crypto
from athar.security.crypto import EncryptedBytes, EncryptedText
from athar.security.keys import KeyRing
from athar.services.safekeeping import key_rotation
from athar.services.safekeeping.key_rotation import key_usage, reencrypt_all
from athar.store.engine import make_engine

md = sa.MetaData()
contact = sa.Table(
    "sec_contact",
    md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("phone", EncryptedText(context="sec_contact.phone")),
    sa.Column("note", EncryptedText(context="sec_contact.note")),
    sa.Column("photo", EncryptedBytes(context="sec_contact.photo")),
)


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The 'application' reads its keys from a key file, as in production."""
    path = tmp_path / "athar.keys"
    KeyRing.generate("k1").write_file(path)
    for var in ("ATHAR_KEYS", "ATHAR_ACTIVE_KEY", "ATHAR_EPHEMERAL_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ATHAR_KEY_FILE", str(path))
    crypto.configure(None)
    yield path
    crypto.configure(None)


def phone(i: int) -> str:
    return f"+963 955 {i:06d}"  # synthetic


def seed(engine: sa.Engine, n: int) -> None:
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            contact.insert(),
            [
                {
                    "id": i,
                    "phone": phone(i),
                    "note": None if i % 7 == 0 else f"note {i}",
                    "photo": bytes([i % 256]) * 50,
                }
                for i in range(1, n + 1)
            ],
        )


def expected_rows(n: int) -> list[tuple[Any, ...]]:
    return [
        (i, phone(i), None if i % 7 == 0 else f"note {i}", bytes([i % 256]) * 50)
        for i in range(1, n + 1)
    ]


def test_rotate_reencrypts_everything_in_batches(db_url: str, key_file: Path) -> None:
    engine = make_engine(db_url)
    seed(engine, 250)
    usage = key_usage(engine, md)
    assert usage["sec_contact.phone"] == {"k1": 250}
    assert usage["sec_contact.note"] == {"k1": 250 - 250 // 7}

    new_ring = crypto.current_keyring().with_new_active("k2")
    new_ring.write_file(key_file, overwrite=True)
    events: list[tuple[str, dict[str, Any]]] = []
    report = reencrypt_all(
        engine, md, new_ring, batch_size=40, audit=lambda c, a, d: events.append((a, d))
    )
    assert report.reencrypted == 250 + (250 - 250 // 7) + 250
    assert report.unreadable == 0
    # 250 rows / 40 per batch = 7 batches for phone and photo; note has 215 -> 6
    assert report.batches == 7 + 6 + 7
    assert [a for a, _ in events] == ["keys.reencrypt.start", "keys.reencrypt.done"]
    assert events[1][1]["reencrypted"] == report.reencrypted
    usage = key_usage(engine, md)
    assert all(set(c) == {"k2"} for c in usage.values()), usage
    # the old key can now go; everything still reads
    retired = new_ring.without(["k1"])
    crypto.configure(retired)
    with engine.connect() as conn:
        assert conn.execute(sa.select(contact).order_by(contact.c.id)).all() == expected_rows(250)
    # a second run has nothing to do
    assert reencrypt_all(engine, md, retired).reencrypted == 0
    engine.dispose()


def test_interrupted_rotation_resumes(
    db_url: str, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(db_url)
    seed(engine, 100)
    new_ring = crypto.current_keyring().with_new_active("k2")
    new_ring.write_file(key_file, overwrite=True)
    real = key_rotation.reencrypt_token
    calls = {"n": 0}

    def flaky(token: Any, context: str, ring: KeyRing) -> Any:
        calls["n"] += 1
        if calls["n"] == 55:
            raise RuntimeError("power cut")
        return real(token, context, ring)

    monkeypatch.setattr(key_rotation, "reencrypt_token", flaky)
    with pytest.raises(RuntimeError, match="power cut"):
        reencrypt_all(engine, md, new_ring, batch_size=25)
    usage = key_usage(engine, md)["sec_contact.phone"]
    # two batches of 25 committed, the third rolled back as a whole
    assert usage == {"k2": 50, "k1": 50}
    # the application (old ring in memory, key file now has k2) still reads every row
    with engine.connect() as conn:
        assert conn.execute(sa.select(contact).order_by(contact.c.id)).all() == expected_rows(100)
    monkeypatch.setattr(key_rotation, "reencrypt_token", real)
    report = reencrypt_all(engine, md, new_ring, batch_size=25)
    assert report.reencrypted == 50 + (100 - 100 // 7) + 100
    assert all(set(c) == {"k2"} for c in key_usage(engine, md).values())
    engine.dispose()


def test_application_keeps_working_during_rotation(db_url: str, key_file: Path) -> None:
    """A reader/writer thread using the process key ring runs while rotation rewrites rows."""
    engine = make_engine(db_url)
    n = 400
    seed(engine, n)
    crypto.current_keyring()  # the app has loaded k1 only
    new_ring = crypto.current_keyring().with_new_active("k2")
    new_ring.write_file(key_file, overwrite=True)

    errors: list[BaseException] = []
    stop = threading.Event()
    app_writes: dict[int, str] = {}

    def app() -> None:
        i = 0
        try:
            while not stop.is_set():
                i += 1
                row_id = (i * 37) % n + 1
                with engine.connect() as conn:
                    got = conn.execute(
                        sa.select(contact.c.phone).where(contact.c.id == row_id)
                    ).scalar_one()
                assert got == app_writes.get(row_id, phone(row_id))
                if i % 5 == 0:
                    value = f"+963 933 {i:06d}"
                    with engine.begin() as conn:
                        conn.execute(
                            contact.update().where(contact.c.id == row_id).values(phone=value)
                        )
                    app_writes[row_id] = value
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    worker = threading.Thread(target=app)
    worker.start()
    try:
        first = reencrypt_all(engine, md, new_ring, batch_size=20)
    finally:
        stop.set()
        worker.join(timeout=60)
    assert not errors, errors
    assert first.reencrypted > 0
    # stragglers written under k1 by the app before it noticed the new key: one more pass
    reencrypt_all(engine, md, new_ring, batch_size=20)
    assert all(set(c) == {"k2"} for c in key_usage(engine, md).values())
    crypto.configure(new_ring.without(["k1"]))
    with engine.connect() as conn:
        phones = dict(conn.execute(sa.select(contact.c.id, contact.c.phone)).all())
    assert phones == {i: app_writes.get(i, phone(i)) for i in range(1, n + 1)}
    engine.dispose()
