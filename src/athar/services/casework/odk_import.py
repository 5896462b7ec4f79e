"""Importing encrypted ODK submissions through the same services and audit as the web forms.

Each submission is decrypted with the ODK keys of the key ring (:mod:`athar.security.odk`,
which refuses a tampered one or one sealed to another key), read back against Athar's form
declarations (:mod:`.odk_forms`, which refuses fields that no longer match), checked by the web
form's own validation, and stored by the web form's own service: :func:`.tracing.submit_request`,
:func:`.unidentified.register` or :func:`.antemortem.add_record`, each writing its audit event,
with the submission's instance id recorded as provenance in the same transaction.  A
submission already imported is skipped, so a re-import changes nothing.  The import itself is
audited (``odk.import``) with what was imported, skipped and refused, and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from athar.domain.fields import ANTEMORTEM, TRACING_REQUEST, UNIDENTIFIED
from athar.errors import InvalidInput
from athar.ingest.odk import EncryptedSubmission
from athar.security.auth import Permission, require
from athar.security.odk import Submission, decrypt_submission
from athar.services.actor import Actor
from athar.services.audit import AuditAction, append_event
from athar.services.casework import antemortem, tracing, tracing_intake, unidentified
from athar.services.casework.odk_forms import OdkForm, form_for_id, read_answers
from athar.services.casework.odk_provenance import Provenance, imported
from athar.store.engine import begin_write

#: the language recorded on a tracing request that came through ODK
DEFAULT_LANGUAGE = "ar"


@dataclass(frozen=True)
class Outcome:
    """What became of one submission."""

    where: str
    #: ``imported``, ``already`` (imported before: nothing changed) or ``refused``
    status: str
    instance_id: str | None = None
    form: str | None = None
    #: what it created (or had created)
    reference: str | None = None
    #: why it was refused
    message: str | None = None


@dataclass
class ImportReport:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def refused(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "refused"]


def _problems(errors: Mapping[str, str]) -> str:
    return "; ".join(f"field {k}: {v}" for k, v in errors.items())


def _store(
    engine: Engine,
    actor: Actor,
    form: OdkForm,
    sub: Submission,
    answers: dict[str, Any],
    photo_max_bytes: int,
    language: str,
) -> str:
    """Validate and store through the web form's service; returns what it created."""
    provenance = Provenance(sub.instance_id, sub.key_id)
    if form.form == TRACING_REQUEST:
        photo_name = answers.pop("photo", None)
        photo = sub.media.get(photo_name) if photo_name else None
        missing = (
            {"photo": f"the photo file {photo_name} is missing"} if photo_name and not photo else {}
        )
        consent = (answers.pop("consent", None) or "").split()
        try:
            intake = tracing_intake.validate_intake(
                answers, consent, photo, photo_max_bytes=photo_max_bytes
            )
        except tracing_intake.IntakeInvalid as exc:
            raise tracing_intake.IntakeInvalid({**exc.errors, **missing}) from None
        if missing:
            raise tracing_intake.IntakeInvalid(missing)
        request = tracing.submit_request(
            engine, actor=actor, intake=intake, language=language, provenance=provenance
        )
        return request.reference
    if form.form == UNIDENTIFIED:
        values = unidentified.validate(answers)
        return unidentified.register(engine, actor=actor, values=values, provenance=provenance)
    assert form.form == ANTEMORTEM
    values = antemortem.validate(answers)
    record_id = antemortem.add_record(engine, actor=actor, values=values, provenance=provenance)
    return f"{values['request_reference']}/antemortem/{record_id}"


def import_submissions(
    engine: Engine,
    *,
    actor: Actor,
    submissions: Iterable[EncryptedSubmission],
    odk_keys: Mapping[str, bytes],
    photo_max_bytes: int,
    language: str = DEFAULT_LANGUAGE,
) -> ImportReport:
    """Decrypt, check and import every submission; one refused never stops the others."""
    require(actor.role, Permission.WORK_REQUESTS)
    report = ImportReport()
    with Session(engine) as db:
        for enc in submissions:
            _one(engine, db, actor, enc, odk_keys, photo_max_bytes, language, report)
    with begin_write(engine) as conn:
        append_event(
            conn,
            actor=actor.label,
            action=AuditAction.ODK_IMPORT,
            entity_type="odk_submission",
            detail={
                "imported": [o.instance_id for o in report.outcomes if o.status == "imported"],
                "already": report.count("already"),
                "refused": [
                    {"where": o.where, "instance_id": o.instance_id, "reason": o.message}
                    for o in report.refused
                ],
            },
        )
    return report


def _one(
    engine: Engine,
    db: Session,
    actor: Actor,
    enc: EncryptedSubmission,
    odk_keys: Mapping[str, bytes],
    photo_max_bytes: int,
    language: str,
    report: ImportReport,
) -> None:
    """Import one submission, adding its outcome to ``report``."""
    instance_id: str | None = None
    form_id: str | None = None
    try:
        sub = decrypt_submission(enc.manifest, enc.files, odk_keys, where=enc.where)
        instance_id, form_id = sub.instance_id, sub.form_id
        before = imported(db, sub.instance_id)
        db.rollback()
        if before is not None:
            report.outcomes.append(Outcome(enc.where, "already", instance_id, form_id, before))
            return
        form = form_for_id(sub.form_id)
        if form is None:
            raise InvalidInput(
                f"{enc.where}: form {sub.form_id!r} is not one of Athar's forms "
                "(`athar odk form` makes them)"
            )
        answers = read_answers(form, sub.xml, where=enc.where, instance_id=sub.instance_id)
        try:
            reference = _store(engine, actor, form, sub, answers, photo_max_bytes, language)
        except IntegrityError:  # imported meanwhile by another import
            db.rollback()
            report.outcomes.append(
                Outcome(enc.where, "already", instance_id, form_id,
                        imported(db, sub.instance_id))
            )  # fmt: skip
            db.rollback()
            return
        report.outcomes.append(Outcome(enc.where, "imported", instance_id, form_id, reference))
    except (
        tracing_intake.IntakeInvalid,
        unidentified.DescriptorsInvalid,
        antemortem.AntemortemInvalid,
    ) as exc:
        message = f"{enc.where}: {_problems(exc.errors)}"
        report.outcomes.append(Outcome(enc.where, "refused", instance_id, form_id, message=message))
    except InvalidInput as exc:
        report.outcomes.append(
            Outcome(enc.where, "refused", instance_id, form_id, message=str(exc))
        )
