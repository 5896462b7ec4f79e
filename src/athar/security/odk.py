"""ODK encrypted submissions: Athar's RSA key for forms, and decrypting what Collect sent.

ODK Collect encrypts each submission on the phone to the public key the form carries (the
``base64RsaPublicKey`` attribute of the form's ``submission`` element), as the ODK XForms
specification's *Encryption* section defines:

* a random 256-bit AES key per submission, encrypted with RSA/OAEP to the form's key, is the
  manifest's ``base64EncryptedKey`` (the manifest is the plain ``submission.xml``; it lists the
  media files, ``<media><file>NAME.enc</file></media>``, and ``encryptedXmlFile``);
* every file is encrypted with AES/CFB (128-bit segments, PKCS#5 padding); the IV seed is the
  MD5 of the instance id (UTF-8) followed by the AES key, and before each file (the media in the
  manifest's order, then the submission's XML) byte ``counter % 16`` of the seed is incremented
  and the counter advanced;
* ``base64EncryptedElementSignature`` is the MD5 of the lines form id, version (when there is
  one), ``base64EncryptedKey``, instance id, then ``NAME::md5hex`` of each decrypted file in that
  order (the name without ``.enc``), each line ending with a newline, encrypted with RSA/OAEP.

The specification names Java 8's ``RSA/NONE/OAEPWithSHA256AndMGF1Padding`` for the key and the
signature: OAEP with SHA-256 and, Java's default, MGF1 over SHA-1 (what Collect and Enketo
produce); :func:`decrypt_submission` also accepts OAEP with SHA-1 throughout and with SHA-256
throughout, and refuses a submission whose signature does not match its decrypted files
(tampered, truncated, or files swapped between submissions).  The specification makes the
signature optional; Athar requires it (Collect always sends one), so that nothing altered on
the way is ever imported.

Pure apart from the parsing and the cryptography: no files, no network, no database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

try:  # CFB moved to the "decrepit" (legacy) modules in recent cryptography releases
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
except ImportError:  # pragma: no cover - older cryptography
    from cryptography.hazmat.primitives.ciphers.modes import CFB
from defusedxml import ElementTree as SafeET

from athar.errors import InvalidInput

RSA_BITS = 2048
AES_KEY_BYTES = 32
OPENROSA_NS = "http://openrosa.org/xforms"
#: the OAEP variants tried, Collect's first
OAEP_VARIANTS: tuple[tuple[type[hashes.HashAlgorithm], type[hashes.HashAlgorithm]], ...] = (
    (hashes.SHA256, hashes.SHA1),
    (hashes.SHA256, hashes.SHA256),
    (hashes.SHA1, hashes.SHA1),
)


class OdkSubmissionInvalid(InvalidInput):
    """An ODK submission cannot be read, decrypted or trusted; nothing of it was stored."""

    code = "odk_submission_invalid"

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where


def generate_private_key() -> bytes:
    """A new RSA private key for ODK forms, PKCS#8 DER."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _private(der: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("an ODK key must be an RSA key")
    return key


def public_key_b64(private_der: bytes) -> str:
    """The form's ``base64RsaPublicKey``: the public key's SubjectPublicKeyInfo DER, base64."""
    public = _private(private_der).public_key()
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


def _oaep(algorithm: type[hashes.HashAlgorithm], mgf: type[hashes.HashAlgorithm]) -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(algorithm=mgf()), algorithm=algorithm(), label=None)


def _rsa_decrypt(key: rsa.RSAPrivateKey, data: bytes) -> tuple[bytes, padding.OAEP] | None:
    for algorithm, mgf in OAEP_VARIANTS:
        pad = _oaep(algorithm, mgf)
        try:
            return key.decrypt(data, pad), pad
        except ValueError:
            continue
    return None


def iv_seed(instance_id: str, aes_key: bytes) -> bytes:
    """The 16-byte IV seed: MD5 of the instance id (UTF-8) followed by the AES key."""
    return hashlib.md5(instance_id.encode("utf-8") + aes_key, usedforsecurity=False).digest()


