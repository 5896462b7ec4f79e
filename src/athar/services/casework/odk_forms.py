"""ODK forms generated from Athar's own field declarations, and reading their submissions.

Each Athar form that a field team can fill in offline (a family's tracing request, a case
worker's registration of an unidentified person or body, a family's antemortem interview) is
described once here as ODK questions, from :mod:`athar.domain.fields` and the web forms' own
choices and limits (:mod:`.tracing_intake`, :mod:`.unidentified`, :mod:`.antemortem`): the
same names, the same choices, the same constraints.  :func:`build_xlsform` writes it as an
XLSForm with English and Arabic labels and the project's public key (so ODK Collect encrypts
every submission on the phone), and :func:`to_xform` turns that workbook into the XForm XML
through pyxform, which checks it.

:func:`read_answers` reads a decrypted submission back into the values the web form's
service takes, and refuses one whose elements no longer match the declarations.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from defusedxml import ElementTree as SafeET
from openpyxl import Workbook

from athar.domain.fields import (
    ANTEMORTEM,
    ANTEMORTEM_FIELDS,
    TRACING_REQUEST,
    UNIDENTIFIED,
    form_fields,
)
from athar.domain.fields import field as declared
from athar.domain.messages import N_
from athar.errors import Failed, InvalidInput
from athar.services.casework import antemortem, tracing_intake, unidentified

#: ``athar odk form KIND``: the kinds, and the Athar form each one is
KINDS: dict[str, str] = {
    "request": TRACING_REQUEST,
    "unidentified": UNIDENTIFIED,
    "antemortem": ANTEMORTEM,
}
#: the XLSForm's language columns
LANGUAGES: tuple[tuple[str, str], ...] = (("en", "English (en)"), ("ar", "Arabic (ar)"))
DATE_MESSAGE = N_("This is not a valid date (use 1985, 1985-03 or 1985-03-12).")
AGE_MESSAGE = N_("Please give an age in years, such as 34 or 30-35.")
TOO_LONG = N_("This is too long.")
CHOOSE = N_("Please choose from the list.")
_DATE_RE = "^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"
_AGE_RE = "^[0-9]{1,3}( ?- ?[0-9]{1,3})?$"


class OdkFormMismatch(InvalidInput):
    """A submission's fields do not match Athar's current declarations of its form."""

    code = "odk_form_mismatch"


class OdkFormInvalid(Failed):
    """pyxform refused the generated form (a bug in the declarations, never the user's)."""

    code = "odk_form_invalid"


@dataclass(frozen=True)
class Question:
    """One ODK question (a row of the XLSForm's ``survey`` sheet)."""

    name: str
    type: str
    label: str
    required: str | None = None
    required_message: str | None = None
    constraint: str | None = None
    constraint_message: str | None = None
    hint: str | None = None
    #: the repeated group it belongs to
    repeat: str | None = None
    #: XLSForm ``parameters`` (``max-pixels=1600``)
    parameters: str | None = None


@dataclass(frozen=True)
class OdkForm:
    """An Athar form as ODK questions, with its choice lists."""

    kind: str
    form: str
    title: str
    questions: tuple[Question, ...]
    choices: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    #: the repeated groups, with their labels
    repeats: dict[str, str] = field(default_factory=dict)

    @property
    def form_id(self) -> str:
        return f"athar_{self.form}"

    @property
    def version(self) -> str:
        """Changes whenever a question, choice or constraint does (the digest of them all)."""
        doc = [asdict(q) for q in self.questions], self.choices, self.repeats
        digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode("utf-8")).hexdigest()
        return digest[:12]

    def names(self, repeat: str | None = None) -> tuple[str, ...]:
        return tuple(q.name for q in self.questions if q.repeat == repeat)


def _longer_than(n: int) -> str:
    return f"string-length(.) <= {n}"


def _text(name: str, label: str, limit: int, **more: Any) -> Question:
    return Question(name, "text", label, constraint=_longer_than(limit),
                    constraint_message=TOO_LONG, **more)  # fmt: skip


def _date(name: str, label: str) -> Question:
    return Question(
        name, "text", label, constraint=f"regex(., '{_DATE_RE}')",
        constraint_message=DATE_MESSAGE, hint=N_("1985, 1985-03 or 1985-03-12"),
    )  # fmt: skip


def _age(name: str, label: str) -> Question:
    return Question(
        name, "text", label, constraint=f"regex(., '{_AGE_RE}')", constraint_message=AGE_MESSAGE
    )


