"""Partners' API keys for the PFIF feed: created, shown once, scoped, revocable, audited.

A key is a random token (``athar_`` and 43 URL-safe characters: 256 bits); only its SHA-256 is
stored, since a token that long cannot be guessed, so a slow password hash would add nothing.
Each key belongs to one partner (``recipient``), one consent scope (a family record goes out only
if its request's current consent includes it) and a set of non-family sources the partner may
read (the operator vouches, as with ``athar export partner --source``).  Creating and revoking
a key are audited; a revoked key is kept, with who revoked it and when, and never works again.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from athar.errors import InvalidInput, NotFound
from athar.services.actor import Actor
from athar.services.audit import AuditAction, append_event
from athar.services.sharing.export_common import resolve_sources
from athar.services.sharing.export_partner import PARTNER_SCOPES
from athar.services.sharing.export_pfif import check_source_codes
from athar.store.engine import write_session
from athar.store.models import ApiKey

TOKEN_PREFIX = "athar_"


class ApiKeyRefused(ValueError, InvalidInput):
    code = "api_key_refused"


class UnknownApiKey(LookupError, NotFound):
    code = "unknown_api_key"


@dataclass(frozen=True)
class KeyInfo:
    id: int
    prefix: str
    recipient: str
    scope: str
    sources: tuple[str, ...]
    created_at: datetime
    created_by: str
    revoked_at: datetime | None

    @classmethod
    def of(cls, k: ApiKey) -> KeyInfo:
        return cls(
            k.id,
            k.prefix,
            k.recipient,
            k.scope,
            tuple(k.sources),
            k.created_at,
            k.created_by,
            k.revoked_at,
        )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_api_key(
    engine: Engine,
    *,
    recipient: str,
    scope: str,
    sources: Sequence[str] = (),
    all_sources: bool = False,
    actor: Actor,
) -> tuple[KeyInfo, str]:
    """A new key for ``recipient``; returns its description and the token (shown only now)."""
    recipient = recipient.strip()
    if not recipient:
        raise ApiKeyRefused("name the partner the key is for (--recipient)")
    if scope not in PARTNER_SCOPES:
        raise ApiKeyRefused(f"unknown scope {scope!r}; choose one of {', '.join(PARTNER_SCOPES)}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with write_session(engine) as db:
        chosen = resolve_sources(db.connection(), sources, all_sources)
        check_source_codes(chosen)
        key = ApiKey(
            prefix=token[:12],
            token_sha256=token_hash(token),
            recipient=recipient,
            scope=scope,
            sources=chosen,
            created_at=datetime.now(UTC),
            created_by=actor.label,
        )
        db.add(key)
        db.flush()
        append_event(
            db.connection(),
            actor=actor.label,
            action=AuditAction.API_KEY_CREATE,
            entity_type="api_key",
            entity_id=key.id,
            detail={
                "prefix": key.prefix,
                "recipient": recipient,
                "scope": scope,
                "sources": chosen,
            },
        )
        info = KeyInfo.of(key)
    return info, token


def revoke_api_key(engine: Engine, key_id: int, *, actor: Actor, reason: str) -> KeyInfo:
    """Revoke key ``key_id`` for good (audited, with the reason)."""
    if not reason.strip():
        raise ApiKeyRefused("give a reason (--reason): the audit log records why")
    with write_session(engine) as db:
        key = db.get(ApiKey, key_id)
        if key is None:
            raise UnknownApiKey(f"no API key {key_id}")
        if key.revoked_at is None:
            key.revoked_at, key.revoked_by = datetime.now(UTC), actor.label
            db.flush()
            append_event(
                db.connection(),
                actor=actor.label,
                action=AuditAction.API_KEY_REVOKE,
                entity_type="api_key",
                entity_id=key.id,
                detail={"prefix": key.prefix, "recipient": key.recipient, "reason": reason.strip()},
            )
        return KeyInfo.of(key)


def list_api_keys(db: Session) -> list[KeyInfo]:
    """Every key, newest first (no token: only prefixes are kept)."""
    return [KeyInfo.of(k) for k in db.scalars(select(ApiKey).order_by(ApiKey.id.desc()))]


def key_for_token(db: Session, token: str) -> KeyInfo | None:
    """The live key ``token`` is, or None (unknown or revoked)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    key = db.scalar(select(ApiKey).where(ApiKey.token_sha256 == token_hash(token)))
    if key is None or key.revoked_at is not None:
        return None
    return KeyInfo.of(key)
