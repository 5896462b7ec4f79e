"""The field declarations (athar.domain.fields) against everything that must agree with them.

The store models and the first migration are written out (typed attributes; history is never
edited), and so are the linkage settings, the interchange schema's documentation and the API
schemas: each test here fails when one of them drifts from the declaration.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

from babel.messages.pofile import read_po
from sqlalchemy import Integer, String, Text, inspect

from athar.domain import fields as F
from athar.domain.record import parse_row
from athar.linkage.spec import load_spec
from athar.services.casework import unidentified
from athar.services.casework.tracing_intake import TEXT_FIELDS
from athar.store import migrate
from athar.store.engine import make_engine
from athar.store.models import Record
from athar.web import schemas
from athar.web.i18n import translations_dir

SCHEMA_MD = Path(__file__).resolve().parents[1].parent / "shared" / "schema.md"
#: ``record`` columns that are bookkeeping, not fields: in table order, before the fields
BOOKKEEPING = (
    "id",
    "source_id",
    "record_id",
    "version",
    "is_current",
    "superseded_by_id",
    "batch_id",
    "row_number",
    "content_hash",
    "raw",
    "extra",
)
_SQL = {"text": Text, "string": String, "integer": Integer}


def _declared() -> list[F.Column]:
    return [c for f in F.FIELDS for c in f.columns]


def test_names_and_columns_are_unique() -> None:
    names = [f.name for f in F.FIELDS]
    assert len(names) == len(set(names))
    columns = [c.name for c in _declared()]
    assert len(columns) == len(set(columns))
    for f in F.FIELDS:
        assert (f.type == "code") == (f.vocabulary is not None), f.name
        assert all(form in F.FORMS for form, _ in f.forms), f.name
        assert f.interchange == (f.stored_in is None), f.name
        assert f.link_column is None or f.link_column in {c.name for c in f.columns}, f.name
        assert f.form_column is None or f.form_column in {c.name for c in f.columns}, f.name
        if f.columns:
            assert not f.columns[0].derived and all(c.derived for c in f.columns[1:]), f.name


def test_record_model_is_the_declaration() -> None:
    """``store.models.Record``: the bookkeeping columns, then every declared column in order."""
    table = Record.__table__
    assert [c.name for c in table.columns] == [*BOOKKEEPING, *F.record_columns()]
    for col in _declared():
        got = table.columns[col.name]
        assert isinstance(got.type, _SQL[col.sql]), col.name
        assert type(got.type) is not String or col.sql == "string", col.name
        assert getattr(got.type, "length", None) == col.length, col.name
        assert got.nullable, col.name


def test_migrated_schema_has_the_declared_columns(empty_db_url: str) -> None:
    """The migrations (the first one is history, never edited) create what is declared."""
    engine = make_engine(empty_db_url)
    try:
        migrate.upgrade(engine)
        got = {c["name"]: c for c in inspect(engine).get_columns("record")}
    finally:
        engine.dispose()
    assert set(got) == {*BOOKKEEPING, *F.record_columns()}
    for col in _declared():
        kind = got[col.name]["type"]
        if col.sql == "integer":
            assert isinstance(kind, Integer), col.name
        else:
            assert isinstance(kind, String), col.name  # TEXT is a String to SQLAlchemy
            assert kind.length == col.length, col.name
        assert got[col.name]["nullable"], col.name


def test_parse_row_fills_exactly_the_declared_columns() -> None:
    cells = {c: "1985" if c.endswith("date") else "x" for c in F.interchange_columns()}
    out, _ = parse_row(cells, date(2024, 1, 1))
    assert set(out) == {*F.of_type("key"), *F.record_columns()}


def test_interchange_schema_document_lists_the_declared_columns() -> None:
    record_table = SCHEMA_MD.read_text(encoding="utf-8").split("\n## ")[0]  # before "## Output"
    documented = re.findall(r"^\| `([a-z_]+)` \|", record_table, re.M)
    assert tuple(documented) == F.interchange_columns()


def test_linkage_settings_read_the_declared_fields() -> None:
    spec = load_spec("interchange")
    assert set(spec.input_columns) == set(F.interchange_columns()) - set(F.of_type("key"))
    features = {f.name: f for f in spec.features}
    person = features["person"]
    linked = {f.name: f.linkage for f in F.FIELDS if f.linkage}
    # every linkage column a field names is a feature, or a name part the person feature makes
    parts = {"given", "father", "grandfather", "family"}
    for name, feature in linked.items():
        assert feature in features or feature in parts, name
        if feature in parts:
            assert name in person.sources, name
    # every interchange column a feature reads is declared as read by linkage
    read = {s for f in spec.features for s in f.sources if s in F.interchange_columns()}
    read |= {f.name for f in spec.features if not f.sources or f.sources == (f.name,)}
    read &= set(F.interchange_columns())
    assert read <= set(linked), read - set(linked)
    assert set(F.linkage_columns()) == set(linked)


def test_api_schemas_are_the_forms() -> None:
    intake = [
        n for n in schemas.TracingRequestCreate.model_fields if n in {f.name for f in F.FIELDS}
    ]
    assert tuple(intake) == TEXT_FIELDS == F.form_names(F.TRACING_REQUEST)
    extra = set(schemas.TracingRequestCreate.model_fields) - set(intake)
    assert extra == {"consent", "photo_base64", "language"}
    assert tuple(schemas.UnidentifiedIn.model_fields) == unidentified.FIELDS
    assert set(F.form_names(F.UNIDENTIFIED)) <= set(unidentified.FIELDS)


def test_every_label_has_an_arabic_translation() -> None:
    with (translations_dir() / "ar" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalogue = read_po(fh, locale="ar")
    for f in F.FIELDS:
        message = catalogue.get(f.label)
        assert message is not None and message.string, f.label


def test_selectors() -> None:
    assert F.field("sex").text_column == "sex_text"
    assert F.field("sex").shown_column == "sex_code"
    assert F.field("last_seen_date").form_name(F.UNIDENTIFIED) == "found_date"
    assert F.field("notes").form_name(F.TRACING_REQUEST) is None
    assert "notes" not in {f.name for f in F.exportable_fields()}
    assert "notes" not in F.pair_columns()
    assert F.labels()["age_min"] == F.labels()["age"] == "Age"


def test_the_declaration_is_pure() -> None:
    """Importing it (and the interchange columns) loads no database, web, frame or name code."""
    code = (
        "import sys, athar.domain.fields, athar.domain.interchange; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "{'sqlalchemy', 'fastapi', 'pandas', 'pydantic', 'yaml'} or m.startswith('athar.names')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_antemortem_answers_are_form_only_sensitive_and_sealed() -> None:
    """The antemortem form's answers are declared like the others but stored only in the
    encrypted ``antemortem_record.content`` (never a record column, never exported)."""
    from athar.security.crypto import encrypted_columns
    from athar.store.casework import AntemortemRecord

    names = [f.name for f in F.ANTEMORTEM_FIELDS]
    assert len(names) == len(set(names)) and not set(names) & {f.name for f in F.FIELDS}
    assert F.form_names(F.ANTEMORTEM) == tuple(names)
    for f in F.ANTEMORTEM_FIELDS:
        assert not f.interchange and not f.columns and not f.exportable and f.sensitive, f.name
        assert f.stored_in == "antemortem_record.content" and f.forms == ((F.ANTEMORTEM, f.name),)
    assert {f.repeat for f in F.ANTEMORTEM_FIELDS} == {None, "donors"}
    sealed = {c.name for c in encrypted_columns(AntemortemRecord.metadata)}
    assert "antemortem_record.content" in sealed
