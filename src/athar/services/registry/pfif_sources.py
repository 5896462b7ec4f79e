"""Which sources may assert a death through PFIF: an administrator's decision, audited.

Person Finder lets a repository post ``believed_dead`` notes only with a permission it grants;
Athar keeps the rule.  :func:`set_death_authorised` marks (or unmarks) a source; the importer
reads the marked sources (:func:`athar.services.registry.importer.pfif_authorised`) and makes a
death claim of a ``believed_dead`` note only when the note's home repository is one of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from athar.errors import NotFound
from athar.services.actor import Actor
from athar.services.audit import AuditAction, append_event
from athar.store import statements as sql
from athar.store.engine import begin_write
from athar.store.models import Source


class UnknownSource(LookupError, NotFound):
    code = "unknown_source"


@dataclass(frozen=True)
class AuthorisationChange:
    source: str
    authorised: bool
    changed: bool
    audit_seq: int | None


def set_death_authorised(
    engine: Engine, source: str, authorised: bool, *, actor: Actor, reason: str
) -> AuthorisationChange:
    """Mark ``source`` as allowed (or not) to assert deaths in PFIF notes; audited."""
    reason = reason.strip()
    if not reason:
        from athar.errors import InvalidInput

        raise InvalidInput("give a reason: the audit log records why a source may assert deaths")
    with begin_write(engine) as conn:
        sid = conn.execute(sql.SOURCE_ID_BY_CODE, {"c": source}).scalar()
        if sid is None and not authorised:
            raise UnknownSource(f"no source {source!r} in the store")
        if sid is None:  # a partner repository authorised before its first import
            sid = conn.execute(sql.INSERT_SOURCE, {"c": source, "t": datetime.now(UTC)}).scalar()
            if sid is None:
                sid = conn.execute(sql.SOURCE_ID_BY_CODE, {"c": source}).scalar_one()
        before = conn.execute(sql.PFIF_AUTHORISED_SOURCES).scalars().all()
        was = source in before
        if was == authorised:
            return AuthorisationChange(source, authorised, False, None)
        conn.execute(sql.SET_PFIF_AUTHORISED, {"a": authorised, "s": sid})
        seq = append_event(
            conn,
            actor=actor.label,
            action=AuditAction.SOURCE_PFIF_DEATH_AUTHORISE,
            entity_type="source",
            entity_id=source,
            detail={"authorised": authorised, "reason": reason},
        )
    return AuthorisationChange(source, authorised, True, seq)


@dataclass(frozen=True)
class SourceState:
    code: str
    death_authorised: bool


def source_states(db: Session) -> list[SourceState]:
    """Every source and whether it may assert deaths through PFIF (codes only: not sensitive)."""
    rows = db.execute(select(Source.code, Source.pfif_death_authorised).order_by(Source.code))
    return [SourceState(str(code), bool(flag)) for code, flag in rows]
