"""Keep the store's facility table in step with the vocabulary data files."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select

from athar.domain import vocab
from athar.domain.normalize import match_key
from athar.services.actor import Actor
from athar.services.audit import AuditAction, append_event
from athar.store.engine import begin_write
from athar.store.models import Facility, FacilityAlias


def sync_facilities(engine: Engine, *, actor: Actor) -> dict[str, int]:
    """Add facilities and aliases from ``facilities.yaml`` that the store lacks.

    Never deletes or renames: a facility once stored stays.  Writes one audit event when
    anything was added.  Returns counts of what was added.
    """
    added = {"facilities": 0, "aliases": 0}
    with begin_write(engine) as conn:
        for f in vocab.facility_list():
            fid = conn.execute(select(Facility.id).where(Facility.code == f.code)).scalar()
            if fid is None:
                fid = conn.execute(
                    insert(Facility)
                    .values(
                        code=f.code,
                        name_ar=f.name_ar,
                        name_en=f.name_en,
                        governorate_code=f.governorate,
                    )
                    .returning(Facility.id)
                ).scalar_one()
                added["facilities"] += 1
            for alias in (f.name_ar, f.name_en, *f.aliases):
                key = match_key(alias)
                exists = conn.execute(
                    select(FacilityAlias.id).where(FacilityAlias.match_key == key)
                ).first()
                if exists is None:
                    conn.execute(
                        insert(FacilityAlias).values(facility_id=fid, alias=alias, match_key=key)
                    )
                    added["aliases"] += 1
        if added["facilities"] or added["aliases"]:
            append_event(
                conn,
                actor=actor.label,
                action=AuditAction.VOCAB_FACILITIES_SYNC,
                entity_type="facility",
                detail=added,
            )
    return added
