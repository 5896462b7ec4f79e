"""Every field a record or a form holds, declared once.

One :class:`Field` per field says everything the rest of Athar needs to know about it: its
interchange name (``shared/schema.md``), the ``record`` columns it is stored in (the text as
the source wrote it first, then what is derived from it), its type and vocabulary, its label
(an ``N_`` msgid: the Arabic comes from the web app's catalogue), whether the pair view shows
it, whether it may go to partners, whether it is sensitive, what linkage reads of it and which
forms collect it.  The lists other modules used to write out by hand (interchange columns,
parsed columns, the linkage column map, the pair view, the intake form, the partner export)
are selected from :data:`FIELDS` by the functions below; tests hold the store models, the
migrated schema, the linkage settings and the API schemas to it.

Pure, and imports nothing but :mod:`athar.domain.messages`, so the synthetic-world generator
and the ingest readers can use it without loading the name engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from athar.domain.messages import N_

#: what a field holds: ``key`` (``source``, ``record_id``), ``name`` (a name or name part),
#: ``text`` (free or as-written text), ``date`` (ISO, possibly partial), ``age_range``
#: (``34`` or ``30-35``), ``code`` (a word mapped onto a code of :attr:`Field.vocabulary`, the
#: text kept beside it), ``number``
FieldType = Literal["key", "name", "text", "date", "age_range", "code", "number"]
#: SQL type of a ``record`` column: ``text`` (unbounded), ``string`` (``VARCHAR(length)``),
#: ``integer``
SqlType = Literal["text", "string", "integer"]

#: the public tracing-request form (family members)
TRACING_REQUEST = "tracing_request"
#: a case worker's registration of an unidentified living person or body
UNIDENTIFIED = "unidentified"
#: what a family can tell of the missing person for identification (INTERPOL's antemortem form,
#: as a family can answer it), attached to a tracing request
ANTEMORTEM = "antemortem"
FORMS: tuple[str, ...] = (TRACING_REQUEST, UNIDENTIFIED, ANTEMORTEM)


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the ``record`` table that a field is stored in."""

    name: str
    sql: SqlType = "text"
    #: length of a ``string`` column
    length: int | None = None
    #: ``False``: the source's text, cleaned; ``True``: computed from it (code, precision...)
    derived: bool = False


@dataclass(frozen=True, slots=True)
class Field:
    """One field, declared once."""

    #: the interchange column (``shared/schema.md``); for a form-only field, its form name
    name: str
    type: FieldType
    #: English label, marked for translation
    label: str
    #: a column of the interchange record (else a field that only a form collects)
    interchange: bool = True
    #: ``record`` columns, the source's text first; empty for ``source``/``record_id`` (kept
    #: as bookkeeping columns) and for form-only fields
    columns: tuple[Column, ...] = ()
    #: the vocabulary a ``code`` field is mapped onto (``athar/domain/data``)
    vocabulary: str | None = None
    #: shown side by side in the pair view and on the person page
    pair: bool = False
    #: may go to partners in an interchange export
    exportable: bool = False
    #: encrypted at rest, or free text / contact details that must not leave Athar
    sensitive: bool = False
    #: the linkage feature column it feeds (``settings/interchange.yaml``), if any
    linkage: str | None = None
    #: the ``record`` column the store's linkage reads (``None``: not read for linkage)
    link_column: str | None = None
    #: forms that collect it, each with the field's name in that form
    forms: tuple[tuple[str, str], ...] = ()
    #: the ``record`` column a form's answer is shown back from (default: the text column)
    form_column: str | None = None
    #: where a form-only field is stored (``table.column``)
    stored_in: str | None = None
    #: the repeated group a form-only field belongs to (one answer per repeat), if any
    repeat: str | None = None

    @property
    def text_column(self) -> str:
        """The ``record`` column holding the source's own text (the field's name for keys)."""
        return self.columns[0].name if self.columns else self.name

    @property
    def shown_column(self) -> str:
        """The ``record`` column a form's answer is shown back from."""
        return self.form_column or self.text_column

    def form_name(self, form: str) -> str | None:
        """The field's name in ``form``, or ``None`` when the form does not collect it."""
        return next((name for f, name in self.forms if f == form), None)


def _record(
    name: str,
    type: FieldType,  # noqa: A002 - the declaration's own word
    label: str,
    columns: tuple[Column, ...],
    *,
    vocabulary: str | None = None,
    linkage: str | None = None,
    link_column: str | None = None,
    forms: tuple[str, ...] = (),
    renamed: tuple[tuple[str, str], ...] = (),
    form_column: str | None = None,
    pair: bool = True,
    exportable: bool = True,
    sensitive: bool = False,
) -> Field:
    """A record field: shown in the pair view and exportable unless told otherwise; linkage
    reads its text column unless ``link_column`` says otherwise."""
    return Field(
        name=name,
        type=type,
        label=label,
        columns=columns,
        vocabulary=vocabulary,
        pair=pair,
        exportable=exportable,
        sensitive=sensitive,
        linkage=linkage,
        link_column=link_column or (columns[0].name if linkage else None),
        forms=(*((f, name) for f in forms), *renamed),
        form_column=form_column,
    )


