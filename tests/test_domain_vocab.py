"""Domain vocabulary, dates and row parsing (pure: no database)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from athar.domain import vocab
from athar.domain.dates import DateError, parse_age, parse_date
from athar.domain.normalize import match_key
from athar.domain.record import ERROR, WARNING, parse_row

TODAY = date(2025, 6, 1)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("missing", "missing"),
        ("Forcibly Disappeared", "missing"),
        ("مختفي قسريا", "missing"),
        ("مختفى قسرياً", "missing"),  # alef maqsura + tanween
        ("مـخـتـفي قسريا", "missing"),  # tatweel
        ("معتقل", "detained"),
        ("أفرج عنه", "released"),
        ("افرج عنه", "released"),  # hamza dropped
        ("إفرج عنه", "released"),  # other alef form
        ("Died in detention", "deceased"),
        ("جثة مجهولة الهوية", "unidentified_body"),
        ("جثه مجهوله الهويه", "unidentified_body"),  # taa marbuta written as haa
        ("unable to state name", "unidentified_living"),
    ],
)
def test_status_words_map_with_orthographic_variants(text: str, code: str) -> None:
    m = vocab.map_status(text)
    assert m.code == code
    assert m.text == text  # the original is kept beside the code


@pytest.mark.parametrize(
    ("text", "code"),
    [("M", "M"), ("male", "M"), ("ذكر", "M"), ("أنثى", "F"), ("انثى", "F"), ("Female", "F")],
)
def test_sex_words(text: str, code: str) -> None:
    assert vocab.map_sex(text).code == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("حمص", "homs"),
        ("Hims", "homs"),
        ("حماه", "hama"),
        ("حماة", "hama"),
        ("Al-Hasakah", "hasakah"),
        ("الحسكة", "hasakah"),
        ("Deir ez-Zor", "deir_ez_zor"),
        ("ادلب", "idlib"),
        ("إدلب", "idlib"),
    ],
)
def test_governorates(text: str, code: str) -> None:
    assert vocab.map_place(text).code == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Saydnaya Prison", "sednaya"),
        ("سجن صيدنايا العسكري", "sednaya"),
        ("سجن صيدنايا", "sednaya"),
        ("الفرع 215", "branch_215"),
        ("فرع ٢١٥", "branch_215"),  # Arabic-Indic digits
        ("Palestine Branch", "branch_235"),
        ("سجن حماه المركزي", "hama_central"),
    ],
)
def test_facilities(text: str, code: str) -> None:
    assert vocab.map_facility(text).code == code


def test_unknown_words_keep_their_text() -> None:
    m = vocab.map_status("somewhere else")
    assert m.code is None and m.text == "somewhere else" and not m.known


def test_data_files_load_without_conflicts() -> None:
    # Each lexicon raises VocabularyError if one word maps to two codes.
    assert set(vocab.statuses().codes) == set(vocab.STATUS_CODES)
    assert len(vocab.facility_list()) >= 10
    assert len(vocab.governorate_list()) == 14
    for f in vocab.facility_list():
        assert f.governorate is None or vocab.map_place(f.governorate).code == f.governorate


def test_conflicting_vocabulary_is_refused() -> None:
    with pytest.raises(vocab.VocabularyError):
        vocab.Lexicon("x", {"a": ["مختفي"], "b": ["مختفى"]})


@given(st.text(max_size=40))
def test_match_key_is_idempotent(s: str) -> None:
    assert match_key(match_key(s)) == match_key(s)


@pytest.mark.parametrize(
    ("text", "iso", "precision"),
    [
        ("1985", "1985", "year"),
        ("1985-03", "1985-03", "month"),
        ("1985-3-5", "1985-03-05", "day"),
        ("١٩٨٥-٠٣-١٢", "1985-03-12", "day"),
        ("1985-03-12 00:00:00", "1985-03-12", "day"),
    ],
)
def test_partial_dates(text: str, iso: str, precision: str) -> None:
    d = parse_date(text, TODAY)
    assert (d.iso(), d.precision) == (iso, precision)


@pytest.mark.parametrize(
    "text", ["1985-02-30", "1985-13", "12/03/1985", "1850", "2031-01-01", "soon", "85"]
)
def test_bad_dates_say_why(text: str) -> None:
    with pytest.raises(DateError):
        parse_date(text, TODAY)


def test_day_first_dates_with_mapping_order() -> None:
    assert parse_date("12/03/1985", TODAY, "dmy").iso() == "1985-03-12"
    assert parse_date("03/12/1985", TODAY, "mdy").iso() == "1985-03-12"
    assert parse_date("03/1985", TODAY, "dmy").iso() == "1985-03"


def test_ages() -> None:
    assert parse_age("34") == (34, 34)
    assert parse_age("25-35") == (25, 35)
    assert parse_age("٣٠ - ٤٠") == (30, 40)
    for bad in ("-3", "40-30", "130", "about 30"):
        with pytest.raises(DateError):
            parse_age(bad)


def test_parse_row_errors_and_warnings() -> None:
    parsed, issues = parse_row(
        {
            "source": "ngo",
            "record_id": "1",
            "sex": "unknown-word",
            "status": "??",
            "birth_date": "1990",
            "arrest_date": "1980",
            "age": "200",
        },
        TODAY,
    )
    by_col = {(i.column, i.severity) for i in issues}
    assert ("sex", WARNING) in by_col and ("status", WARNING) in by_col
    assert ("age", ERROR) in by_col
    assert ("birth_date", WARNING) in by_col  # born after arrest: a warning, kept
    assert parsed["sex_text"] == "unknown-word" and parsed["sex_code"] is None


def test_parse_row_requires_source_and_record_id() -> None:
    _, issues = parse_row({}, TODAY)
    assert {(i.column, i.severity) for i in issues} == {
        ("source", ERROR),
        ("record_id", ERROR),
    }


def test_record_without_name_is_valid() -> None:
    parsed, issues = parse_row(
        {"source": "morgue", "record_id": "B-1", "status": "unidentified body"}, TODAY
    )
    assert issues == [] and parsed["status_code"] == "unidentified_body"


def test_control_characters_are_errors() -> None:
    _, issues = parse_row({"source": "s", "record_id": "1", "notes": "a\x00b"}, TODAY)
    assert [(i.column, i.severity) for i in issues] == [("notes", ERROR)]


def test_blank_cells_are_unknown() -> None:
    parsed, issues = parse_row({"source": "", "record_id": "  ", "given_name": " \t"}, TODAY)
    assert parsed["source"] is None and parsed["record_id"] is None
    assert parsed["given_name"] is None
    assert {i.column for i in issues} == {"source", "record_id"}


def test_whitespace_is_tidied_in_parsed_fields() -> None:
    parsed, _ = parse_row({"source": "s", "record_id": "1", "notes": "a\r\n  b"}, TODAY)
    assert parsed["notes"] == "a b"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Daraya", "rif_dimashq"),
        ("داريا", "rif_dimashq"),
        ("Darayya", "rif_dimashq"),
        ("دوما", "rif_dimashq"),
        ("Talbiseh", "homs"),
        ("تلبيسة", "homs"),
    ],
)
def test_towns_map_to_their_governorate(text: str, code: str) -> None:
    mapped = vocab.map_place(text)
    assert mapped.code == code
    assert mapped.text == text


def test_an_unknown_place_keeps_its_text_without_a_code() -> None:
    mapped = vocab.map_place("Atlantis")
    assert mapped.code is None and mapped.text == "Atlantis"


#: feminine and plural status words (issue 14: a woman's record lost its status claim)
FEMININE_AND_PLURAL = [
    ("معتقلة", "detained"),
    ("محتجزة", "detained"),
    ("موقوفة", "detained"),
    ("معتقلون", "detained"),
    ("معتقلين", "detained"),
    ("معتقلات", "detained"),
    ("مفقودة", "missing"),
    ("مفقودون", "missing"),
    ("مفقودين", "missing"),
    ("مختفية قسرياً", "missing"),
    ("مختفين قسريا", "missing"),
    ("مجهولة المصير", "missing"),
    ("مفرج عنها", "released"),
    ("أفرج عنهم", "released"),
    ("متوفاة", "deceased"),
    ("متوفيه", "deceased"),
    ("توفيت", "deceased"),
    ("توفيت في المعتقل", "deceased"),
    ("أعدمت", "deceased"),
    ("مجهولة الهوية", "unidentified_living"),
    ("جثث", "unidentified_body"),
]


@pytest.mark.parametrize(("text", "code"), FEMININE_AND_PLURAL)
def test_feminine_and_plural_status_words_keep_their_claim(text: str, code: str) -> None:
    parsed, issues = parse_row(
        {"source": "ngo", "record_id": "1", "sex": "أنثى", "status": text}, TODAY
    )
    assert [i for i in issues if i.column == "status"] == []
    assert (parsed["status_text"], parsed["status_code"]) == (text, code)