def _request() -> OdkForm:
    ti = tracing_intake
    none_of = " and ".join
    questions: list[Question] = []
    for f in form_fields(TRACING_REQUEST):
        name = f.form_name(TRACING_REQUEST) or f.name
        limit = ti.MAX_LONG if name == "circumstances" else ti.MAX_SHORT
        if name == "relationship":
            q = Question(name, "select_one relationships", f.label, required="yes",
                         required_message=N_("Please choose your relationship."))  # fmt: skip
        elif name == "sex":
            q = Question(name, "select_one sexes", f.label)
        elif f.type == "date":
            q = _date(name, f.label)
        elif f.type == "age_range":
            q = _age(name, f.label)
        elif name == "requester_name":
            q = _text(name, f.label, limit, required="yes",
                      required_message=N_("Please give your name."))  # fmt: skip
        elif name == "contact_phone":
            q = Question(
                name, "text", f.label,
                required=none_of(f"${{{o}}} = ''" for o in ("contact_email", "contact_other")),
                required_message=N_("Please give at least one way to contact you."),
                constraint=f"regex(., '{ti.PHONE_PATTERN}')",
                constraint_message=N_("This does not look like a phone number."),
            )  # fmt: skip
        elif name == "contact_email":
            q = Question(
                name,
                "text",
                f.label,
                constraint=f"regex(., '{ti.EMAIL_PATTERN}')",
                constraint_message=N_("This does not look like an email address."),
            )
        elif name == "full_name":
            q = _text(
                name, f.label, limit,
                required=none_of(
                    f"${{{o}}} = ''" for o in ("given_name", "family_name", "other_names")
                ),
                required_message=N_("Please give at least one name of the missing person."),
            )  # fmt: skip
        else:
            q = _text(name, f.label, limit)
        questions.append(q)
    questions.append(Question("consent", "select_multiple consent", N_("Who may see this request")))
    # Collect shrinks the photo to this size, under the web form's limit on the photo's bytes
    questions.append(
        Question("photo", "image", N_("Photo (optional)"), parameters="max-pixels=1600")
    )
    return OdkForm(
        "request", TRACING_REQUEST, N_("Ask about a missing person"), tuple(questions),
        {"relationships": ti.RELATIONSHIPS, "sexes": ti.SEXES, "consent": ti.CONSENT_SCOPES},
    )  # fmt: skip


#: labels of the descriptors the registration form asks that are not record fields
_UNIDENTIFIED_LABELS = {
    "kind": N_("Who"),
    "age": N_("Age or age range"),
    "height_cm": N_("Height (cm)"),
    "marks": N_("Distinguishing marks"),
    "found_place": N_("Where found or released"),
    "found_date": N_("When"),
    "notes": N_("Other notes"),
}


def _unidentified() -> OdkForm:
    questions: list[Question] = []
    for name in unidentified.FIELDS:
        label = _UNIDENTIFIED_LABELS.get(name) or declared(name).label
        limit = 2000 if name in ("marks", "notes") else 200
        if name == "kind":
            q = Question(name, "select_one kinds", label, required="yes",
                         required_message=CHOOSE)  # fmt: skip
        elif name == "sex":
            q = Question(name, "select_one sexes", label)
        elif name == "age":
            q = _age(name, label)
        elif name == "found_date":
            q = _date(name, label)
        elif name == "height_cm":
            q = Question(
                name,
                "integer",
                label,
                constraint=". >= 40 and . <= 250",
                constraint_message=N_("Please give a height in centimetres, such as 172."),
            )
        else:
            q = _text(name, label, limit)
        questions.append(q)
    return OdkForm(
        "unidentified", UNIDENTIFIED, N_("Register an unidentified person or body"),
        tuple(questions), {"kinds": unidentified.KINDS, "sexes": tracing_intake.SEXES},
    )  # fmt: skip


def _antemortem() -> OdkForm:
    questions: list[Question] = []
    for f in ANTEMORTEM_FIELDS:
        limit = antemortem.limit(f.name)
        if f.name in ("informant_relationship", "donor_relationship"):
            q = Question(f.name, "select_one relationships", f.label, repeat=f.repeat)
        elif f.name == "request_reference":
            q = _text(
                f.name,
                f.label,
                limit,
                required="yes",
                required_message=N_("Please give the tracing request's reference."),
            )
        else:
            q = _text(f.name, f.label, limit, repeat=f.repeat)
        questions.append(q)
    return OdkForm(
        "antemortem", ANTEMORTEM, N_("What the family can tell for identification"),
        tuple(questions), {"relationships": tracing_intake.RELATIONSHIPS},
        repeats={"donors": N_("Relatives who can give a reference sample (DNA)")},
    )  # fmt: skip


def form_definition(kind: str) -> OdkForm:
    """The ODK form of ``kind`` (``request``, ``unidentified``, ``antemortem``)."""
    builders: dict[str, Callable[[], OdkForm]] = {
        "request": _request,
        "unidentified": _unidentified,
        "antemortem": _antemortem,
    }
    if kind not in builders:
        raise InvalidInput(f"unknown ODK form {kind!r}: choose one of {', '.join(KINDS)}")
    return builders[kind]()