def file_ivs(instance_id: str, aes_key: bytes, count: int) -> list[bytes]:
    """The IVs of a submission's ``count`` files, in order (media first, the XML last)."""
    seed = bytearray(iv_seed(instance_id, aes_key))
    out = []
    for counter in range(count):
        seed[counter % 16] = (seed[counter % 16] + 1) % 256
        out.append(bytes(seed))
    return out


def aes_cfb_decrypt(aes_key: bytes, iv: bytes, data: bytes) -> bytes | None:
    """AES/CFB/PKCS5Padding decryption; ``None`` when the padding is wrong."""
    decryptor = Cipher(algorithms.AES(aes_key), CFB(iv)).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    if not plain or len(plain) % 16:
        return None
    pad = plain[-1]
    if not 1 <= pad <= 16 or plain[-pad:] != bytes([pad]) * pad:
        return None
    return plain[:-pad]


def aes_cfb_encrypt(aes_key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES/CFB/PKCS5Padding encryption (what Collect does to each file)."""
    pad = 16 - len(data) % 16
    encryptor = Cipher(algorithms.AES(aes_key), CFB(iv)).encryptor()
    return encryptor.update(data + bytes([pad]) * pad) + encryptor.finalize()


def signature_text(
    form_id: str,
    version: str | None,
    encrypted_key_b64: str,
    instance_id: str,
    files: Iterable[tuple[str, bytes]],
) -> bytes:
    """The lines whose MD5 the submission signs (``files``: decrypted name and content)."""
    lines = [form_id, *([version] if version else []), encrypted_key_b64, instance_id]
    lines += [
        f"{name}::{hashlib.md5(data, usedforsecurity=False).hexdigest()}" for name, data in files
    ]
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


@dataclass(frozen=True)
class Manifest:
    """What the plain ``submission.xml`` of an encrypted submission says."""

    form_id: str
    version: str | None
    instance_id: str
    encrypted_key_b64: str
    signature_b64: str
    xml_file: str
    media: tuple[str, ...] = ()


@dataclass(frozen=True)
class Submission:
    """A decrypted submission: its XML and its media files, by name (without ``.enc``)."""

    form_id: str
    version: str | None
    instance_id: str
    xml: bytes
    media: dict[str, bytes] = field(default_factory=dict)
    #: the ODK key id (in the key file) that opened it
    key_id: str = ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(root: Element, name: str) -> str | None:
    for el in root.iter():
        if _local(el.tag) == name and el.text and el.text.strip():
            return el.text.strip()
    return None


def parse_manifest(data: bytes, where: str = "submission.xml") -> Manifest:
    """Read an encrypted submission's manifest, naming the first missing element."""
    try:
        root = SafeET.fromstring(data)
    except Exception as exc:  # defusedxml raises ParseError and its own refusals
        raise OdkSubmissionInvalid(where, f"not readable XML ({exc})") from None
    if root.get("encrypted") != "yes":
        raise OdkSubmissionInvalid(
            where,
            "the submission is not encrypted: Athar only imports submissions encrypted to "
            "its key (use the form from `athar odk form`)",
        )
    form_id = root.get("id")
    if not form_id:
        raise OdkSubmissionInvalid(where, "the root element has no form id ('id')")
    needed = {
        "base64EncryptedKey": _child_text(root, "base64EncryptedKey"),
        "instanceID": _child_text(root, "instanceID"),
        "encryptedXmlFile": _child_text(root, "encryptedXmlFile"),
        "base64EncryptedElementSignature": _child_text(root, "base64EncryptedElementSignature"),
    }
    for name, value in needed.items():
        if value is None:
            raise OdkSubmissionInvalid(where, f"element <{name}> is missing or empty")
    media = tuple(
        el.text.strip()
        for el in root.iter()
        if _local(el.tag) == "file" and el.text and el.text.strip()
    )
    for name in (*media, needed["encryptedXmlFile"] or ""):
        if not name.endswith(".enc") or "/" in name or "\\" in name or name.startswith("."):
            raise OdkSubmissionInvalid(where, f"file name {name!r} is not an encrypted file name")
    return Manifest(
        form_id=form_id,
        version=root.get("version") or None,
        instance_id=needed["instanceID"] or "",
        encrypted_key_b64=needed["base64EncryptedKey"] or "",
        signature_b64=needed["base64EncryptedElementSignature"] or "",
        xml_file=needed["encryptedXmlFile"] or "",
        media=media,
    )


def _b64(where: str, element: str, text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise OdkSubmissionInvalid(where, f"element <{element}> is not valid base64") from None


def decrypt_submission(
    manifest_xml: bytes,
    files: Mapping[str, bytes],
    private_keys: Mapping[str, bytes],
    *,
    where: str = "submission.xml",
) -> Submission:
    """Decrypt one submission with whichever of ``private_keys`` (id -> PKCS#8 DER) it was
    encrypted to, check its signature, and return its XML and media.

    ``files`` maps each encrypted file's name (``submission.xml.enc``, ``photo.jpg.enc``) to its
    bytes.  Raises :class:`OdkSubmissionInvalid` naming ``where`` and the element or file.
    """
    manifest = parse_manifest(manifest_xml, where)
    if not private_keys:
        raise OdkSubmissionInvalid(
            where, "the key ring holds no ODK key: run `athar keys odk` and use its form"
        )
    wrapped = _b64(where, "base64EncryptedKey", manifest.encrypted_key_b64)
    signature = _b64(where, "base64EncryptedElementSignature", manifest.signature_b64)
    opened: tuple[str, rsa.RSAPrivateKey, bytes] | None = None
    for kid, der in private_keys.items():
        key = _private(der)
        got = _rsa_decrypt(key, wrapped)
        if got is not None and len(got[0]) == AES_KEY_BYTES:
            opened = (kid, key, got[0])
            break
    if opened is None:
        raise OdkSubmissionInvalid(
            where,
            f"submission {manifest.instance_id} was encrypted to a key Athar does not hold "
            "(a form with another public key, or a damaged <base64EncryptedKey>)",
        )
    kid, key, aes_key = opened
    names = [*manifest.media, manifest.xml_file]
    plain: list[tuple[str, bytes]] = []
    for name, iv in zip(names, file_ivs(manifest.instance_id, aes_key, len(names)), strict=True):
        if name not in files:
            raise OdkSubmissionInvalid(where, f"file {name} listed in the manifest is missing")
        data = aes_cfb_decrypt(aes_key, iv, files[name])
        if data is None:
            raise OdkSubmissionInvalid(
                f"{where}: {name}", "cannot be decrypted (damaged or altered)"
            )
        plain.append((name[: -len(".enc")], data))
    expected = hashlib.md5(
        signature_text(
            manifest.form_id,
            manifest.version,
            manifest.encrypted_key_b64,
            manifest.instance_id,
            plain,
        ),
        usedforsecurity=False,
    ).digest()
    signed = _rsa_decrypt(key, signature)
    if signed is None or not hmac.compare_digest(signed[0], expected):
        raise OdkSubmissionInvalid(
            where,
            f"submission {manifest.instance_id} fails its signature check "
            "(<base64EncryptedElementSignature>): its files or manifest were altered; "
            "it was not imported",
        )
    return Submission(
        form_id=manifest.form_id,
        version=manifest.version,
        instance_id=manifest.instance_id,
        xml=plain[-1][1],
        media=dict(plain[:-1]),
        key_id=kid,
    )


__all__ = [
    "Manifest",
    "OdkSubmissionInvalid",
    "Submission",
    "aes_cfb_decrypt",
    "aes_cfb_encrypt",
    "decrypt_submission",
    "file_ivs",
    "generate_private_key",
    "iv_seed",
    "parse_manifest",
    "public_key_b64",
    "signature_text",
]
