"""JSON API: tracing requests.  Filing one is public; everything else needs a role.

A request the caller may not see answers ``404 not_found`` exactly like a missing one.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from athar.security.auth import Permission
from athar.services.casework import casenotes, tracing, tracing_intake
from athar.web.deps import (
    MAX_OFFSET,
    CsrfProtected,
    CurrentUser,
    EngineDep,
    SessionDep,
    WebUser,
    actor_of,
    requires,
)
from athar.web.errors import InvalidInput
from athar.web.ratelimit import check_intake
from athar.web.schemas import (
    ConsentIn,
    ContactOut,
    ErrorOut,
    SpamIn,
    SpamOut,
    StatusIn,
    TracingRequestCreate,
    TracingRequestList,
    TracingRequestOut,
    TracingRequestReceipt,
    TracingRequestSummaryOut,
)

router = APIRouter(
    prefix="/api/v1/tracing-requests",
    tags=["tracing requests"],
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}},
)
Reader = Annotated[WebUser, Depends(requires(Permission.READ_REQUESTS))]


def invalid(errors: dict[str, str]) -> InvalidInput:
    return InvalidInput(
        "the tracing request is not valid",
        fields=[{"field": k, "message": v} for k, v in errors.items()],
    )


@router.post(
    "",
    response_model=TracingRequestReceipt,
    status_code=201,
    dependencies=[CsrfProtected],
    responses={413: {"model": ErrorOut}, 422: {"model": ErrorOut}, 429: {"model": ErrorOut}},
)
def file_request(
    body: TracingRequestCreate, request: Request, engine: EngineDep
) -> TracingRequestReceipt:
    """File a tracing request (no login).  The answer is a reference, nothing more.

    Throttled per client address and for everyone together (429 with ``Retry-After``)."""
    check_intake(request)
    settings = request.app.state.settings
    photo = None
    if body.photo_base64:
        if len(body.photo_base64) > settings.photo_max_bytes * 4 // 3 + 8:
            raise invalid({"photo": "The photo is too large."})
        try:
            photo = base64.b64decode(body.photo_base64, validate=True)
        except (binascii.Error, ValueError):
            raise invalid({"photo": "photo_base64 is not valid base64"}) from None
    raw = body.model_dump(exclude={"consent", "photo_base64", "language"})
    try:
        intake = tracing_intake.validate_intake(
            raw,
            body.consent,
            photo,
            photo_max_bytes=settings.photo_max_bytes,
            photo_max_pixels=settings.photo_max_pixels,
        )
    except tracing.IntakeInvalid as exc:
        raise invalid(exc.errors) from None
    language = body.language if body.language in ("ar", "en") else "en"
    stored = tracing.submit_request(engine, actor=actor_of(None), intake=intake, language=language)
    return TracingRequestReceipt(reference=stored.reference)


@router.get("", response_model=TracingRequestList)
def list_requests(
    db: SessionDep,
    user: Reader,
    status: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> TracingRequestList:
    try:
        items, total = tracing.list_requests(
            db, actor=user.actor, status=status, limit=limit, offset=offset
        )
    except tracing.IntakeInvalid as exc:
        raise invalid(exc.errors) from None
    return TracingRequestList(
        items=[
            TracingRequestSummaryOut(
                reference=i.reference, status=i.status, created_at=i.created_at, name=i.name
            )
            for i in items
        ],
        total=total,
    )


@router.get("/{reference}", response_model=TracingRequestOut)
def get_request(reference: str, db: SessionDep, user: CurrentUser) -> TracingRequestOut:
    view = tracing.get_request_for(db, user.actor, reference)
    return TracingRequestOut(**view.__dict__)


@router.get("/{reference}/contact", response_model=ContactOut)
def get_contact(reference: str, db: SessionDep, user: CurrentUser) -> ContactOut:
    """The family's contact details.  Every call is written to the audit log."""
    contact = tracing.get_contact_for(db, user.actor, reference)
    return ContactOut(**contact.__dict__)


@router.get("/{reference}/photo", response_class=Response)
def get_photo(reference: str, db: SessionDep, user: CurrentUser) -> Response:
    data, media_type = tracing.get_photo_for(db, user.actor, reference)
    return Response(data, media_type=media_type, headers={"Cache-Control": "no-store"})


@router.put(
    "/{reference}/status",
    response_model=StatusIn,
    dependencies=[CsrfProtected],
    responses={422: {"model": ErrorOut}},
)
def put_status(reference: str, body: StatusIn, engine: EngineDep, user: CurrentUser) -> StatusIn:
    try:
        status = tracing.set_status(
            engine, actor=user.actor, reference=reference, status=body.status
        )
    except tracing.IntakeInvalid as exc:
        raise invalid(exc.errors) from None
    return StatusIn(status=status)