def _asked(name: str, label: str, *, sensitive: bool = False) -> Field:
    """A field only the tracing-request form collects, stored in ``tracing_request``."""
    return Field(
        name=name,
        type="text",
        label=label,
        interchange=False,
        forms=((TRACING_REQUEST, name),),
        sensitive=sensitive,
        stored_in=f"tracing_request.{name}",
    )


def _name(name: str, label: str, linkage: str) -> Field:
    """A name or name part, as written; the tracing-request form asks for it."""
    return _record(name, "name", label, (Column(name),), linkage=linkage, forms=_REQ)


def _date(name: str, label: str, linkage: str, *, year: bool = False, **more: Any) -> Field:
    """A date as written (ISO, possibly partial), its precision and, for a birth, the year."""
    columns: tuple[Column, ...] = (
        Column(name, "string", 10),
        Column(f"{name}_precision", "string", 5, derived=True),
    )
    if year:
        columns = (*columns, Column("birth_year", "integer", derived=True))
    return _record(name, "date", label, columns, linkage=linkage, **more)


def _coded(name: str, label: str, vocabulary: str, text: str, code: Column, **more: Any) -> Field:
    """A word as written (column ``text``) mapped onto a ``vocabulary`` code (column ``code``)."""
    return _record(name, "code", label, (Column(text), code), vocabulary=vocabulary, **more)


def _place(name: str, label: str, **more: Any) -> Field:
    """A town or governorate as written, and its place code."""
    code = Column(f"{name}_code", "string", 32, derived=True)
    return _coded(name, label, "places", name, code, linkage=name, forms=_REQ, **more)


_REQ = (TRACING_REQUEST,)
_BOTH = (TRACING_REQUEST, UNIDENTIFIED)

#: every field, in interchange order (``shared/schema.md``); the tracing-request form's own
#: fields stand where that form asks for them
FIELDS: tuple[Field, ...] = (
    Field("source", "key", N_("Source"), exportable=True),
    Field("record_id", "key", N_("Record"), exportable=True),
    _asked("requester_name", N_("Your name"), sensitive=True),
    _asked("relationship", N_("Your relationship to the missing person")),
    _asked("contact_phone", N_("Phone or WhatsApp number"), sensitive=True),
    _asked("contact_email", N_("Email"), sensitive=True),
    _asked("contact_other", N_("Other way to reach you (address, a trusted person)"), sensitive=True),
    _name("full_name", N_("Full name"), "person"),
    _name("given_name", N_("First name"), "given"),
    _name("father_name", N_("Father's name"), "father"),
    _name("grandfather_name", N_("Grandfather's name"), "grandfather"),
    _name("family_name", N_("Family name"), "family"),
    _name("mother_name", N_("Mother's name"), "mother"),
    _asked("other_names", N_("Other names or spellings, nicknames")),
    # the forms offer the codes themselves (M, F), so a form's answer is shown from the code
    _coded(
        "sex", N_("Sex"), "sexes", "sex_text", Column("sex_code", "string", 1, derived=True),
        linkage="sex", link_column="sex_code", forms=_BOTH, form_column="sex_code",
    ),
    _date("birth_date", N_("Date of birth"), "birth", year=True, forms=_REQ),
    _record(
        "age", "age_range", N_("Age"),
        (
            Column("age_text"),
            Column("age_min", "integer", derived=True),
            Column("age_max", "integer", derived=True),
        ),
        linkage="age", forms=_BOTH,
    ),
    _place("birth_place", N_("Place of birth")),
    _asked("residence_place", N_("Place of residence")),
    _date("arrest_date", N_("Date of arrest"), "arrest", forms=_REQ),
    _place("arrest_place", N_("Place of arrest")),
    _coded(
        "facility", N_("Facility"), "facilities", "facility",
        Column("facility_code", "string", 64, derived=True), linkage="facility", forms=_BOTH,
    ),
    _date(
        "last_seen_date", N_("Last seen"), "last_seen",
        forms=_REQ, renamed=((UNIDENTIFIED, "found_date"),),
    ),
    _asked("circumstances", N_("What happened, in the family's words"), sensitive=True),
    _coded(
        "status", N_("Status"), "statuses", "status_text",
        Column("status_code", "string", 32, derived=True),
    ),
    _record(
        "detainee_number", "text", N_("Detainee number"), (Column("detainee_number"),),
        linkage="detainee_no", forms=(UNIDENTIFIED,),
    ),
    # free text can name witnesses or relatives: never shown side by side, never exported
    _record(
        "notes", "text", N_("Notes"), (Column("notes"),),
        forms=(UNIDENTIFIED,), pair=False, exportable=False, sensitive=True,
    ),
)  # fmt: skip


