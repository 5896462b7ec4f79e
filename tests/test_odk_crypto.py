"""ODK submission decryption (athar.security.odk) against submissions encrypted as the ODK
XForms specification describes (tests/odk_collect.py), and ODK keys in the key file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from athar.security.keys import KeyConfigError, KeyRing
from athar.security.odk import (
    OdkSubmissionInvalid,
    decrypt_submission,
    generate_private_key,
    public_key_b64,
)
from odk_collect import SPEC_SHA1_OAEP, encrypt, submission_xml

IID = "uuid:6f1b1c1e-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def key() -> bytes:
    return generate_private_key()


@pytest.fixture(scope="module")
def other_key() -> bytes:
    return generate_private_key()


def _xml(answers: str = "<full_name>سمير الحمصي</full_name>") -> bytes:
    return submission_xml("athar_tracing_request", "v1", IID, answers)


def test_a_submission_with_media_decrypts_and_verifies(key: bytes) -> None:
    photo = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 9
    audio = b"ID3" + b"\x00" * 40
    enc = encrypt(public_key_b64(key), "athar_tracing_request", "v1", IID, _xml(),
                  {"photo.jpg": photo, "voice.m4a": audio})  # fmt: skip
    assert set(enc.files) == {"photo.jpg.enc", "voice.m4a.enc", "submission.xml.enc"}
    assert all(b"\xd8\xff\xe0" not in data for data in enc.files.values())
    sub = decrypt_submission(enc.manifest, enc.files, {"k1": key})
    assert sub.xml == _xml()
    assert sub.media == {"photo.jpg": photo, "voice.m4a": audio}
    assert (sub.form_id, sub.version, sub.instance_id, sub.key_id) == (
        "athar_tracing_request", "v1", IID, "k1",
    )  # fmt: skip


def test_the_specifications_sha1_oaep_and_a_form_without_version_decrypt(key: bytes) -> None:
    enc = encrypt(public_key_b64(key), "athar_tracing_request", None, IID, _xml(),
                  oaep=SPEC_SHA1_OAEP)  # fmt: skip
    sub = decrypt_submission(enc.manifest, enc.files, {"k1": key})
    assert sub.xml == _xml() and sub.version is None


def test_the_right_key_of_several_opens_it(key: bytes, other_key: bytes) -> None:
    enc = encrypt(public_key_b64(key), "athar_tracing_request", "v1", IID, _xml())
    sub = decrypt_submission(enc.manifest, enc.files, {"old": other_key, "new": key})
    assert sub.key_id == "new"


def test_a_submission_encrypted_to_another_key_is_refused(key: bytes, other_key: bytes) -> None:
    enc = encrypt(public_key_b64(other_key), "athar_tracing_request", "v1", IID, _xml())
    with pytest.raises(OdkSubmissionInvalid, match="encrypted to a key Athar does not hold"):
        decrypt_submission(enc.manifest, enc.files, {"k1": key}, where="in/s1/submission.xml")
    with pytest.raises(OdkSubmissionInvalid, match="^in/s1/submission.xml: "):
        decrypt_submission(enc.manifest, enc.files, {"k1": key}, where="in/s1/submission.xml")


def test_an_altered_file_is_refused(key: bytes) -> None:
    xml = _xml("<circumstances>" + "و" * 200 + "</circumstances>")
    enc = encrypt(public_key_b64(key), "athar_tracing_request", "v1", IID, xml)
    data = bytearray(enc.files["submission.xml.enc"])
    data[40] ^= 0x01  # one bit in the middle: CFB decrypts, to different text
    files = {"submission.xml.enc": bytes(data)}
    with pytest.raises(OdkSubmissionInvalid, match="fails its signature check"):
        decrypt_submission(enc.manifest, files, {"k1": key})


def test_an_altered_manifest_is_refused(key: bytes) -> None:
    enc = encrypt(public_key_b64(key), "athar_tracing_request", "v1", IID, _xml())
    manifest = enc.manifest.replace(b'version="v1"', b'version="v2"')
    with pytest.raises(OdkSubmissionInvalid, match="fails its signature check"):
        decrypt_submission(manifest, enc.files, {"k1": key})


def test_media_swapped_between_submissions_is_refused(key: bytes) -> None:
    pk = public_key_b64(key)
    a = encrypt(pk, "athar_tracing_request", "v1", IID, _xml(), {"photo.jpg": b"A" * 100})
    b = encrypt(pk, "athar_tracing_request", "v1", IID, _xml(), {"photo.jpg": b"B" * 100})
    files = {**a.files, "photo.jpg.enc": b.files["photo.jpg.enc"]}
    with pytest.raises(OdkSubmissionInvalid):
        decrypt_submission(a.manifest, files, {"k1": key})


def test_a_truncated_file_is_refused(key: bytes) -> None:
    enc = encrypt(public_key_b64(key), "athar_tracing_request", "v1", IID, _xml())
    files = {"submission.xml.enc": enc.files["submission.xml.enc"][:-5]}
    with pytest.raises(OdkSubmissionInvalid, match=r"submission.xml.enc.*cannot be decrypted"):
        decrypt_submission(enc.manifest, files, {"k1": key})


def test_bad_manifests_are_refused_naming_the_problem(key: bytes) -> None:
    enc = encrypt(public_key_b64(key), "athar_tracing_request", "v1", IID, _xml())
    cases = {
        b"<data": "not readable XML",
        _xml(): "not encrypted",
        enc.manifest.replace(b"<base64EncryptedKey>", b"<base64EncryptedKeyX>").replace(
            b"</base64EncryptedKey>", b"</base64EncryptedKeyX>"
        ): "<base64EncryptedKey> is missing",
        enc.manifest.replace(b"submission.xml.enc<", b"../etc/passwd.enc<"): "is not an encrypted",
    }
    for manifest, message in cases.items():
        with pytest.raises(OdkSubmissionInvalid, match=message):
            decrypt_submission(manifest, enc.files, {"k1": key})
    unsigned = enc.manifest.split(b"<base64EncryptedElementSignature>")[0] + b"</data>"
    with pytest.raises(OdkSubmissionInvalid, match="<base64EncryptedElementSignature> is missing"):
        decrypt_submission(unsigned, enc.files, {"k1": key})
    with pytest.raises(OdkSubmissionInvalid, match="submission.xml.enc listed in the manifest"):
        decrypt_submission(enc.manifest, {}, {"k1": key})
    with pytest.raises(OdkSubmissionInvalid, match="holds no ODK key"):
        decrypt_submission(enc.manifest, enc.files, {})
    entity = b'<!DOCTYPE d [<!ENTITY a "aaaa">]><data encrypted="yes" id="x">&a;</data>'
    with pytest.raises(OdkSubmissionInvalid, match="not readable XML"):
        decrypt_submission(entity, enc.files, {"k1": key})


# -- keys -------------------------------------------------------------------------------------


def test_odk_keys_live_in_the_key_file_and_rotate_keeping_old_ones(tmp_path: Path) -> None:
    path = tmp_path / "athar.keys"
    KeyRing.generate("k1").write_file(path)
    ring = KeyRing.from_file(path)
    assert ring.odk == {} and ring.odk_active is None
    ring = ring.with_new_odk_key("o1")
    ring.write_file(path, overwrite=True)
    assert path.stat().st_mode & 0o077 == 0
    again = KeyRing.from_file(path)
    assert again.odk == ring.odk and again.odk_active == "o1"
    old_public = public_key_b64(again.odk["o1"])
    enc = encrypt(old_public, "athar_antemortem", "v1", IID, _xml())
    rotated = again.with_new_active("k2")  # what `athar keys rotate` writes
    assert rotated.odk_active == "k2" and set(rotated.odk) == {"o1", "k2"}
    assert public_key_b64(rotated.odk["k2"]) != old_public
    rotated.write_file(path, overwrite=True)
    sub = decrypt_submission(enc.manifest, enc.files, KeyRing.from_file(path).odk)
    assert sub.key_id == "o1"
    assert "BEGIN" not in repr(rotated) and "o1" not in repr(rotated)


def test_a_key_file_with_a_broken_odk_section_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "athar.keys"
    ring = KeyRing.generate("k1").with_new_odk_key("o1")
    doc = json.loads(ring.to_json())
    for broken, message in (
        ({**doc, "odk_active": "nope"}, "odk_active 'nope' is not in 'odk'"),
        ({**doc, "odk": {"o1": {"private_key": "%%%"}}}, "not valid base64"),
        ({**doc, "odk": {"o1": {}}}, "has no base64 'private_key'"),
        ({**doc, "odk": {"o1": {"private_key": "AAAA"}}}, "'o1' is not an RSA private key"),
        ({**doc, "odk": []}, "'odk' must be an object"),
    ):
        path.write_text(json.dumps(broken), encoding="utf-8")
        path.chmod(0o600)
        with pytest.raises(KeyConfigError, match=message):
            KeyRing.from_file(path)
