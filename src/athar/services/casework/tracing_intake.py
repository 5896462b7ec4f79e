"""Checking a family's tracing request before it is stored (pure: no database).

Every problem is collected before failing; messages are English msgids, translated where shown
(the pages) or sent as they are (the API).  The registry's own row parser decides which dates and
ages are valid, so the form accepts exactly what an imported list would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from athar.domain.fields import TRACING_REQUEST, form_names, form_record_fields
from athar.domain.messages import N_
from athar.domain.record import parse_row, unsafe_character
from athar.domain.sources import FAMILY
from athar.errors import InvalidInput
from athar.services.casework.photos import PhotoRefused, clean_photo

FAMILY_SOURCE = FAMILY


#: relationship codes and their labels (translated where shown)
RELATIONSHIPS: tuple[tuple[str, str], ...] = (
    ("parent", N_("Mother or father")),
    ("child", N_("Son or daughter")),
    ("sibling", N_("Brother or sister")),
    ("spouse", N_("Wife or husband")),
    ("relative", N_("Other relative")),
    ("friend", N_("Friend or neighbour")),
    ("other", N_("Other")),
)

#: who, besides Athar's case workers, the family allows the request to be shared with
CONSENT_SCOPES: tuple[tuple[str, str], ...] = (
    ("partners", N_("Partner documentation organisations working with Athar")),
    ("humanitarian", N_("Humanitarian tracing services (such as the Red Cross / Red Crescent)")),
    ("un_missing", N_("The UN Independent Institution on Missing Persons in Syria")),
    ("research", N_("Researchers, for anonymous statistics only (no names, no contact)")),
)

SEXES: tuple[tuple[str, str], ...] = (("M", N_("Male")), ("F", N_("Female")))

#: the form's fields, in the form's order
TEXT_FIELDS: tuple[str, ...] = form_names(TRACING_REQUEST)
#: fields copied into the ``family`` record (interchange column names)
RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in form_record_fields(TRACING_REQUEST))
MAX_SHORT = 200
MAX_LONG = 4000
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")

_PHONE = re.compile(r"^\+?[0-9 ()./-]{6,32}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: the patterns, as the ODK form's constraints repeat them
PHONE_PATTERN = _PHONE.pattern
EMAIL_PATTERN = _EMAIL.pattern


class IntakeInvalid(ValueError, InvalidInput):
    """The intake has problems: ``errors`` maps each field to an (untranslated) message."""

    code = "intake_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class Intake:
    """A validated tracing request, ready to store."""

    values: dict[str, str | None]
    consent: list[str] = field(default_factory=list)
    photo: bytes | None = None
    photo_type: str | None = None


def validate_intake(
    raw: dict[str, Any],
    consent: list[str],
    photo: bytes | None,
    *,
    photo_max_bytes: int,
    photo_max_pixels: int = 16_000_000,
    today: date | None = None,
) -> Intake:
    """Check every field and collect every problem before failing.

    A photo is decoded within ``photo_max_pixels`` and re-encoded without any metadata
    (:func:`athar.services.casework.photos.clean_photo`); what is kept is the re-encoded one.
    """
    errors: dict[str, str] = {}
    values: dict[str, str | None] = {}
    for name in TEXT_FIELDS:
        value = raw.get(name)
        text = str(value).strip() if value is not None else ""
        limit = MAX_LONG if name == "circumstances" else MAX_SHORT
        if len(text) > limit:
            errors[name] = N_("This is too long.")
        elif unsafe_character(text) is not None:  # bidi overrides, C0/C1 controls
            errors[name] = N_("This field contains characters that are not allowed.")
        values[name] = text or None

    if not values["requester_name"]:
        errors["requester_name"] = N_("Please give your name.")
    if values["relationship"] not in {code for code, _ in RELATIONSHIPS}:
        errors["relationship"] = N_("Please choose your relationship.")
    if not (values["contact_phone"] or values["contact_email"] or values["contact_other"]):
        errors["contact_phone"] = N_("Please give at least one way to contact you.")
    if values["contact_phone"] and not _PHONE.match(values["contact_phone"]):
        errors["contact_phone"] = N_("This does not look like a phone number.")
    if values["contact_email"] and not _EMAIL.match(values["contact_email"]):
        errors["contact_email"] = N_("This does not look like an email address.")
    if not any(values[n] for n in ("full_name", "given_name", "family_name", "other_names")):
        errors["full_name"] = N_("Please give at least one name of the missing person.")
    if values["sex"] not in (None, "M", "F"):
        errors["sex"] = N_("Please choose from the list.")

    # Dates and age: the registry's own row parser decides what is valid.
    cells = {"source": FAMILY_SOURCE, "record_id": "check"}
    cells.update({k: v for k in RECORD_FIELDS if (v := values.get(k)) is not None})
    _, issues = parse_row(cells, today or date.today())
    for issue in issues:
        if issue.severity == "error" and issue.column in (
            "birth_date",
            "arrest_date",
            "last_seen_date",
        ):
            errors.setdefault(
                issue.column, N_("This is not a valid date (use 1985, 1985-03 or 1985-03-12).")
            )
        elif issue.severity == "error" and issue.column == "age":
            errors.setdefault("age", N_("Please give an age in years, such as 34 or 30-35."))
        elif issue.severity == "error" and issue.column:
            errors.setdefault(
                issue.column, N_("This field contains characters that are not allowed.")
            )

    allowed = {code for code, _ in CONSENT_SCOPES}
    chosen = sorted(set(consent))
    if any(c not in allowed for c in chosen):
        errors["consent"] = N_("Unknown consent choice.")

    photo_type = None
    clean: bytes | None = None
    if photo:
        if len(photo) > photo_max_bytes:
            errors["photo"] = N_("The photo is too large.")
        else:
            try:
                cleaned = clean_photo(photo, max_pixels=photo_max_pixels)
            except PhotoRefused as refused:
                errors["photo"] = refused.message
            else:
                clean, photo_type = cleaned.data, cleaned.content_type
    if errors:
        raise IntakeInvalid(errors)
    return Intake(values, chosen, clean, photo_type)
