"""Tables of the web app's case work: users, login sessions, login attempts, tracing requests.

They share the registry's declarative ``Base`` (and so its metadata and naming convention); the
migration ``0101_users_sessions_tracing`` creates them.

What is encrypted (with :mod:`athar.security.crypto`, key outside the database): the relative's
name and every contact detail, the other names and the place of residence the family gave
(issue 18, finding 21), the free-text account of what happened, and the photo (its own table,
:class:`RequestPhoto`, since issue 18 finding 3).  The missing person's own details live in the
``family`` source :class:`~athar.store.models.Record` that every request creates, so linkage
sees them like any other list; linkage reads nothing of the request row itself.

The encrypted columns are *deferred*: a query for requests loads none of them (a list of
requests decrypts nothing); they are loaded, and decrypted, when a view first touches one of
its group (``contact`` or ``account``), which the services audit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from athar.security.crypto import EncryptedBytes, EncryptedText
from athar.store.models import TS, Base


class User(Base):
    """A person who logs in.  One role each; ``source_code`` scopes a data partner's imports."""

    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    source_code: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TS)
    last_login_at: Mapped[datetime | None] = mapped_column(TS)


class LoginSession(Base):
    """A login.  Only the SHA-256 of the cookie's token is stored."""

    __tablename__ = "login_session"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(TS)
    expires_at: Mapped[datetime] = mapped_column(TS)
    revoked_at: Mapped[datetime | None] = mapped_column(TS)


class LoginAttempt(Base):
    """One login attempt, kept for lock-out and rate limiting (whether or not the user exists)."""

    __tablename__ = "login_attempt"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(TS)
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_client_at", "client", "at"),
    )


class TracingRequest(Base):
    """A family's request to trace a missing person, filed through the public form or the API."""

    __tablename__ = "tracing_request"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    #: the ``family`` source record holding the missing person's details
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    requester_name: Mapped[str] = mapped_column(
        EncryptedText(context="tracing_request.requester_name"),
        deferred=True,
        deferred_group="contact",
    )
    relationship: Mapped[str] = mapped_column(String(32))
    contact_phone: Mapped[str | None] = mapped_column(
        EncryptedText(context="tracing_request.contact_phone"),
        deferred=True,
        deferred_group="contact",
    )
    contact_email: Mapped[str | None] = mapped_column(
        EncryptedText(context="tracing_request.contact_email"),
        deferred=True,
        deferred_group="contact",
    )
    contact_other: Mapped[str | None] = mapped_column(
        EncryptedText(context="tracing_request.contact_other"),
        deferred=True,
        deferred_group="contact",
    )
    other_names: Mapped[str | None] = mapped_column(
        EncryptedText(context="tracing_request.other_names"),
        deferred=True,
        deferred_group="account",
    )
    residence_place: Mapped[str | None] = mapped_column(
        EncryptedText(context="tracing_request.residence_place"),
        deferred=True,
        deferred_group="account",
    )
    circumstances: Mapped[str | None] = mapped_column(
        EncryptedText(context="tracing_request.circumstances"),
        deferred=True,
        deferred_group="account",
    )
    #: the status a request had when it was marked as spam (``status`` is then ``spam``)
    status_before_spam: Mapped[str | None] = mapped_column(String(16))
    #: the photo, kept out of this row (issue 18, finding 3)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("request_photo.id"), unique=True)
    #: list of consent scope codes (see :data:`athar.services.casework.tracing.CONSENT_SCOPES`)
    consent: Mapped[list[str]] = mapped_column(JSON)
    consent_updated_at: Mapped[datetime] = mapped_column(TS)
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)


class RequestPhoto(Base):
    """A request's photo: re-encoded without metadata at intake, then encrypted.

    Its own table, so that reading requests never reads (or decrypts) a photo; ``size`` and
    ``sha256`` are of the stored (re-encoded, decrypted) image.
    """

    __tablename__ = "request_photo"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(EncryptedBytes(context="request_photo.data"), deferred=True)
    content_type: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TS)


class RequestNote(Base):
    """A case worker's note on a tracing request.  Append-only: never edited or deleted.

    A note is either plain (``text``) or sensitive (``sealed_text``, encrypted); exactly one of
    the two is set.
    """

    __tablename__ = "request_note"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("tracing_request.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(TS)
    sensitive: Mapped[bool] = mapped_column(Boolean)
    text: Mapped[str | None] = mapped_column(Text)
    sealed_text: Mapped[str | None] = mapped_column(
        EncryptedText(context="request_note.sealed_text")
    )


class FamilyNotification(Base):
    """When, how and by whom the family was told something, and what.  Append-only.

    ``informed_at`` is when the family was told (entered by the case worker); ``recorded_at``
    is when the record was written.  ``details`` is free text and always encrypted.
    """

    __tablename__ = "family_notification"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("tracing_request.id"), index=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    informed_at: Mapped[datetime] = mapped_column(TS)
    recorded_at: Mapped[datetime] = mapped_column(TS)
    channel: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(32))
    details: Mapped[str | None] = mapped_column(
        EncryptedText(context="family_notification.details")
    )


class AntemortemRecord(Base):
    """What a family told of a missing person for identification (the antemortem form).

    Attached to a tracing request; ``content`` is the answers as JSON (the names of
    :data:`athar.domain.fields.ANTEMORTEM_FIELDS`, and ``donors``: a list of ``{donor_name,
    donor_relationship}``), encrypted like contact details.  Append-only: a later interview
    adds a record, it never edits one.  Migration ``0110_odk_antemortem`` creates it.
    """

    __tablename__ = "antemortem_record"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("tracing_request.id"), index=True)
    content: Mapped[str] = mapped_column(EncryptedText(context="antemortem_record.content"))
    #: ``odk`` (an ODK submission, see :class:`OdkSubmission`) or ``web``
    channel: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TS)


class OdkSubmission(Base):
    """An imported ODK submission: its instance id is the provenance of what it created, and
    makes a re-import change nothing (unique)."""

    __tablename__ = "odk_submission"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[str] = mapped_column(String(128), unique=True)
    #: the Athar form (``tracing_request``, ``unidentified``, ``antemortem``)
    form: Mapped[str] = mapped_column(String(32))
    #: what it created: a request (``T-...``), a registration (``U-...``) or an antemortem
    #: record of a request (``T-.../antemortem/<id>``)
    reference: Mapped[str] = mapped_column(String(64))
    #: the ODK key (in the key file) it was encrypted to
    key_id: Mapped[str] = mapped_column(String(64))
    imported_by: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(TS)
