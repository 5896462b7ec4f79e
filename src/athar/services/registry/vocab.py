"""Keep the store's facility table in step with the vocabulary data files."""

from __future__ import annotations

from sqlalchemy import Connection, text

from athar.domain import vocab
from athar.domain.normalize import match_key
from athar.services.audit import AuditAction, append_event


def sync_facilities(conn: Connection, actor: str) -> dict[str, int]:
    """Add facilities and aliases from ``facilities.yaml`` that the store lacks.

    Never deletes or renames: a facility once stored stays.  Writes one audit event when
    anything was added.  Returns counts of what was added.
    """
    added = {"facilities": 0, "aliases": 0}
    for f in vocab.facility_list():
        fid = conn.execute(text("SELECT id FROM facility WHERE code = :c"), {"c": f.code}).scalar()
        if fid is None:
            fid = conn.execute(
                text(
                    "INSERT INTO facility (code, name_ar, name_en, governorate_code) "
                    "VALUES (:c, :ar, :en, :g) RETURNING id"
                ),
                {"c": f.code, "ar": f.name_ar, "en": f.name_en, "g": f.governorate},
            ).scalar_one()
            added["facilities"] += 1
        for alias in (f.name_ar, f.name_en, *f.aliases):
            key = match_key(alias)
            exists = conn.execute(
                text("SELECT 1 FROM facility_alias WHERE match_key = :k"), {"k": key}
            ).first()
            if exists is None:
                conn.execute(
                    text(
                        "INSERT INTO facility_alias (facility_id, alias, match_key) "
                        "VALUES (:f, :a, :k)"
                    ),
                    {"f": fid, "a": alias, "k": key},
                )
                added["aliases"] += 1
    if added["facilities"] or added["aliases"]:
        append_event(
            conn,
            actor=actor,
            action=AuditAction.VOCAB_FACILITIES_SYNC,
            entity_type="facility",
            detail=added,
        )
    return added
