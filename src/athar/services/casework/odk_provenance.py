"""Where a case record came from when it came from ODK: the submission's instance id.

A service that creates something from an ODK submission records the submission with
:func:`record_provenance` in its own transaction; ``odk_submission.instance_id`` is unique,
so the same submission can never create a second record, and :func:`imported` tells an import
that it has already been taken in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from athar.services.actor import Actor
from athar.store.casework import OdkSubmission


@dataclass(frozen=True)
class Provenance:
    """An ODK submission: its instance id and the ODK key (in the key file) it was sealed to."""

    instance_id: str
    key_id: str


def record_provenance(
    db: Session, provenance: Provenance, *, form: str, reference: str, actor: Actor, at: datetime
) -> None:
    """Record, in the caller's write session, that ``provenance`` created ``reference``."""
    db.add(
        OdkSubmission(
            instance_id=provenance.instance_id,
            form=form,
            reference=reference,
            key_id=provenance.key_id,
            imported_by=actor.label,
            imported_at=at,
        )
    )
    db.flush()


def imported(db: Session, instance_id: str) -> str | None:
    """What the submission ``instance_id`` created, if it was imported already."""
    return db.scalar(
        select(OdkSubmission.reference).where(OdkSubmission.instance_id == instance_id)
    )
