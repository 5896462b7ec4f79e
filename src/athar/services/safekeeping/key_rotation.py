"""Re-encrypt every encrypted column under the active key, in small transactions.

Rotation never takes the store offline:

* the new key is written to the key file *before* any value is sealed with it, and every
  running Athar process re-reads its key file when it changes (or when it meets an
  unknown key id), so old and new keys both decrypt throughout;
* each batch of rows is its own short transaction;
* a row is rewritten only if it still holds the ciphertext that was read (optimistic
  check), so a value the application changed meanwhile is never overwritten with stale
  data; such rows are counted and picked up by the next pass.

Only values whose key id differs from the active key are rewritten, so an interrupted
rotation is resumed simply by running it again.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, LargeBinary, MetaData, Text, select, type_coerce, update

from athar.security.crypto import (
    DecryptionError,
    EncryptedColumn,
    encrypted_columns,
    reencrypt_token,
    token_key_id,
)
from athar.security.keys import KeyRing
from athar.services.audit import AuditAction
from athar.store.engine import begin_write

#: ``audit(conn, action, detail)`` appends an audit event inside the caller's transaction
AuditFn = Callable[[Connection, AuditAction, dict[str, Any]], None]


@dataclass
class ColumnRotation:
    column: str
    scanned: int = 0
    reencrypted: int = 0
    changed_meanwhile: int = 0
    unreadable: list[str] = field(default_factory=list)  # primary keys, as text


@dataclass
class RotationReport:
    active: str
    columns: list[ColumnRotation]
    batches: int = 0

    @property
    def reencrypted(self) -> int:
        return sum(c.reencrypted for c in self.columns)

    @property
    def changed_meanwhile(self) -> int:
        return sum(c.changed_meanwhile for c in self.columns)

    @property
    def unreadable(self) -> int:
        return sum(len(c.unreadable) for c in self.columns)

    def as_dict(self) -> dict[str, Any]:
        return {
            "active_key": self.active,
            "batches": self.batches,
            "reencrypted": self.reencrypted,
            "changed_meanwhile": self.changed_meanwhile,
            "unreadable": self.unreadable,
            "columns": {
                c.column: {
                    "scanned": c.scanned,
                    "reencrypted": c.reencrypted,
                    "changed_meanwhile": c.changed_meanwhile,
                    "unreadable": c.unreadable[:20],
                }
                for c in self.columns
            },
        }


def store_metadata() -> MetaData:
    """Athar's full schema: the registry's ``Base`` with every model module under
    :mod:`athar.store` imported (the web app's case-work tables live in their own module)."""
    import athar.store
    from athar.store.models import Base

    for info in pkgutil.iter_modules(athar.store.__path__):
        if info.name not in {"migrations", "engine", "migrate"} and not info.ispkg:
            importlib.import_module(f"athar.store.{info.name}")
    return Base.metadata


def _pk(ec: EncryptedColumn) -> Any:
    pks = list(ec.table.primary_key.columns)
    if len(pks) != 1:
        raise ValueError(f"{ec.name}: key rotation needs a single-column primary key")
    return pks[0]


def _raw(ec: EncryptedColumn) -> Any:
    """The column as its stored ciphertext, bypassing the decrypting type."""
    return type_coerce(ec.table.c[ec.column], LargeBinary() if ec.binary else Text())


def key_usage(engine: Engine, metadata: MetaData) -> dict[str, Counter[str]]:
    """For each encrypted column, how many stored values each key id sealed."""
    usage: dict[str, Counter[str]] = {}
    with engine.connect() as conn:
        for ec in encrypted_columns(metadata):
            counts: Counter[str] = Counter()
            raw = _raw(ec)
            result = conn.execution_options(yield_per=2000).execute(
                select(raw).where(raw.is_not(None))
            )
            for (token,) in result:
                try:
                    counts[token_key_id(bytes(token) if ec.binary else token)] += 1
                except DecryptionError:
                    counts["<unreadable>"] += 1
            usage[ec.name] = counts
    return usage


def reencrypt_all(
    engine: Engine,
    metadata: MetaData,
    ring: KeyRing,
    *,
    batch_size: int = 500,
    audit: AuditFn | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> RotationReport:
    """Seal every encrypted value of ``metadata`` that is not under ``ring.active`` again.

    ``ring`` must hold every key that sealed a stored value.  Each batch of at most
    ``batch_size`` rows commits on its own.  Unreadable values are left untouched and
    reported (never overwritten).  ``audit`` records the start and the end.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    columns = encrypted_columns(metadata)
    report = RotationReport(ring.active, [ColumnRotation(ec.name) for ec in columns])
    if audit is not None:
        with begin_write(engine) as conn:
            audit(
                conn,
                AuditAction.KEYS_REENCRYPT_START,
                {"active_key": ring.active, "columns": [ec.name for ec in columns]},
            )
    for ec, stats in zip(columns, report.columns, strict=True):
        pk, raw = _pk(ec), _raw(ec)
        last: Any = None
        while True:
            # Read a batch, then write it in its own short transaction whose first statement
            # is a write (SQLite cannot upgrade a read snapshot that another writer has
            # overtaken).  The optimistic "raw == token" check makes the gap safe.
            query = select(pk, raw).where(raw.is_not(None)).order_by(pk).limit(batch_size)
            if last is not None:
                query = query.where(pk > last)
            with engine.connect() as conn:
                rows = conn.execute(query).all()
            if not rows:
                break
            report.batches += 1
            changes: list[tuple[Any, Any, Any]] = []
            for key, token in rows:
                stats.scanned += 1
                token = bytes(token) if ec.binary else token
                try:
                    if token_key_id(token) == ring.active:
                        continue
                    changes.append((key, token, reencrypt_token(token, ec.context, ring)))
                except DecryptionError:
                    stats.unreadable.append(str(key))
            if changes:
                with begin_write(engine) as conn:
                    for key, token, new in changes:
                        done = conn.execute(
                            update(ec.table)
                            .where(pk == key, raw == token)
                            .values({ec.column: type_coerce(new, raw.type)})
                        ).rowcount
                        if done == 1:
                            stats.reencrypted += 1
                        else:
                            stats.changed_meanwhile += 1
            last = rows[-1][0]
            if progress is not None:
                progress(ec.name, stats.scanned, stats.reencrypted)
    if audit is not None:
        with begin_write(engine) as conn:
            audit(conn, AuditAction.KEYS_REENCRYPT_DONE, report.as_dict())
    return report
