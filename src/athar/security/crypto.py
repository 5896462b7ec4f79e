"""Field encryption: AES-256-GCM, a key id in every ciphertext, bound to its column.

Public API (documented in ``docs/security.md``)::

    ring = KeyRing.from_env()                # ATHAR_KEY_FILE / ATHAR_KEYS, never the database
    configure(ring)                          # once at start-up (else loaded lazily from env)
    token = encrypt("+963 944 000 111", "tracing_request.contact_phone")
    decrypt(token, "tracing_request.contact_phone")        # -> "+963 944 000 111"
    decrypt(token, "tracing_request.notes")                # -> DecryptionError

    class TracingRequest(Base):
        contact_phone: Mapped[str | None] = mapped_column(
            EncryptedText(context="tracing_request.contact_phone"))
        photo: Mapped[bytes | None] = mapped_column(EncryptedBytes(context="tracing_request.photo"))

    encrypted_columns(Base.metadata)         # the registry: every encrypted column

Text tokens look like ``athar1:<kid>:<base64url(nonce || ciphertext || tag)>``; binary
tokens are ``b"A1" || len(kid) || kid || nonce || ciphertext || tag``.  The associated
data is ``"athar/v1" NUL context NUL kid``, so a ciphertext copied to another column (or
relabelled with another key id) fails authentication instead of decrypting.  Text
plaintexts are padded to a multiple of 16 bytes, so the ciphertext length tells only
roughly how long a value is.

What this does not do: a ciphertext copied to *another row of the same column* still
decrypts (the type decorator does not know the row); the audit log is what catches that.
Encrypted columns cannot be searched or compared in SQL, and the comparator refuses to try.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import LargeBinary, MetaData, Table, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

from athar.errors import Failed
from athar.security.keys import KeyConfigError, KeyRing

__all__ = [
    "DecryptionError",
    "EncryptedBytes",
    "EncryptedColumn",
    "EncryptedText",
    "KeyConfigError",
    "KeyRing",
    "configure",
    "current_keyring",
    "decrypt",
    "decrypt_bytes",
    "encrypt",
    "encrypt_bytes",
    "encrypted_columns",
    "reencrypt_token",
    "token_key_id",
]

TEXT_PREFIX = "athar1:"
BIN_MAGIC = b"A1"
NONCE_BYTES = 12
TAG_BYTES = 16
_PAD_BLOCK = 16

log = logging.getLogger(__name__)


class DecryptionError(Failed):
    """A token could not be decrypted: wrong key, wrong column, malformed or tampered."""

    code = "decryption_failed"


# -- the process-wide key ring ---------------------------------------------------------

_lock = threading.Lock()
_ring: KeyRing | None = None
_stamp: tuple[int, int] | None = None  # (mtime_ns, size) of the key file when read
_checked = 0.0
#: how often (seconds) a running process looks at its key file for a rotation
RELOAD_INTERVAL = 2.0


def _file_stamp(ring: KeyRing) -> tuple[int, int] | None:
    if ring.path is None:
        return None
    try:
        st = ring.path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def configure(ring: KeyRing | None) -> None:
    """Set the key ring used by :func:`encrypt`, :func:`decrypt` and the column types.

    ``None`` forgets it, so the next use loads it again from the environment.  A ring read
    from a key file is re-read when that file changes (``athar keys rotate`` rewrites it),
    so running processes learn a new key without a restart.
    """
    global _ring, _stamp, _checked
    with _lock:
        _ring = ring
        _stamp = _file_stamp(ring) if ring is not None else None
        _checked = time.monotonic()


def _reload_locked(force: bool) -> None:
    global _ring, _stamp, _checked
    if _ring is None or _ring.path is None:
        return
    now = time.monotonic()
    if not force and now - _checked < RELOAD_INTERVAL:
        return
    _checked = now
    stamp = _file_stamp(_ring)
    if stamp is None or stamp == _stamp:
        return
    try:
        try:
            fresh: KeyRing | None = KeyRing.from_env()  # start-up's sources (file + ATHAR_KEYS)
        except KeyConfigError:
            fresh = None
        if fresh is None or fresh.path != _ring.path:  # the ring was given a key file directly
            fresh = KeyRing.from_file(_ring.path)
    except KeyConfigError as exc:  # keep working with the keys we have
        log.warning("key file %s changed but could not be re-read: %s", _ring.path, exc)
        return
    _ring, _stamp = fresh, stamp
    log.info("key ring re-read from %s; active key %s", fresh.path, fresh.active)


def current_keyring() -> KeyRing:
    """The configured key ring, loaded from the environment on first use."""
    global _ring, _stamp
    with _lock:
        if _ring is None:
            _ring = KeyRing.from_env()
            _stamp = _file_stamp(_ring)
        else:
            _reload_locked(force=False)
        return _ring


def _ring_with(kid: str) -> KeyRing:
    """The process ring, re-read from its key file at once if it lacks ``kid``."""
    ring = current_keyring()
    if kid not in ring.keys:
        with _lock:
            _reload_locked(force=True)
            ring = _ring or ring
    return ring


# -- primitives ------------------------------------------------------------------------


def _aad(context: str, kid: str) -> bytes:
    if not context:
        raise ValueError("an encryption context (e.g. 'table.column') is required")
    return b"athar/v1\x00" + context.encode("utf-8") + b"\x00" + kid.encode("ascii")


def _seal(plain: bytes, context: str, ring: KeyRing) -> tuple[str, bytes]:
    kid = ring.active
    nonce = os.urandom(NONCE_BYTES)
    return kid, nonce + AESGCM(ring.active_key).encrypt(nonce, plain, _aad(context, kid))


def _open(kid: str, body: bytes, context: str, ring: KeyRing) -> bytes:
    if len(body) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError(f"{context}: ciphertext is truncated")
    try:
        key = ring.key(kid)
    except KeyConfigError as exc:
        raise DecryptionError(f"{context}: {exc}") from None
    try:
        return AESGCM(key).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], _aad(context, kid))
    except InvalidTag:
        raise DecryptionError(
            f"{context}: authentication failed (wrong key, a value moved from another "
            f"column, or tampering)"
        ) from None


def _pad(data: bytes) -> bytes:
    data += b"\x80"
    return data + b"\x00" * (-len(data) % _PAD_BLOCK)


def _unpad(data: bytes, context: str) -> bytes:
    stripped = data.rstrip(b"\x00")
    if not stripped.endswith(b"\x80"):
        raise DecryptionError(f"{context}: bad padding")
    return stripped[:-1]


def encrypt_bytes(plain: bytes, context: str, ring: KeyRing | None = None) -> bytes:
    """Encrypt ``plain`` for the column named by ``context``; returns a binary token."""
    ring = ring or current_keyring()
    kid, body = _seal(bytes(plain), context, ring)
    kid_b = kid.encode("ascii")
    return BIN_MAGIC + bytes([len(kid_b)]) + kid_b + body


def _split_bytes(token: bytes, context: str) -> tuple[str, bytes]:
    token = bytes(token)
    if len(token) < 3 or token[:2] != BIN_MAGIC:
        raise DecryptionError(f"{context}: not an Athar binary ciphertext")
    n = token[2]
    kid_b = token[3 : 3 + n]
    if len(kid_b) != n:
        raise DecryptionError(f"{context}: ciphertext is truncated")
    try:
        kid = kid_b.decode("ascii")
    except UnicodeDecodeError:
        raise DecryptionError(f"{context}: malformed key id") from None
    return kid, token[3 + n :]


def decrypt_bytes(token: bytes, context: str, ring: KeyRing | None = None) -> bytes:
    """Decrypt a binary token made by :func:`encrypt_bytes` for the same ``context``."""
    kid, body = _split_bytes(token, context)
    return _open(kid, body, context, ring or _ring_with(kid))


def encrypt(value: str, context: str, ring: KeyRing | None = None) -> str:
    """Encrypt a string for the column named by ``context``; returns a text token."""
    ring = ring or current_keyring()
    kid, body = _seal(_pad(value.encode("utf-8")), context, ring)
    return f"{TEXT_PREFIX}{kid}:{base64.urlsafe_b64encode(body).decode('ascii').rstrip('=')}"


def _split_text(token: str, context: str) -> tuple[str, bytes]:
    if not isinstance(token, str) or not token.startswith(TEXT_PREFIX):
        raise DecryptionError(f"{context}: not an Athar text ciphertext")
    kid, sep, b64 = token[len(TEXT_PREFIX) :].partition(":")
    if not sep or not kid:
        raise DecryptionError(f"{context}: malformed ciphertext")
    try:
        body = base64.urlsafe_b64decode(b64.encode("ascii") + b"=" * (-len(b64) % 4))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise DecryptionError(f"{context}: malformed base64 in ciphertext") from None
    return kid, body


def decrypt(token: str, context: str, ring: KeyRing | None = None) -> str:
    """Decrypt a text token made by :func:`encrypt` for the same ``context``."""
    kid, body = _split_text(token, context)
    plain = _unpad(_open(kid, body, context, ring or _ring_with(kid)), context)
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptionError(f"{context}: plaintext is not UTF-8") from None


def token_key_id(token: str | bytes) -> str:
    """The id of the key that sealed ``token`` (no key needed)."""
    if isinstance(token, str):
        return _split_text(token, "token")[0]
    return _split_bytes(token, "token")[0]


def reencrypt_token(token: str | bytes, context: str, ring: KeyRing) -> str | bytes:
    """Decrypt with whatever key sealed ``token`` and seal again with ``ring.active``."""
    if isinstance(token, str):
        return encrypt(decrypt(token, context, ring), context, ring)
    return encrypt_bytes(decrypt_bytes(token, context, ring), context, ring)


# -- SQLAlchemy column types -----------------------------------------------------------

_ALLOWED_OPS = {operators.is_, operators.is_not, operators.isnot_distinct_from}


class _NoCompare(TypeDecorator.Comparator[Any]):
    """Refuse SQL comparisons: a fresh nonce makes ``col == value`` silently never match."""

    def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
        if op in _ALLOWED_OPS or (
            op in (operators.eq, operators.ne) and all(o is None for o in other)
        ):
            return super().operate(op, *other, **kwargs)
        context = getattr(self.type, "context", "?")
        raise TypeError(f"encrypted column ({context}) cannot be compared or searched in SQL")

    def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
        raise TypeError("encrypted columns cannot be compared or searched in SQL")


class EncryptedText(TypeDecorator[str]):
    """A ``str`` column stored as an AES-GCM text token bound to ``context``."""

    impl = Text
    cache_ok = True
    comparator_factory = _NoCompare

    def __init__(self, context: str) -> None:
        super().__init__()
        if not context:
            raise ValueError("EncryptedText needs context='table.column'")
        self.context = context

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError(f"{self.context}: expected str, got {type(value).__name__}")
        return encrypt(value, self.context)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else decrypt(value, self.context)

    def __repr__(self) -> str:
        return f"EncryptedText(context={self.context!r})"


class EncryptedBytes(TypeDecorator[bytes]):
    """A ``bytes`` column (e.g. a photo) stored as an AES-GCM binary token."""

    impl = LargeBinary
    cache_ok = True
    comparator_factory = _NoCompare

    def __init__(self, context: str) -> None:
        super().__init__()
        if not context:
            raise ValueError("EncryptedBytes needs context='table.column'")
        self.context = context

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"{self.context}: expected bytes, got {type(value).__name__}")
        return encrypt_bytes(bytes(value), self.context)

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        return None if value is None else decrypt_bytes(bytes(value), self.context)

    def __repr__(self) -> str:
        return f"EncryptedBytes(context={self.context!r})"


# -- the registry ----------------------------------------------------------------------


@dataclass(frozen=True)
class EncryptedColumn:
    """One encrypted column found in a :class:`~sqlalchemy.MetaData`."""

    table: Table
    column: str
    context: str
    binary: bool

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column}"


def encrypted_columns(metadata: MetaData) -> list[EncryptedColumn]:
    """Every column of ``metadata`` whose type is :class:`EncryptedText` or :class:`EncryptedBytes`.

    Raises ``ValueError`` if two columns share a context (a value could then be moved
    between them undetected) or if a table has no primary key (rotation needs one).
    """
    found: list[EncryptedColumn] = []
    seen: dict[str, str] = {}
    for table in metadata.sorted_tables:
        for col in table.columns:
            if isinstance(col.type, EncryptedText | EncryptedBytes):
                ctx = col.type.context
                name = f"{table.name}.{col.name}"
                if ctx in seen:
                    raise ValueError(f"{name} and {seen[ctx]} share the encryption context {ctx!r}")
                if not table.primary_key.columns:
                    raise ValueError(f"{name} is encrypted but {table.name} has no primary key")
                seen[ctx] = name
                found.append(
                    EncryptedColumn(table, col.name, ctx, isinstance(col.type, EncryptedBytes))
                )
    return found
