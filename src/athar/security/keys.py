"""The key ring: AES-256 keys with ids, one of them active.

Keys come from the process environment or from a key file on disk, never from the
database, so that a copy of the database (a dump, a stolen disk, a backup) reveals
nothing that was encrypted.  Sources, in order:

``ATHAR_KEYS``
    ``kid:base64key[,kid:base64key...]``; the first listed key is the active one
    unless ``ATHAR_ACTIVE_KEY`` names another.
``ATHAR_KEY_FILE``
    path of a JSON key file written by ``athar keys generate`` (mode 0600, owned by
    the user running Athar; anything looser is refused).
``ATHAR_EPHEMERAL_KEY=1``
    development and tests only: a random key that lives as long as the process.
    Refused when ``ATHAR_ENV=production``.

With none of these, :meth:`KeyRing.from_env` raises :class:`KeyConfigError`: Athar does
not start without a key.

A key file may also hold RSA private keys for ODK forms (``odk``, ``odk_active``; see
:mod:`athar.security.odk`): the form carries the active one's public key, so ODK Collect
encrypts each submission to it on the phone.  They are kept exactly as the AES keys are (in
the 0600 key file, never in the database), rotation adds a new one and keeps the old ones,
so submissions made with an older form still decrypt.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import stat
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from athar import config
from athar.errors import ConfigError

KEY_BYTES = 32  # AES-256
KEY_FILE_VERSION = 1
_KID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


class KeyConfigError(ConfigError):
    """The key configuration is missing, malformed or unsafe."""

    code = "key_config_invalid"


def _check_kid(kid: str) -> str:
    if not kid or len(kid) > 64 or not set(kid) <= _KID_CHARS:
        raise KeyConfigError(
            f"key id {kid!r} is not valid: use 1-64 characters from A-Z a-z 0-9 - _ ."
        )
    return kid


def _b64decode_key(kid: str, text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode("ascii") + b"==")
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise KeyConfigError(f"key {kid!r} is not valid base64: {exc}") from None
    if len(raw) != KEY_BYTES:
        raise KeyConfigError(f"key {kid!r} has {len(raw)} bytes; AES-256 needs {KEY_BYTES}")
    return raw


def _b64encode_key(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def is_rsa_private_key(der: bytes) -> bool:
    """Whether ``der`` is a PKCS#8 DER RSA private key (what an ODK key must be)."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    try:
        return isinstance(load_der_private_key(der, password=None), rsa.RSAPrivateKey)
    except (ValueError, TypeError):
        return False


