"""A tracing request's case history: notes, and the record of when and how the family was told.

Both are append-only: nothing here edits or deletes an entry, and every write and every read of
the history is written to the audit log.  Who may do what:

* reading the history needs ``read_requests``, writing needs ``work_requests`` (case workers
  and administrators); anybody else gets :class:`~athar.security.auth.NotFound`, exactly as
  for a request that does not exist;
* a note marked sensitive is stored only encrypted (``request_note.sealed_text``); a plain
  note is stored as text.  What the family was told, in free text, is always encrypted
  (``family_notification.details``).

**Status.**  Recording that the family was informed moves the request to ``family_informed``
in the same transaction (audited as a status change), unless the request is ``closed``: a
closed request stays closed, and the notification is still recorded.  A case worker can
still set any status by hand afterwards (for example back to ``in_progress`` when the search
goes on); the notifications stay in the history either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from athar.domain.messages import N_
from athar.errors import InvalidInput
from athar.security.auth import Permission
from athar.services.actor import Actor
from athar.services.audit import AuditAction, append_event, audit_read
from athar.services.casework.tracing import visible_request
from athar.store.casework import FamilyNotification, RequestNote, User
from athar.store.engine import write_session

CHANNELS: tuple[tuple[str, str], ...] = (
    ("phone", N_("Phone call")),
    ("in_person", N_("In person")),
    ("message", N_("Written message")),
    ("letter", N_("Letter")),
    ("other", N_("Other channel")),
)

OUTCOMES: tuple[tuple[str, str], ...] = (
    ("candidate_found", N_("A possible match was found")),
    ("person_confirmed", N_("The person was identified")),
    ("no_news", N_("No news yet")),
    ("death_confirmed", N_("Death confirmed")),
    ("other", N_("Something else (see details)")),
)

#: longest note or details text accepted, in characters
MAX_TEXT = 10_000
#: how far in the future ``informed_at`` may be (clock skew between a phone and the server)
FUTURE_SLACK = timedelta(minutes=10)
#: a request in one of these statuses keeps it when a notification is recorded
KEEPS_STATUS = frozenset({"closed"})


class CaseNoteInvalid(ValueError, InvalidInput):
    """The input is not valid; ``errors`` maps each field to a message (a msgid)."""

    code = "case_note_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class NoteView:
    id: int
    author: str
    created_at: datetime
    sensitive: bool
    text: str


@dataclass(frozen=True)
class NotificationView:
    id: int
    recorded_by: str
    informed_at: datetime
    recorded_at: datetime
    channel: str
    outcome: str
    details: str | None


@dataclass(frozen=True)
class History:
    notes: list[NoteView]
    notifications: list[NotificationView]


def _clean_text(value: str | None, field: str, errors: dict[str, str], required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        errors[field] = N_("This field is required.")
    elif len(text) > MAX_TEXT:
        errors[field] = N_("This text is too long.")
    return text


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _author_names(db: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.execute(select(User.id, User.username).where(User.id.in_(ids))).all()
    return {int(i): str(name) for i, name in rows}


def _note_view(note: RequestNote, names: dict[int, str]) -> NoteView:
    text = note.sealed_text if note.sensitive else note.text
    return NoteView(
        id=note.id,
        author=names.get(note.author_id, f"user {note.author_id}"),
        created_at=_utc(note.created_at),
        sensitive=note.sensitive,
        text=text or "",
    )


def _notification_view(n: FamilyNotification, names: dict[int, str]) -> NotificationView:
    return NotificationView(
        id=n.id,
        recorded_by=names.get(n.recorded_by_id, f"user {n.recorded_by_id}"),
        informed_at=_utc(n.informed_at),
        recorded_at=_utc(n.recorded_at),
        channel=n.channel,
        outcome=n.outcome,
        details=n.details,
    )


def _require_user(actor: Actor) -> int:
    if actor.user_id is None:  # only a logged-in user writes case history
        raise CaseNoteInvalid({"actor": N_("Only a logged-in user can write this.")})
    return actor.user_id


def add_note(
    engine: Engine, *, actor: Actor, reference: str, text: str | None, sensitive: bool
) -> NoteView:
    """Append a note to the request; a sensitive note's text is stored encrypted."""
    with write_session(engine) as db:
        request, _ = visible_request(db, actor, reference, Permission.WORK_REQUESTS)
        errors: dict[str, str] = {}
        body = _clean_text(text, "text", errors, required=True)
        if errors:
            raise CaseNoteInvalid(errors)
        author = _require_user(actor)
        at = datetime.now(UTC)
        note = RequestNote(
            request_id=request.id,
            author_id=author,
            created_at=at,
            sensitive=bool(sensitive),
            text=None if sensitive else body,
            sealed_text=body if sensitive else None,
        )
        db.add(note)
        request.updated_at = at
        db.flush()
        append_event(
            db.connection(),
            actor=actor.label,
            action=AuditAction.TRACING_REQUEST_NOTE_ADD,
            entity_type="tracing_request",
            entity_id=reference,
            detail={"note_id": note.id, "sensitive": bool(sensitive)},
        )
        view = _note_view(note, _author_names(db, {author}))
    return view


