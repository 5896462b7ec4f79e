"""Request and response bodies of the JSON API (separate In/Out models: nothing internal leaks)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: list[dict[str, str]] | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail


class UserOut(BaseModel):
    username: str
    display_name: str
    role: str
    source_code: str | None = None


class SessionOut(BaseModel):
    authenticated: bool
    user: UserOut | None
    csrf_token: str


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(max_length=200)
    password: str = Field(max_length=1000)


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(max_length=64)
    display_name: str = Field(max_length=200)
    role: str
    source_code: str | None = None


class UserCreated(BaseModel):
    user: UserOut
    password: str = Field(description="shown once; Athar keeps only its argon2 hash")


class TracingRequestCreate(BaseModel):
    """A family's tracing request; names in any script."""

    model_config = ConfigDict(extra="forbid")
    requester_name: str
    relationship: str = Field(description="parent, child, sibling, spouse, relative, friend, other")
    contact_phone: str | None = None
    contact_email: str | None = None
    contact_other: str | None = None
    full_name: str | None = None
    given_name: str | None = None
    father_name: str | None = None
    grandfather_name: str | None = None
    family_name: str | None = None
    mother_name: str | None = None
    other_names: str | None = None
    sex: str | None = Field(default=None, description="M or F")
    birth_date: str | None = Field(default=None, description="ISO, possibly partial: 1985, 1985-03")
    age: str | None = Field(default=None, description="34 or 30-35")
    birth_place: str | None = None
    residence_place: str | None = None
    arrest_date: str | None = None
    arrest_place: str | None = None
    facility: str | None = None
    last_seen_date: str | None = None
    circumstances: str | None = None
    consent: list[str] = Field(
        default_factory=list, description="partners, humanitarian, un_missing, research"
    )
    photo_base64: str | None = Field(default=None, description="JPEG, PNG or WebP, base64")
    language: str = Field(default="en", description="ar or en: the language to answer in")


class TracingRequestReceipt(BaseModel):
    reference: str
    message: str = "registered"


class TracingRequestSummaryOut(BaseModel):
    reference: str
    status: str
    created_at: datetime
    name: str | None


class TracingRequestList(BaseModel):
    items: list[TracingRequestSummaryOut]
    total: int


class TracingRequestOut(BaseModel):
    reference: str
    status: str
    language: str
    relationship: str
    consent: list[str]
    created_at: datetime
    updated_at: datetime
    person: dict[str, str | None]
    other_names: str | None
    residence_place: str | None
    circumstances: str | None
    has_photo: bool
    record_id: int
    person_id: int | None


class ContactOut(BaseModel):
    requester_name: str
    relationship: str
    phone: str | None
    email: str | None
    other: str | None


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str


class SpamIn(BaseModel):
    """Mark a request as spam (``spam: true``) or as not spam, with the reason."""

    model_config = ConfigDict(extra="forbid")
    spam: bool
    reason: str


class SpamOut(BaseModel):
    spam: bool
    status: str


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    consent: list[str] = Field(description="partners, humanitarian, un_missing, research")


class QueueItemOut(BaseModel):
    a: str = Field(description="source:record_id")
    b: str
    score: float = Field(description="match weight of the pair under the latest link run")


class SideRecordOut(BaseModel):
    key: str
    source: str
    record_id: str
    imported_at: str
    fields: dict[str, str | None]


class PairOut(BaseModel):
    a: SideRecordOut
    b: SideRecordOut
    explanation: dict[str, Any] | None = Field(
        description="per-comparison waterfall (prior, steps, match_weight); null before a link run"
    )


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: str = Field(max_length=300)
    b: str = Field(max_length=300)
    decision: Literal["match", "no_match"]
    reason: str = Field(min_length=1, max_length=2000)


class DecisionOut(BaseModel):
    id: int
    decision: str


class CandidateOut(BaseModel):
    key: str = Field(description="source:record_id")
    source: str
    name: str | None
    birth: str | None
    facility: str | None
    score: float | None = Field(description="match weight in the latest link run")
    same_person: bool = Field(description="linked into the same person as the request")
    decision: str | None = Field(description="must_link or cannot_link, when a person decided")


class CandidateDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    b: str = Field(max_length=300, description="the candidate, source:record_id")
    decision: Literal["match", "no_match"]
    reason: str = Field(min_length=1, max_length=2000)


class PersonRecordOut(BaseModel):
    key: str
    source: str
    imported_at: str
    fields: dict[str, str | None]


class StatusClaimOut(BaseModel):
    date: str | None
    status: str
    as_written: str
    source: str
    record: str
    facility: str | None


class PersonOut(BaseModel):
    id: int
    records: list[PersonRecordOut]
    timeline: list[StatusClaimOut]
    conflicts: list[dict[str, list[str]]] = Field(
        description="claims that cannot all be true (released and deceased), with their records"
    )
    name: str | None = Field(description="the fullest name any of the records gives")
    latest_claims: list[StatusClaimOut] = Field(
        description="each source's latest status claim (claims, not facts)"
    )
    requests: list[str] = Field(
        description="references of tracing requests linked into this person (roles that work "
        "on requests only)"
    )


class UnidentifiedIn(BaseModel):
    """Descriptors of a person who cannot say who they are, or of an unidentified body."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["living", "body"]
    sex: str | None = Field(default=None, description="M or F")
    age: str | None = Field(default=None, description="34 or a range such as 25-35")
    height_cm: str | None = None
    marks: str | None = Field(default=None, description="distinguishing marks")
    found_place: str | None = Field(default=None, description="where found or released")
    found_date: str | None = Field(default=None, description="when, ISO, possibly partial")
    facility: str | None = None
    detainee_number: str | None = None
    notes: str | None = None


class UnidentifiedCreated(BaseModel):
    reference: str


class UnidentifiedSummaryOut(BaseModel):
    reference: str
    kind: str
    sex: str | None
    age: str | None
    found_date: str | None
    facility: str | None


class UnidentifiedList(BaseModel):
    items: list[UnidentifiedSummaryOut]
    total: int


class UnidentifiedOut(BaseModel):
    reference: str
    kind: str
    fields: dict[str, str | None]
    extra: dict[str, Any]
    candidates: list[CandidateOut]


class ProblemOut(BaseModel):
    row: int | None
    column: str | None
    reason: str
    severity: str


class ImportOut(BaseModel):
    outcome: str
    file_name: str
    source: str | None
    batch_id: int | None
    rows_total: int
    rows_new: int
    rows_new_version: int
    rows_unchanged: int
    rows_duplicate: int
    rows_quarantined: int
    warnings: int
    errors: int
    message: str | None
    problems: list[ProblemOut]
    #: the import job that ran it (its state: the import page /imports/jobs/{job_id})
    job_id: int | None = None


Cells = dict[str, int | None]


class PersonFiguresOut(BaseModel):
    """Documented persons (the latest link run's persons; without a run, records: ``basis``
    says which) along each dimension.  The rules for conflicting records and status claims
    are in :mod:`athar.domain.person`."""

    basis: str
    link_run: int | None
    persons: int | None
    notes: list[str]
    by_source: Cells
    by_overlap: Cells
    by_facility: Cells
    by_arrest_year: Cells
    by_governorate: Cells
    by_sex: Cells
    by_age_group: Cells
    by_status: Cells
    status_conflicts: Cells
    unaccounted_by_facility: Cells


class StatsOut(BaseModel):
    """Counts only; a count below ``suppressed_below`` is given as ``null`` (and, when it is
    the only one in its table, the next smallest too).  ``estimate`` is the latest recorded
    estimate run (``athar estimate`` on the store): estimates, intervals and settings, never
    recomputed here."""

    suppressed_below: int
    current_records_by_source: Cells
    status_claims: Cells
    tracing_requests_by_status: Cells
    persons: PersonFiguresOut
    estimate: dict[str, Any] | None
    as_of: datetime | None = Field(
        default=None,
        description="when the figures were taken: researchers see figures taken after each link "
        "run or at most ATHAR_FIGURES_REFRESH_HOURS ago; null: live (staff)",
    )