def _read_odk(path: Path, doc: dict[str, object]) -> tuple[dict[str, bytes], str | None]:
    """The key file's ODK private keys (PKCS#8 DER, base64) and the active one's id."""
    raw = doc.get("odk", {})
    active = doc.get("odk_active")
    if not isinstance(raw, dict) or (raw and not isinstance(active, str)):
        raise KeyConfigError(f"key file {path}: 'odk' must be an object, with 'odk_active'")
    odk: dict[str, bytes] = {}
    for kid, entry in raw.items():
        b64 = entry.get("private_key") if isinstance(entry, dict) else None
        if not isinstance(b64, str):
            raise KeyConfigError(f"key file {path}: ODK key {kid!r} has no base64 'private_key'")
        try:
            der = base64.b64decode(b64.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise KeyConfigError(f"key file {path}: ODK key {kid!r} is not valid base64") from None
        if not is_rsa_private_key(der):
            raise KeyConfigError(f"key file {path}: ODK key {kid!r} is not an RSA private key")
        odk[_check_kid(kid)] = der
    if odk and active not in odk:
        raise KeyConfigError(f"key file {path}: odk_active {active!r} is not in 'odk'")
    return odk, active if odk and isinstance(active, str) else None


def new_key_id(now: datetime | None = None) -> str:
    """A fresh, sortable key id such as ``k20261122T210501-3f9a``."""
    now = now or datetime.now(UTC)
    return f"k{now:%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"


@dataclass(frozen=True, repr=False)
class KeyRing:
    """Named AES-256 keys; ``active`` encrypts, every key decrypts."""

    keys: Mapping[str, bytes]
    active: str
    source: str = field(default="memory", compare=False)
    #: the key file this ring was read from, if any (running processes re-read it on change)
    path: Path | None = field(default=None, compare=False)
    #: ODK RSA private keys (PKCS#8 DER) by key id; ``odk_active`` is the one forms carry
    odk: Mapping[str, bytes] = field(default_factory=dict)
    odk_active: str | None = None

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyConfigError("the key ring is empty")
        for kid, raw in self.keys.items():
            _check_kid(kid)
            if len(raw) != KEY_BYTES:
                raise KeyConfigError(f"key {kid!r} has {len(raw)} bytes; need {KEY_BYTES}")
        if self.active not in self.keys:
            raise KeyConfigError(f"the active key {self.active!r} is not in the key ring")
        for kid in self.odk:
            _check_kid(kid)
        if (self.odk_active is None) != (not self.odk) or (
            self.odk_active is not None and self.odk_active not in self.odk
        ):
            raise KeyConfigError(f"the active ODK key {self.odk_active!r} is not in the key ring")

    # -- construction -----------------------------------------------------------------

    @classmethod
    def generate(cls, kid: str | None = None) -> KeyRing:
        """A ring holding one new random key."""
        kid = _check_kid(kid or new_key_id())
        return cls({kid: secrets.token_bytes(KEY_BYTES)}, kid, source="generated")

    @classmethod
    def ephemeral(cls) -> KeyRing:
        """A throw-away key for development and tests (data encrypted with it dies with it)."""
        ring = cls.generate("ephemeral")
        return cls(ring.keys, ring.active, source="ephemeral")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KeyRing:
        """Load the ring from ``ATHAR_KEYS`` / ``ATHAR_KEY_FILE`` (see the module doc)."""
        env = os.environ if environ is None else environ
        keys: dict[str, bytes] = {}
        order: list[str] = []
        sources: list[str] = []
        file_active: str | None = None
        file_path: Path | None = None
        file_odk: Mapping[str, bytes] = {}
        file_odk_active: str | None = None
        spec = config.raw("keys", env).strip()
        if spec:
            for i, item in enumerate(p.strip() for p in spec.split(",")):
                if not item:
                    continue
                kid, sep, b64 = item.partition(":")
                if not sep:
                    raise KeyConfigError(
                        f"ATHAR_KEYS entry {i + 1} has no ':'; expected kid:base64key"
                    )
                kid = _check_kid(kid.strip())
                if kid in keys:
                    raise KeyConfigError(f"ATHAR_KEYS lists key {kid!r} twice")
                keys[kid] = _b64decode_key(kid, b64)
                order.append(kid)
            sources.append("ATHAR_KEYS")
        path = config.raw("key_file", env).strip()
        if path:
            file_ring = cls.from_file(Path(path))
            for kid, raw in file_ring.keys.items():
                if kid in keys and keys[kid] != raw:
                    raise KeyConfigError(f"key {kid!r} differs between ATHAR_KEYS and {path}")
                if kid not in keys:
                    keys[kid] = raw
                    order.append(kid)
            file_active = file_ring.active
            file_path = file_ring.path
            file_odk, file_odk_active = file_ring.odk, file_ring.odk_active
            sources.append(str(path))
        if not keys:
            if config.raw("ephemeral_key", env).strip() in {"1", "true", "yes"}:
                if env.get(config.env_name("environment"), "").strip().lower() in {
                    "prod",
                    "production",
                }:
                    raise KeyConfigError(
                        "ATHAR_EPHEMERAL_KEY is refused when ATHAR_ENV=production: "
                        "set ATHAR_KEY_FILE (see `athar keys generate`)"
                    )
                return cls.ephemeral()
            raise KeyConfigError(
                "no encryption key: set ATHAR_KEY_FILE to a key file made by "
                "`athar keys generate`, or ATHAR_KEYS=kid:base64key "
                "(development only: ATHAR_EPHEMERAL_KEY=1)"
            )
        active = config.raw("active_key", env).strip() or None
        if active is None:
            active = order[0] if spec else file_active
        assert active is not None
        if active not in keys:
            raise KeyConfigError(f"ATHAR_ACTIVE_KEY={active!r} is not a loaded key")
        return cls(
            keys,
            active,
            source=" + ".join(sources),
            path=file_path,
            odk=file_odk,
            odk_active=file_odk_active,
        )

    @classmethod
    def from_file(cls, path: Path) -> KeyRing:
        """Read a key file, refusing one that others could read or that another user owns."""
        try:
            st = path.stat()
        except FileNotFoundError:
            raise KeyConfigError(f"key file {path} does not exist") from None
        if not stat.S_ISREG(st.st_mode):
            raise KeyConfigError(f"key file {path} is not a regular file")
        if st.st_mode & 0o077:
            raise KeyConfigError(
                f"key file {path} has mode {stat.S_IMODE(st.st_mode):04o}; "
                f"it must not be readable by group or others (chmod 600 {path})"
            )
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            raise KeyConfigError(f"key file {path} is owned by uid {st.st_uid}, not by this user")
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise KeyConfigError(f"key file {path} is not readable JSON: {exc}") from None
        if not isinstance(doc, dict) or doc.get("version") != KEY_FILE_VERSION:
            raise KeyConfigError(f"key file {path}: expected version {KEY_FILE_VERSION}")
        raw_keys = doc.get("keys")
        active = doc.get("active")
        if not isinstance(raw_keys, dict) or not isinstance(active, str):
            raise KeyConfigError(f"key file {path}: needs 'keys' (object) and 'active' (string)")
        keys: dict[str, bytes] = {}
        for kid, entry in raw_keys.items():
            b64 = entry.get("key") if isinstance(entry, dict) else entry
            if not isinstance(b64, str):
                raise KeyConfigError(f"key file {path}: key {kid!r} has no base64 'key'")
            keys[_check_kid(kid)] = _b64decode_key(kid, b64)
        if active not in keys:
            raise KeyConfigError(f"key file {path}: active key {active!r} is not in 'keys'")
        odk, odk_active = _read_odk(path, doc)
        return cls(keys, active, source=str(path), path=path, odk=odk, odk_active=odk_active)

    # -- use ----------------------------------------------------------------------------

    def key(self, kid: str) -> bytes:
        try:
            return self.keys[kid]
        except KeyError:
            raise KeyConfigError(f"key {kid!r} is not in the key ring ({self.source})") from None

    @property
    def active_key(self) -> bytes:
        return self.keys[self.active]

    def with_new_active(self, kid: str | None = None) -> KeyRing:
        """A copy of this ring with a fresh random key added and made active."""
        kid = _check_kid(kid or new_key_id())
        if kid in self.keys:
            raise KeyConfigError(f"key {kid!r} already exists")
        keys = {**self.keys, kid: secrets.token_bytes(KEY_BYTES)}
        ring = replace(self, keys=keys, active=kid)
        # the ODK key rotates with the others; old ones stay, so older submissions decrypt
        return ring.with_new_odk_key(kid) if self.odk else ring

    def with_new_odk_key(self, kid: str | None = None) -> KeyRing:
        """A copy of this ring with a fresh ODK RSA key pair added and made active."""
        from athar.security.odk import generate_private_key

        kid = _check_kid(kid or new_key_id())
        if kid in self.odk:
            raise KeyConfigError(f"ODK key {kid!r} already exists")
        return replace(self, odk={**self.odk, kid: generate_private_key()}, odk_active=kid)

    def without(self, kids: Iterable[str]) -> KeyRing:
        drop = set(kids)
        if self.active in drop:
            raise KeyConfigError(f"cannot retire the active key {self.active!r}")
        kept = {k: v for k, v in self.keys.items() if k not in drop}
        return replace(self, keys=kept)

    def to_json(self) -> str:
        doc: dict[str, object] = {
            "version": KEY_FILE_VERSION,
            "active": self.active,
            "keys": {kid: {"key": _b64encode_key(raw)} for kid, raw in self.keys.items()},
        }
        if self.odk:
            doc["odk_active"] = self.odk_active
            doc["odk"] = {
                kid: {"private_key": base64.b64encode(der).decode("ascii")}
                for kid, der in self.odk.items()
            }
        return json.dumps(doc, indent=2) + "\n"

    def to_env(self) -> str:
        """The ``ATHAR_KEYS`` value for this ring, active key first."""
        order = [self.active, *(k for k in self.keys if k != self.active)]
        return ",".join(f"{kid}:{_b64encode_key(self.keys[kid])}" for kid in order)

    def write_file(self, path: Path, *, overwrite: bool = False) -> None:
        """Write the ring atomically as a 0600 key file (never through a looser mode)."""
        path = Path(path)
        if path.exists() and not overwrite:
            raise KeyConfigError(f"key file {path} already exists; refusing to overwrite it")
        directory = path.parent if str(path.parent) else Path(".")
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.to_json())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def __repr__(self) -> str:  # never print key material
        return (
            f"KeyRing(active={self.active!r}, keys={sorted(self.keys)!r}, source={self.source!r})"
        )