def _parse_choice(value: str | None, choices: tuple[tuple[str, str], ...]) -> str | None:
    codes = {code for code, _ in choices}
    return value if value in codes else None


def record_notification(
    engine: Engine,
    *,
    actor: Actor,
    reference: str,
    channel: str | None,
    outcome: str | None,
    details: str | None,
    informed_at: datetime | None = None,
) -> tuple[NotificationView, str]:
    """Record that the family was told; returns the record and the request's status after it.

    ``informed_at`` defaults to now; it may not lie in the future.  The request moves to
    ``family_informed`` unless it is closed (see the module doc).
    """
    with write_session(engine) as db:
        request, _ = visible_request(db, actor, reference, Permission.WORK_REQUESTS)
        errors: dict[str, str] = {}
        ch = _parse_choice(channel, CHANNELS)
        if ch is None:
            errors["channel"] = N_("Choose how the family was told.")
        out = _parse_choice(outcome, OUTCOMES)
        if out is None:
            errors["outcome"] = N_("Choose what the family was told.")
        text = _clean_text(details, "details", errors, required=False)
        now = datetime.now(UTC)
        when = now if informed_at is None else _utc(informed_at)
        if when > now + FUTURE_SLACK:
            errors["informed_at"] = N_("This date is in the future.")
        if errors:
            raise CaseNoteInvalid(errors)
        assert ch is not None and out is not None
        recorder = _require_user(actor)
        row = FamilyNotification(
            request_id=request.id,
            recorded_by_id=recorder,
            informed_at=when,
            recorded_at=now,
            channel=ch,
            outcome=out,
            details=text or None,
        )
        db.add(row)
        db.flush()
        old = request.status
        if old not in KEEPS_STATUS:
            request.status = "family_informed"
        request.updated_at = now
        append_event(
            db.connection(),
            actor=actor.label,
            action=AuditAction.TRACING_REQUEST_FAMILY_INFORMED,
            entity_type="tracing_request",
            entity_id=reference,
            detail={
                "notification_id": row.id,
                "channel": ch,
                "outcome": out,
                "informed_at": when.isoformat(timespec="seconds"),
            },
        )
        if request.status != old:
            append_event(
                db.connection(),
                actor=actor.label,
                action=AuditAction.TRACING_REQUEST_STATUS,
                entity_type="tracing_request",
                entity_id=reference,
                detail={"from": old, "to": request.status, "because": "family_informed"},
            )
        status = request.status
        view = _notification_view(row, _author_names(db, {recorder}))
    return view, status


def _notes(db: Session, request_id: int) -> list[RequestNote]:
    return list(
        db.scalars(
            select(RequestNote)
            .where(RequestNote.request_id == request_id)
            .order_by(RequestNote.created_at, RequestNote.id)
        )
    )


def _notifications(db: Session, request_id: int) -> list[FamilyNotification]:
    return list(
        db.scalars(
            select(FamilyNotification)
            .where(FamilyNotification.request_id == request_id)
            .order_by(FamilyNotification.informed_at, FamilyNotification.id)
        )
    )


def _audit_read(
    db: Session, actor: Actor, reference: str, action: AuditAction, detail: dict[str, list[int]]
) -> None:
    audit_read(
        db,
        actor=actor,
        action=action,
        entity_type="tracing_request",
        entity_id=reference,
        detail=detail,
    )


def list_notes(db: Session, actor: Actor, reference: str) -> list[NoteView]:
    """The request's notes, oldest first (sensitive ones decrypted); the read is audited."""
    request, _ = visible_request(db, actor, reference, Permission.READ_REQUESTS)
    rows = _notes(db, request.id)
    names = _author_names(db, {n.author_id for n in rows})
    views = [_note_view(n, names) for n in rows]
    _audit_read(
        db, actor, reference, AuditAction.TRACING_REQUEST_NOTES_VIEW, {"ids": [v.id for v in views]}
    )
    return views


def list_notifications(db: Session, actor: Actor, reference: str) -> list[NotificationView]:
    """When and how the family was told, oldest first; the read is audited."""
    request, _ = visible_request(db, actor, reference, Permission.READ_REQUESTS)
    rows = _notifications(db, request.id)
    names = _author_names(db, {n.recorded_by_id for n in rows})
    views = [_notification_view(n, names) for n in rows]
    _audit_read(
        db,
        actor,
        reference,
        AuditAction.TRACING_REQUEST_NOTIFICATIONS_VIEW,
        {"ids": [v.id for v in views]},
    )
    return views


def history(db: Session, actor: Actor, reference: str) -> History:
    """Notes and notifications together (the request page); one audited read."""
    request, _ = visible_request(db, actor, reference, Permission.READ_REQUESTS)
    notes = _notes(db, request.id)
    told = _notifications(db, request.id)
    names = _author_names(db, {n.author_id for n in notes} | {n.recorded_by_id for n in told})
    result = History(
        notes=[_note_view(n, names) for n in notes],
        notifications=[_notification_view(n, names) for n in told],
    )
    _audit_read(
        db,
        actor,
        reference,
        AuditAction.TRACING_REQUEST_HISTORY_VIEW,
        {
            "notes": [n.id for n in result.notes],
            "notifications": [n.id for n in result.notifications],
        },
    )
    return result