@router.put(
    "/{reference}/spam",
    response_model=SpamOut,
    dependencies=[CsrfProtected],
    responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
def put_spam(reference: str, body: SpamIn, engine: EngineDep, user: CurrentUser) -> SpamOut:
    """Mark a request as spam or as not spam (administrators); audited with the reason.

    A spam request leaves the default list, link runs, candidates, figures and estimates;
    not spam brings it back with the status it had."""
    try:
        status = tracing.mark_spam(
            engine, actor=user.actor, reference=reference, spam=body.spam, reason=body.reason
        )
    except tracing.IntakeInvalid as exc:
        raise invalid(exc.errors) from None
    return SpamOut(spam=status == tracing.SPAM, status=status)


@router.put(
    "/{reference}/consent",
    response_model=ConsentIn,
    dependencies=[CsrfProtected],
    responses={422: {"model": ErrorOut}},
)
def put_consent(reference: str, body: ConsentIn, engine: EngineDep, user: CurrentUser) -> ConsentIn:
    """Record the family's sharing choices as they stand now (withdrawal included)."""
    try:
        consent = tracing.set_consent(
            engine, actor=user.actor, reference=reference, consent=body.consent
        )
    except tracing.IntakeInvalid as exc:
        raise invalid(exc.errors) from None
    return ConsentIn(consent=consent)


# --- case history: notes and "family informed" (append-only) ---------------------------------


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=casenotes.MAX_TEXT)
    #: a sensitive note's text is stored encrypted
    sensitive: bool = False


class NoteOut(BaseModel):
    id: int
    author: str
    created_at: datetime
    sensitive: bool
    text: str


class NoteList(BaseModel):
    items: list[NoteOut]


class NotificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: when the family was told (default: now); not in the future
    informed_at: datetime | None = None
    #: phone, in_person, message, letter or other
    channel: str
    #: candidate_found, person_confirmed, no_news, death_confirmed or other
    outcome: str
    #: what they were told, in free text (stored encrypted)
    details: str | None = Field(default=None, max_length=casenotes.MAX_TEXT)


class NotificationOut(BaseModel):
    id: int
    recorded_by: str
    informed_at: datetime
    recorded_at: datetime
    channel: str
    outcome: str
    details: str | None


class NotificationList(BaseModel):
    items: list[NotificationOut]


class NotificationReceipt(NotificationOut):
    #: the request's status after the notification (``family_informed`` unless closed)
    request_status: str


def _invalid_history(exc: casenotes.CaseNoteInvalid) -> InvalidInput:
    return InvalidInput(
        "the entry is not valid",
        fields=[{"field": k, "message": v} for k, v in exc.errors.items()],
    )


@router.get("/{reference}/notes", response_model=NoteList)
def get_notes(reference: str, db: SessionDep, user: CurrentUser) -> NoteList:
    """The request's notes, oldest first; sensitive notes are decrypted.  The read is audited."""
    notes = casenotes.list_notes(db, user.actor, reference)
    return NoteList(items=[NoteOut(**n.__dict__) for n in notes])


@router.post(
    "/{reference}/notes",
    response_model=NoteOut,
    status_code=201,
    dependencies=[CsrfProtected],
    responses={422: {"model": ErrorOut}},
)
def post_note(reference: str, body: NoteIn, engine: EngineDep, user: CurrentUser) -> NoteOut:
    """Append a note (notes are never edited or deleted)."""
    try:
        note = casenotes.add_note(
            engine, actor=user.actor, reference=reference, text=body.text, sensitive=body.sensitive
        )
    except casenotes.CaseNoteInvalid as exc:
        raise _invalid_history(exc) from None
    return NoteOut(**note.__dict__)


@router.get("/{reference}/notifications", response_model=NotificationList)
def get_notifications(reference: str, db: SessionDep, user: CurrentUser) -> NotificationList:
    """When, how and by whom the family was told, and what; oldest first.  Audited."""
    told = casenotes.list_notifications(db, user.actor, reference)
    return NotificationList(items=[NotificationOut(**n.__dict__) for n in told])


@router.post(
    "/{reference}/notifications",
    response_model=NotificationReceipt,
    status_code=201,
    dependencies=[CsrfProtected],
    responses={422: {"model": ErrorOut}},
)
def post_notification(
    reference: str, body: NotificationIn, engine: EngineDep, user: CurrentUser
) -> NotificationReceipt:
    """Record that the family was told; the request moves to ``family_informed`` unless closed."""
    try:
        told, status = casenotes.record_notification(
            engine,
            actor=user.actor,
            reference=reference,
            channel=body.channel,
            outcome=body.outcome,
            details=body.details,
            informed_at=body.informed_at,
        )
    except casenotes.CaseNoteInvalid as exc:
        raise _invalid_history(exc) from None
    return NotificationReceipt(**told.__dict__, request_status=status)
