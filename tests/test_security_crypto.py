"""Field encryption and the key ring: no database needed."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from athar.security import crypto
from athar.security.crypto import (
    DecryptionError,
    EncryptedBytes,
    EncryptedText,
    decrypt,
    decrypt_bytes,
    encrypt,
    encrypt_bytes,
    encrypted_columns,
    reencrypt_token,
    token_key_id,
)
from athar.security.keys import KeyConfigError, KeyRing


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.generate("k1")


def test_round_trip_and_context_binding(ring: KeyRing) -> None:
    token = encrypt("+963 944 123 456", "tracing_request.contact_phone", ring)
    assert token.startswith("athar1:k1:")
    assert "944" not in token
    assert decrypt(token, "tracing_request.contact_phone", ring) == "+963 944 123 456"
    with pytest.raises(DecryptionError, match="authentication failed"):
        decrypt(token, "tracing_request.notes", ring)


def test_nonce_is_fresh_each_time(ring: KeyRing) -> None:
    a = encrypt("same", "t.c", ring)
    b = encrypt("same", "t.c", ring)
    assert a != b


def test_padding_hides_exact_length(ring: KeyRing) -> None:
    lengths = {len(encrypt("x" * n, "t.c", ring)) for n in range(0, 15)}
    assert len(lengths) == 1


def test_wrong_key_and_unknown_key_fail(ring: KeyRing) -> None:
    token = encrypt("secret", "t.c", ring)
    other = KeyRing.generate("k1")  # same id, different key material
    with pytest.raises(DecryptionError):
        decrypt(token, "t.c", other)
    with pytest.raises(DecryptionError, match="not in the key ring"):
        decrypt(token, "t.c", KeyRing.generate("k2"))


def test_relabelled_key_id_fails() -> None:
    ring = KeyRing({"a": os.urandom(32), "b": os.urandom(32)}, "a")
    token = encrypt("secret", "t.c", ring)
    forged = token.replace("athar1:a:", "athar1:b:")
    with pytest.raises(DecryptionError):
        decrypt(forged, "t.c", ring)


def test_every_single_bit_flip_is_detected(ring: KeyRing) -> None:
    token = encrypt_bytes(b"photo-bytes", "t.photo", ring)
    for i in range(len(token)):
        for bit in (0x01, 0x80):
            mutated = bytearray(token)
            mutated[i] ^= bit
            with pytest.raises(DecryptionError):
                decrypt_bytes(bytes(mutated), "t.photo", ring)


def test_truncated_and_garbage_tokens(ring: KeyRing) -> None:
    token = encrypt("hello", "t.c", ring)
    for bad in ["", "hello", "athar1:", "athar1:k1", "athar1:k1:", token[:-5], "athar1:k1:!!!"]:
        with pytest.raises(DecryptionError):
            decrypt(bad, "t.c", ring)
    for bad_b in [b"", b"A1", b"A1\x05k1", b"XX\x02k1" + b"\x00" * 40]:
        with pytest.raises(DecryptionError):
            decrypt_bytes(bad_b, "t.c", ring)


@settings(max_examples=200, deadline=None)
@given(st.text(), st.binary(max_size=2048))
def test_round_trip_any_value(text: str, blob: bytes) -> None:
    ring = KeyRing.generate("p")
    assert decrypt(encrypt(text, "t.c", ring), "t.c", ring) == text
    assert decrypt_bytes(encrypt_bytes(blob, "t.b", ring), "t.b", ring) == blob


def test_reencrypt_moves_to_active_key(ring: KeyRing) -> None:
    token = encrypt("abc", "t.c", ring)
    ring2 = ring.with_new_active("k2")
    new = reencrypt_token(token, "t.c", ring2)
    assert isinstance(new, str)
    assert token_key_id(token) == "k1" and token_key_id(new) == "k2"
    assert decrypt(new, "t.c", ring2) == "abc"
    blob = encrypt_bytes(b"abc", "t.b", ring)
    new_b = reencrypt_token(blob, "t.b", ring2)
    assert isinstance(new_b, bytes) and token_key_id(new_b) == "k2"


# -- key ring loading -------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_from_env_keys_first_is_active() -> None:
    k1, k2 = os.urandom(32), os.urandom(32)
    ring = KeyRing.from_env({"ATHAR_KEYS": f"new:{_b64(k2)}, old:{_b64(k1)}"})
    assert ring.active == "new" and ring.keys["old"] == k1
    ring = KeyRing.from_env(
        {"ATHAR_KEYS": f"new:{_b64(k2)},old:{_b64(k1)}", "ATHAR_ACTIVE_KEY": "old"}
    )
    assert ring.active == "old"


@pytest.mark.parametrize(
    "env, message",
    [
        ({}, "no encryption key"),
        ({"ATHAR_KEYS": "k1"}, "no ':'"),
        ({"ATHAR_KEYS": "k1:" + _b64(b"x" * 16)}, "AES-256 needs 32"),
        ({"ATHAR_KEYS": "k1:%%%%"}, "not valid base64|AES-256"),
        ({"ATHAR_KEYS": "bad id:" + _b64(b"x" * 32)}, "not valid"),
        ({"ATHAR_KEYS": "k1:" + _b64(b"x" * 32), "ATHAR_ACTIVE_KEY": "k9"}, "not a loaded key"),
        ({"ATHAR_EPHEMERAL_KEY": "1", "ATHAR_ENV": "production"}, "refused"),
        ({"ATHAR_KEY_FILE": "/nonexistent/athar.keys"}, "does not exist"),
    ],
)
def test_from_env_refuses_bad_configuration(env: dict[str, str], message: str) -> None:
    with pytest.raises(KeyConfigError, match=message):
        KeyRing.from_env(env)


def test_ephemeral_only_when_asked() -> None:
    ring = KeyRing.from_env({"ATHAR_EPHEMERAL_KEY": "1", "ATHAR_ENV": "development"})
    assert ring.source == "ephemeral"


def test_key_file_written_0600_and_read_back(tmp_path: Path) -> None:
    ring = KeyRing.generate("k1").with_new_active("k2")
    path = tmp_path / "athar.keys"
    ring.write_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = KeyRing.from_env({"ATHAR_KEY_FILE": str(path)})
    assert loaded == ring and loaded.active == "k2"
    with pytest.raises(KeyConfigError, match="already exists"):
        ring.write_file(path)
    assert _b64(ring.keys["k1"]) not in repr(loaded)


def test_key_file_with_loose_permissions_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "athar.keys"
    KeyRing.generate("k1").write_file(path)
    path.chmod(0o640)
    with pytest.raises(KeyConfigError, match="must not be readable by group or others"):
        KeyRing.from_file(path)


def test_key_file_malformed(tmp_path: Path) -> None:
    path = tmp_path / "athar.keys"
    for content in ["not json", json.dumps({"version": 9}), json.dumps({"version": 1, "keys": {}})]:
        path.write_text(content)
        path.chmod(0o600)
        with pytest.raises(KeyConfigError):
            KeyRing.from_file(path)


def test_cannot_retire_active_key() -> None:
    ring = KeyRing.generate("k1").with_new_active("k2")
    assert set(ring.without(["k1"]).keys) == {"k2"}
    with pytest.raises(KeyConfigError):
        ring.without(["k2"])


# -- column types and registry ----------------------------------------------------------


def test_type_decorators_on_sqlite(ring: KeyRing) -> None:
    md = sa.MetaData()
    t = sa.Table(
        "contact",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("phone", EncryptedText(context="contact.phone")),
        sa.Column("photo", EncryptedBytes(context="contact.photo")),
    )
    engine = sa.create_engine("sqlite://")
    md.create_all(engine)
    crypto.configure(ring)
    try:
        with engine.begin() as conn:
            conn.execute(t.insert(), [{"phone": "+963 900 000 001", "photo": b"\xff\xd8jpeg"}])
            conn.execute(t.insert(), [{"phone": None, "photo": None}])
            assert conn.execute(sa.select(t.c.phone, t.c.photo).order_by(t.c.id)).all() == [
                ("+963 900 000 001", b"\xff\xd8jpeg"),
                (None, None),
            ]
            raw = conn.execute(sa.text("select phone, photo from contact where id = 1")).one()
            assert "900" not in raw[0] and b"jpeg" not in raw[1]
            assert conn.execute(sa.select(t.c.id).where(t.c.phone.is_(None))).scalar() == 2
        with pytest.raises(TypeError, match="cannot be compared"):
            _ = t.c.phone == "+963 900 000 001"
        with pytest.raises(TypeError, match="cannot be compared"):
            t.c.phone.like("+963%")
    finally:
        crypto.configure(None)
    assert [c.name for c in encrypted_columns(md)] == ["contact.phone", "contact.photo"]


def test_registry_rejects_shared_context() -> None:
    md = sa.MetaData()
    sa.Table(
        "a",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("x", EncryptedText(context="same")),
        sa.Column("y", EncryptedText(context="same")),
    )
    with pytest.raises(ValueError, match="share the encryption context"):
        encrypted_columns(md)


def test_no_key_means_no_encryption(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("ATHAR_KEYS", "ATHAR_KEY_FILE", "ATHAR_EPHEMERAL_KEY"):
        monkeypatch.delenv(var, raising=False)
    crypto.configure(None)
    with pytest.raises(KeyConfigError):
        encrypt("x", "t.c")


def test_process_rereads_a_changed_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("ATHAR_KEYS", "ATHAR_KEY_FILE", "ATHAR_EPHEMERAL_KEY"):
        monkeypatch.delenv(var, raising=False)
    path = tmp_path / "athar.keys"
    KeyRing.generate("k1").write_file(path)
    crypto.configure(KeyRing.from_file(path))  # given explicitly, not through the environment
    try:
        old = encrypt("old value", "t.c")
        rotated = KeyRing.from_file(path).with_new_active("k2")
        rotated.write_file(path, overwrite=True)
        new = encrypt("new value", "t.c", rotated)
        # an unknown key id makes the process re-read its key file at once
        assert decrypt(new, "t.c") == "new value"
        assert decrypt(old, "t.c") == "old value"
        assert token_key_id(encrypt("x", "t.c")) == "k2"  # and it now seals with the new key
        # a broken key file is not adopted: the process keeps the keys it has
        monkeypatch.setattr(crypto, "RELOAD_INTERVAL", 0.0)
        path.write_text("garbage")
        path.chmod(0o600)
        assert decrypt(new, "t.c") == "new value"
    finally:
        crypto.configure(None)


def test_every_encrypted_column_of_the_store_is_bound_to_its_own_name() -> None:
    """The registry over Athar's real schema; each context is exactly 'table.column'."""
    from athar.services.safekeeping.key_rotation import store_metadata

    found = encrypted_columns(store_metadata())
    assert {c.name for c in found} >= {
        "tracing_request.contact_phone",
        "tracing_request.contact_email",
        "tracing_request.contact_other",
        "tracing_request.other_names",
        "tracing_request.residence_place",
        "request_photo.data",
    }
    for c in found:
        assert c.context == c.name, c