def _am(name: str, label: str, *, repeat: str | None = None) -> Field:
    """An antemortem answer, kept in the encrypted ``antemortem_record.content``."""
    return Field(
        name=name,
        type="text",
        label=label,
        interchange=False,
        forms=((ANTEMORTEM, name),),
        sensitive=True,
        stored_in="antemortem_record.content",
        repeat=repeat,
    )


#: the antemortem form's answers, in the form's order: who answers, then INTERPOL's antemortem
#: headings a family can answer in plain words, then who can give a reference sample
ANTEMORTEM_FIELDS: tuple[Field, ...] = (
    _am("request_reference", N_("Tracing request reference (T-...)")),
    _am("informant_relationship", N_("Your relationship to the missing person")),
    _am("height", N_("Height (approximately, in cm)")),
    _am("build", N_("Build (thin, medium, heavy)")),
    _am("hair", N_("Hair (colour, length, baldness)")),
    _am("eyes", N_("Eye colour")),
    _am("physical_description", N_("Other features of the body or face")),
    _am("dental_history", N_("Teeth: missing teeth, fillings, crowns, gold or false teeth")),
    _am("dentist", N_("Dentist who treated them (name and town), and when")),
    _am("medical_history", N_("Illnesses and treatment")),
    _am("fractures", N_("Broken bones (which bone, when)")),
    _am("operations", N_("Operations (what, when, where)")),
    _am("implants_prostheses", N_("Implants, plates, pins, artificial limbs or devices")),
    _am("scars_marks", N_("Scars, tattoos, birthmarks and other marks (where on the body)")),
    _am("clothing_at_arrest", N_("Clothing worn when arrested or last seen")),
    _am("belongings_at_arrest", N_("Belongings carried (ring, watch, papers, phone)")),
    _am("donor_name", N_("Relative who can give a reference sample"), repeat="donors"),
    _am("donor_relationship", N_("Their relationship to the missing person"), repeat="donors"),
)

_BY_NAME = {f.name: f for f in FIELDS}


def field(name: str) -> Field:
    """The field called ``name`` (its interchange or form name); ``KeyError`` if none."""
    return _BY_NAME[name]


def interchange_fields() -> tuple[Field, ...]:
    """The interchange record's fields, in the schema's order."""
    return tuple(f for f in FIELDS if f.interchange)


def interchange_columns() -> tuple[str, ...]:
    """The interchange CSV's columns, in the schema's order."""
    return tuple(f.name for f in FIELDS if f.interchange)


def stored_fields() -> tuple[Field, ...]:
    """Fields stored in ``record`` columns of their own (not ``source``/``record_id``)."""
    return tuple(f for f in FIELDS if f.columns)


def record_columns() -> tuple[str, ...]:
    """Every parsed and derived ``record`` column, in table order."""
    return tuple(c.name for f in FIELDS for c in f.columns)


def of_type(*types: FieldType) -> tuple[str, ...]:
    """Interchange columns of fields of these types, in the schema's order."""
    return tuple(f.name for f in FIELDS if f.interchange and f.type in types)


def pair_columns() -> tuple[str, ...]:
    """``record`` columns shown side by side (the source's text of each field), in order."""
    return tuple(f.text_column for f in FIELDS if f.pair)


def linkage_columns() -> dict[str, str]:
    """Interchange column -> the ``record`` column the store's linkage reads it from."""
    return {f.name: f.link_column for f in FIELDS if f.link_column is not None}


def exportable_fields() -> tuple[Field, ...]:
    """Fields that may go to partners, in the schema's order."""
    return tuple(f for f in FIELDS if f.interchange and f.exportable)


def form_fields(form: str) -> tuple[Field, ...]:
    """The fields ``form`` collects, in declaration order."""
    return tuple(f for f in (*FIELDS, *ANTEMORTEM_FIELDS) if f.form_name(form) is not None)


def form_names(form: str) -> tuple[str, ...]:
    """The names ``form`` gives its fields, in declaration order."""
    return tuple(name for f in form_fields(form) if (name := f.form_name(form)) is not None)


def form_record_fields(form: str) -> tuple[Field, ...]:
    """The fields of ``form`` that go into the form's ``record``."""
    return tuple(f for f in form_fields(form) if f.columns)


def labels() -> dict[str, str]:
    """Every ``record`` column (and every field name) -> its field's label (an ``N_`` msgid)."""
    out = {f.name: f.label for f in FIELDS}
    out.update({c.name: f.label for f in FIELDS for c in f.columns})
    return out


__all__ = [
    "ANTEMORTEM",
    "ANTEMORTEM_FIELDS",
    "FIELDS",
    "FORMS",
    "TRACING_REQUEST",
    "UNIDENTIFIED",
    "Column",
    "Field",
    "FieldType",
    "SqlType",
    "exportable_fields",
    "field",
    "form_fields",
    "form_names",
    "form_record_fields",
    "interchange_columns",
    "interchange_fields",
    "labels",
    "linkage_columns",
    "of_type",
    "pair_columns",
    "record_columns",
    "stored_fields",
]