def form_for_id(form_id: str) -> OdkForm | None:
    """The form whose ODK form id is ``form_id``, if it is one of Athar's."""
    return next((f for k in KINDS if (f := form_definition(k)).form_id == form_id), None)


Translate = Callable[[str, str], str]


def build_xlsform(form: OdkForm, *, public_key: str, translate: Translate) -> bytes:
    """The XLSForm workbook (``.xlsx`` bytes): ``translate(language, msgid)`` gives labels."""

    def labels(msgid: str | None) -> list[str | None]:
        return [translate(code, msgid) if msgid else None for code, _ in LANGUAGES]

    def cols(prefix: str) -> list[str]:
        return [f"{prefix}::{name}" for _, name in LANGUAGES]

    book = Workbook()
    survey = book.active
    assert survey is not None
    survey.title = "survey"
    survey.append(
        ["type", "name", *cols("label"), *cols("hint"), "required", *cols("required_message"),
         "constraint", *cols("constraint_message"), "parameters"]
    )  # fmt: skip
    open_repeat: str | None = None
    for q in form.questions:
        if q.repeat != open_repeat:
            if open_repeat is not None:
                survey.append(["end_repeat", open_repeat])
            if q.repeat is not None:
                survey.append(["begin_repeat", q.repeat, *labels(form.repeats[q.repeat])])
            open_repeat = q.repeat
        survey.append(
            [q.type, q.name, *labels(q.label), *labels(q.hint), q.required,
             *labels(q.required_message), q.constraint, *labels(q.constraint_message),
             q.parameters]
        )  # fmt: skip
    if open_repeat is not None:
        survey.append(["end_repeat", open_repeat])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", *cols("label")])
    for list_name, options in form.choices.items():
        for code, label in options:
            choices.append([list_name, code, *labels(label)])
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id", "version", "public_key", "default_language"])
    settings.append(
        [translate("ar", form.title), form.form_id, form.version, public_key, LANGUAGES[1][1]]
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_xform(xlsform: bytes) -> str:
    """The XForm XML of an XLSForm workbook, converted and checked by pyxform."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    try:
        result = convert(xlsform=io.BytesIO(xlsform), file_type=".xlsx", pretty_print=True)
    except PyXFormError as exc:
        raise OdkFormInvalid(f"pyxform refused the generated form: {exc}") from None
    return str(result.xform)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_answers(
    form: OdkForm, xml: bytes, *, where: str, instance_id: str | None = None
) -> dict[str, Any]:
    """The answers of a decrypted submission of ``form``, by question name; a repeat's
    answers are a list of mappings under the repeat's name.  Refuses an element that is not a
    declared question (the form no longer matches Athar's declarations) naming it, and, given
    the manifest's ``instance_id``, a record whose own instance id differs."""
    try:
        root = SafeET.fromstring(xml)
    except Exception as exc:
        raise OdkFormMismatch(f"{where}: the decrypted submission is not XML ({exc})") from None
    if root.get("id") != form.form_id:
        raise OdkFormMismatch(
            f"{where}: the submission is of form {root.get('id')!r}, not {form.form_id!r}"
        )
    if instance_id is not None:
        own = next(
            (
                (el.text or "").strip()
                for el in root.iter()
                if _local(el.tag) == "instanceID" and el is not root
            ),
            None,
        )
        if own != instance_id:
            raise OdkFormMismatch(
                f"{where}: the decrypted record's instanceID {own!r} is not the manifest's "
                f"{instance_id!r}"
            )
    single = set(form.names())
    answers: dict[str, Any] = {n: None for n in single}
    answers.update({r: [] for r in form.repeats})
    stale: list[str] = []
    for el in root:
        name = _local(el.tag)
        if name == "meta":
            continue
        if name in form.repeats:
            inner = set(form.names(name))
            item: dict[str, str | None] = {n: None for n in inner}
            for sub in el:
                sub_name = _local(sub.tag)
                if sub_name not in inner:
                    stale.append(f"{name}/{sub_name}")
                else:
                    item[sub_name] = (sub.text or "").strip() or None
            answers[name].append(item)
        elif name in single:
            answers[name] = (el.text or "").strip() or None
        else:
            stale.append(name)
    if stale:
        version = root.get("version") or "none"
        raise OdkFormMismatch(
            f"{where}: element(s) {', '.join(f'<{s}>' for s in stale)} of form {form.form_id} "
            f"(version {version}) are not fields of Athar's {form.kind} form (version "
            f"{form.version}): the form no longer matches Athar's declarations; download it "
            f"again with `athar odk form {form.kind}` and check these submissions by hand"
        )
    return answers
