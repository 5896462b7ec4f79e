"""Does the key ring open what the store holds?  (issue 18, finding 8)

With a wrong key file the app used to start: case work then answered 500 on every contact
detail while the public form sealed new ones under the wrong key, and ``backup`` and
``export`` succeeded without a word.  :func:`check_keys` reads the key id of every value in
every encrypted column (no key needed for that) and refuses, naming them, the key ids the
ring lacks; for each key id the ring has, it opens one value sealed with it, so a ring whose
key has the right id but the wrong bytes is refused too.  The app factory calls it at start,
``backup`` and the exports before they write anything.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, LargeBinary, MetaData, Text, select, type_coerce

from athar import config
from athar.security import crypto
from athar.security.crypto import DecryptionError, EncryptedColumn, KeyRing, encrypted_columns
from athar.security.keys import KeyConfigError


class KeysDoNotMatch(KeyConfigError):
    """The key ring cannot open values the store holds (missing key ids, or wrong keys)."""

    code = "keys_do_not_match"


@dataclass
class KeyUse:
    """Where one key id seals values: the columns, and one value to try it on."""

    columns: set[str] = field(default_factory=set)
    sample: tuple[EncryptedColumn, str | bytes] | None = None


def store_metadata() -> MetaData:
    """Every table of the store (each model module under :mod:`athar.store` imported)."""
    import athar.store
    from athar.store.models import Base

    for info in pkgutil.iter_modules(athar.store.__path__):
        if info.name not in {"migrations", "engine", "migrate", "keycheck"} and not info.ispkg:
            importlib.import_module(f"athar.store.{info.name}")
    return Base.metadata


def keys_in_store(engine: Engine, metadata: MetaData | None = None) -> dict[str, KeyUse]:
    """Key id -> where it seals values, over every encrypted column of the store."""
    found: dict[str, KeyUse] = {}
    with engine.connect() as conn:
        for ec in encrypted_columns(metadata or store_metadata()):
            raw = type_coerce(ec.table.c[ec.column], LargeBinary() if ec.binary else Text())
            result = conn.execution_options(yield_per=2000).execute(
                select(raw).where(raw.is_not(None))
            )
            for row in result:
                value: Any = row[0]
                token: str | bytes = bytes(value) if ec.binary else str(value)
                try:
                    kid = crypto.token_key_id(token)
                except DecryptionError:
                    kid = "<unreadable>"
                use = found.setdefault(kid, KeyUse())
                use.columns.add(ec.name)
                if use.sample is None:
                    use.sample = (ec, token)
    return found


def configured_ring() -> KeyRing | None:
    """The process's key ring, or ``None`` when no key is configured at all (a malformed
    key setting still raises)."""
    if not any(config.is_set(n) for n in ("key_file", "keys", "ephemeral_key")):
        try:
            return crypto.current_keyring()
        except KeyConfigError:
            return None
    return crypto.current_keyring()


def check_keys(engine: Engine, ring: KeyRing, *, doing: str = "continue") -> None:
    """Refuse (:class:`KeysDoNotMatch`, naming the key ids and columns) unless ``ring`` holds
    every key id that seals a value in the store, and each opens a value it sealed."""
    missing: list[str] = []
    wrong: list[str] = []
    for kid, use in sorted(keys_in_store(engine).items()):
        where = ", ".join(sorted(use.columns))
        if kid not in ring.keys:
            missing.append(f"{kid!r} (sealing values in {where})")
            continue
        assert use.sample is not None
        ec, token = use.sample
        try:
            if isinstance(token, bytes):
                crypto.decrypt_bytes(token, ec.context, ring)
            else:
                crypto.decrypt(token, ec.context, ring)
        except DecryptionError:
            wrong.append(f"{kid!r} (does not open the values in {where})")
    if not missing and not wrong:
        return
    problems = []
    if missing:
        problems.append(f"the key ring lacks key id(s) {', '.join(missing)}")
    if wrong:
        problems.append(
            f"the key ring's key(s) {', '.join(wrong)} are not the ones that sealed them"
        )
    source = (
        f" (read from {ring.path})" if ring.path else f" ({ring.source})" if ring.source else ""
    )
    raise KeysDoNotMatch(
        f"refusing to {doing}: {'; and '.join(problems)}{source}; set "
        f"{config.env_name('key_file')} to the key file this store was sealed with"
    )
