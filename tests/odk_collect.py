"""What ODK Collect does to a submission, written from the ODK XForms specification's
"Encrypted forms" section, independently of :mod:`athar.security.odk` (the tests would prove
nothing if both sides shared the code).

* a random 256-bit AES key, RSA/OAEP-encrypted to the form's public key
  (``base64EncryptedKey``); Collect's OAEP is SHA-256 with MGF1 over SHA-1;
* IV seed = MD5(instanceID UTF-8 bytes + AES key); before each file, seed[i % 16] += 1, i += 1;
  media files first (in manifest order), then ``submission.xml``;
* each file AES/CFB (128-bit segments) with PKCS#5 padding, named ``<name>.enc``;
* signature = RSA/OAEP(MD5("form_id\\n[version\\n]base64EncryptedKey\\ninstanceID\\n"
  + "name::md5hex\\n" per media file + "submission.xml::md5hex\\n")).
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

try:  # CFB moved to the "decrepit" (legacy) modules in recent cryptography releases
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
except ImportError:  # pragma: no cover - older cryptography
    from cryptography.hazmat.primitives.ciphers.modes import CFB  # type: ignore[assignment]

COLLECT_OAEP = (hashes.SHA256, hashes.SHA1)
SPEC_SHA1_OAEP = (hashes.SHA1, hashes.SHA1)


@dataclass
class Encrypted:
    manifest: bytes
    files: dict[str, bytes]
    aes_key: bytes


def _oaep(variant: tuple[type[hashes.HashAlgorithm], type[hashes.HashAlgorithm]]) -> padding.OAEP:
    algorithm, mgf = variant
    return padding.OAEP(mgf=padding.MGF1(mgf()), algorithm=algorithm(), label=None)


def _cfb_pkcs5(key: bytes, iv: bytes, data: bytes) -> bytes:
    n = 16 - len(data) % 16
    enc = Cipher(algorithms.AES(key), CFB(iv)).encryptor()
    return enc.update(data + bytes([n]) * n) + enc.finalize()


def submission_xml(form_id: str, version: str, instance_id: str, answers: str) -> bytes:
    """The plain submission as Collect writes it (``answers``: the inner XML)."""
    return (
        f'<?xml version="1.0"?><data xmlns:orx="http://openrosa.org/xforms" '
        f'xmlns:jr="http://openrosa.org/javarosa" id={quoteattr(form_id)} '
        f"version={quoteattr(version)}>{answers}<meta><instanceID>{escape(instance_id)}"
        f"</instanceID></meta></data>"
    ).encode()


def encrypt(
    public_key_b64: str,
    form_id: str,
    version: str | None,
    instance_id: str,
    xml: bytes,
    media: dict[str, bytes] | None = None,
    *,
    oaep: tuple[type[hashes.HashAlgorithm], type[hashes.HashAlgorithm]] = COLLECT_OAEP,
) -> Encrypted:
    """Encrypt a submission exactly as the specification describes."""
    public = serialization.load_der_public_key(base64.b64decode(public_key_b64))
    assert isinstance(public, rsa.RSAPublicKey)
    key = os.urandom(32)
    wrapped = base64.b64encode(public.encrypt(key, _oaep(oaep))).decode("ascii")
    seed = bytearray(hashlib.md5(instance_id.encode("utf-8") + key).digest())
    counter = 0
    files: dict[str, bytes] = {}
    lines = [form_id, *([version] if version else []), wrapped, instance_id]
    for name, data in [*(media or {}).items(), ("submission.xml", xml)]:
        seed[counter % 16] = (seed[counter % 16] + 1) % 256
        counter += 1
        files[f"{name}.enc"] = _cfb_pkcs5(key, bytes(seed), data)
        lines.append(f"{name}::{hashlib.md5(data).hexdigest()}")
    digest = hashlib.md5("".join(line + "\n" for line in lines).encode("utf-8")).digest()
    signature = base64.b64encode(public.encrypt(digest, _oaep(oaep))).decode("ascii")
    media_xml = "".join(f"<media><file>{escape(n)}.enc</file></media>" for n in media or {})
    version_attr = f" version={quoteattr(version)}" if version else ""
    manifest = (
        f'<?xml version="1.0"?><data xmlns="http://opendatakit.org/submissions" '
        f'encrypted="yes" id={quoteattr(form_id)}{version_attr}>'
        f"<base64EncryptedKey>{wrapped}</base64EncryptedKey>"
        f'<meta xmlns="http://openrosa.org/xforms"><instanceID>{escape(instance_id)}'
        f"</instanceID></meta>{media_xml}"
        f"<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>"
        f"<base64EncryptedElementSignature>{signature}</base64EncryptedElementSignature></data>"
    ).encode()
    return Encrypted(manifest, files, key)
