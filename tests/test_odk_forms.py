"""ODK forms generated from Athar's declarations (athar.services.casework.odk_forms): built as
XLSForms, converted and checked by pyxform, in both languages, encrypted to Athar's key; and a
submission read back against them."""

from __future__ import annotations

import io
from xml.etree import ElementTree as ET

import pytest
from openpyxl import load_workbook
from pyxform.xls2xform import convert

from athar.domain.fields import ANTEMORTEM, ANTEMORTEM_FIELDS, TRACING_REQUEST, form_names
from athar.security.odk import generate_private_key, public_key_b64
from athar.services.casework import odk_forms as O
from athar.services.casework import tracing_intake, unidentified
from athar.web.i18n import load_languages
from odk_collect import submission_xml

XF = "{http://www.w3.org/2002/xforms}"
LANGS = load_languages()


@pytest.fixture(scope="module")
def public_key() -> str:
    return public_key_b64(generate_private_key())


def _translate(code: str, msgid: str) -> str:
    return LANGS[code].gettext(msgid)


def _sheet(xlsx: bytes, name: str) -> list[dict[str, object]]:
    rows = list(load_workbook(io.BytesIO(xlsx))[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


@pytest.mark.parametrize("kind", list(O.KINDS))
def test_each_form_is_a_valid_xlsform_encrypted_to_athars_key(kind: str, public_key: str) -> None:
    form = O.form_definition(kind)
    xlsx = O.build_xlsform(form, public_key=public_key, translate=_translate)
    # pyxform's own conversion and checks, on the workbook a field team uploads
    warnings: list[str] = []
    result = convert(xlsform=io.BytesIO(xlsx), file_type=".xlsx", warnings=warnings)
    assert not warnings, warnings
    xform = ET.fromstring(O.to_xform(xlsx))
    assert xform.find(f".//{XF}submission").get("base64RsaPublicKey") == public_key
    instance = xform.find(f".//{XF}instance")[0]
    assert instance.get("id") == form.form_id and instance.get("version") == form.version
    assert ET.fromstring(result.xform).find(f".//{XF}submission") is not None
    languages = {t.get("lang") for t in xform.iter(f"{XF}translation")}
    assert languages == {"English (en)", "Arabic (ar)"}
    # every label, hint and message is in Arabic as well as English
    survey = _sheet(xlsx, "survey")
    for row in survey:
        for col in ("label", "hint", "required_message", "constraint_message"):
            en, ar = row.get(f"{col}::English (en)"), row.get(f"{col}::Arabic (ar)")
            assert (en is None) == (ar is None), (kind, row["name"], col)
            if en is not None:
                assert ar != en, f"{kind}.{row['name']}: {col} {en!r} has no Arabic translation"


def test_the_request_form_asks_what_the_web_form_asks(public_key: str) -> None:
    form = O.form_definition("request")
    assert form.names() == (*form_names(TRACING_REQUEST), "consent", "photo")
    xlsx = O.build_xlsform(form, public_key=public_key, translate=_translate)
    survey = {r["name"]: r for r in _sheet(xlsx, "survey")}
    assert survey["relationship"]["type"] == "select_one relationships"
    assert survey["relationship"]["required"] == "yes"
    assert survey["consent"]["type"] == "select_multiple consent"
    assert tracing_intake.PHONE_PATTERN in str(survey["contact_phone"]["constraint"])
    assert "${contact_email} = ''" in str(survey["contact_phone"]["required"])
    assert "string-length(.) <= 4000" == survey["circumstances"]["constraint"]
    assert "string-length(.) <= 200" == survey["requester_name"]["constraint"]
    assert "regex(" in str(survey["birth_date"]["constraint"])
    choices = [(r["list_name"], r["name"]) for r in _sheet(xlsx, "choices")]
    assert [c for ln, c in choices if ln == "relationships"] == [
        c for c, _ in tracing_intake.RELATIONSHIPS
    ]
    assert [c for ln, c in choices if ln == "consent"] == [
        c for c, _ in tracing_intake.CONSENT_SCOPES
    ]
    settings = _sheet(xlsx, "settings")[0]
    assert settings["form_id"] == "athar_tracing_request" and settings["public_key"] == public_key


def test_the_unidentified_and_antemortem_forms_follow_their_declarations() -> None:
    u = O.form_definition("unidentified")
    assert u.names() == unidentified.FIELDS
    assert u.choices["kinds"] == unidentified.KINDS
    a = O.form_definition("antemortem")
    assert a.form == ANTEMORTEM
    assert a.names() + a.names("donors") == tuple(f.name for f in ANTEMORTEM_FIELDS)
    assert a.names("donors") == ("donor_name", "donor_relationship")


def test_the_version_changes_with_the_declarations() -> None:
    form = O.form_definition("antemortem")
    changed = O.OdkForm(form.kind, form.form, form.title, form.questions[:-1], form.choices,
                        form.repeats)  # fmt: skip
    assert changed.version != form.version
    assert O.form_definition("antemortem").version == form.version  # stable


def test_a_submission_is_read_back_by_name_with_its_repeats() -> None:
    form = O.form_definition("antemortem")
    xml = submission_xml(
        form.form_id, form.version, "uuid:1",
        "<request_reference>T-1</request_reference><scars_marks>ندبة على الساعد</scars_marks>"
        "<donors><donor_name>أم</donor_name><donor_relationship>parent</donor_relationship>"
        "</donors><donors><donor_name>أخ</donor_name></donors>",
    )  # fmt: skip
    answers = O.read_answers(form, xml, where="s1")
    assert answers["request_reference"] == "T-1" and answers["dentist"] is None
    assert answers["scars_marks"] == "ندبة على الساعد"
    assert answers["donors"] == [
        {"donor_name": "أم", "donor_relationship": "parent"},
        {"donor_name": "أخ", "donor_relationship": None},
    ]


def test_a_submission_whose_fields_no_longer_match_is_refused_naming_them() -> None:
    form = O.form_definition("antemortem")
    xml = submission_xml(
        form.form_id, "old1", "uuid:2",
        "<request_reference>T-1</request_reference><blood_group>O+</blood_group>"
        "<donors><donor_phone>0999</donor_phone></donors>",
    )  # fmt: skip
    with pytest.raises(O.OdkFormMismatch) as err:
        O.read_answers(form, xml, where="in/s2/submission.xml")
    message = str(err.value)
    assert message.startswith("in/s2/submission.xml: ")
    assert "<blood_group>" in message and "<donors/donor_phone>" in message
    assert "version old1" in message and "athar odk form antemortem" in message
    other = submission_xml("athar_unidentified", "v", "uuid:3", "")
    with pytest.raises(O.OdkFormMismatch, match="not 'athar_antemortem'"):
        O.read_answers(form, other, where="s3")


def test_a_record_whose_instance_id_is_not_the_manifests_is_refused() -> None:
    form = O.form_definition("unidentified")
    xml = submission_xml(form.form_id, form.version, "uuid:inner", "<kind>body</kind>")
    assert O.read_answers(form, xml, where="s", instance_id="uuid:inner")["kind"] == "body"
    with pytest.raises(O.OdkFormMismatch, match="instanceID 'uuid:inner' is not the manifest's"):
        O.read_answers(form, xml, where="s", instance_id="uuid:outer")


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(Exception, match="unknown ODK form 'census'"):
        O.form_definition("census")
