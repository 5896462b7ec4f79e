"""Concrete tests of the name engine: every example in issue 3, and the building blocks."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from athar.names import (
    NameLevel,
    align,
    canonical,
    canonical_place,
    compare,
    normalize,
    parse_name,
    phonetic_key,
    place_key,
)

DOMAIN_DATA = Path(__file__).resolve().parents[1] / "src" / "athar" / "domain" / "data"

SIX_FORMS = [
    "محمد أحمد الحلبي",
    "محمد احمد حلبي",
    "AL-HALABI, Mohammad Ahmad",
    "Mhd Ahmed Halabi",
    "Muhammad al-Halabi",
    "محمد احمد الحلبى",
]


# --- the examples -------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), list(itertools.combinations(SIX_FORMS, 2)))
def test_six_forms_of_one_man_meet(a: str, b: str) -> None:
    result = compare(a, b)
    assert result.level >= NameLevel.CANONICAL, (a, b, result)


@pytest.mark.parametrize("form", SIX_FORMS)
def test_six_forms_parse_to_muhammad_halabi(form: str) -> None:
    parsed = parse_name(form)
    assert parsed.given == "Muhammad"
    assert parsed.family == "Halabi"
    assert parsed.father in ("Ahmad", None)


@pytest.mark.parametrize(
    "form",
    [
        "عبدالرحمن",
        "عبد الرحمن",
        "Abd al-Rahman",
        "Abdulrahman",
        "Abdel Rahman",
        "Abd-ur-Rahman",
        "Abdurrahman",
        "ABDEL-RAHMAN",
    ],
)
def test_abd_al_rahman_is_one_name(form: str) -> None:
    assert canonical(form) == "Abd al-Rahman"
    assert phonetic_key(form) == phonetic_key("عبدالرحمن")
    parsed = parse_name(form)
    assert parsed.tokens == ("Abd al-Rahman",)


def test_abd_al_rahman_forms_compare_equal() -> None:
    forms = ["عبدالرحمن", "Abd al-Rahman", "Abdulrahman", "Abdel Rahman"]
    for a, b in itertools.combinations(forms, 2):
        assert compare(a, b).level >= NameLevel.CANONICAL


@pytest.mark.parametrize(
    "full",
    ["Abu Zeid", "Mohammad Abu Zeid", "Khaled Ahmad Abou Zeid", "محمد أبو زيد", "Ahmad Abuzeid"],
)
def test_abu_zeid_is_a_family_name(full: str) -> None:
    parsed = parse_name(full)
    assert parsed.family == "Abu Zayd"


@pytest.mark.parametrize(
    "full",
    [
        "Nour al-Din",
        "Nour al-Din Ahmad",
        "Nureddin Ahmad",
        "نور الدين أحمد",
        "نورالدين أحمد",
        "Nour Eddine Ahmad",
    ],
)
def test_nour_al_din_is_one_given_name(full: str) -> None:
    parsed = parse_name(full)
    assert parsed.given == "Nur al-Din"
    assert parsed.tokens[0] == "Nur al-Din"


@pytest.mark.parametrize(
    ("arabic", "latin"),
    [("محمد", "Mohamed"), ("خالد", "Khaled"), ("عائشة", "Aicha"), ("قاسم", "Kassem")],
)
def test_cross_script_pairs_meet(arabic: str, latin: str) -> None:
    assert canonical(arabic) == canonical(latin)
    assert phonetic_key(arabic) == phonetic_key(latin)
    assert compare(arabic, latin).level == NameLevel.CANONICAL


@pytest.mark.parametrize(
    "group",
    [
        ["حمص", "Homs", "Hims"],
        ["Deir ez-Zor", "Deir al-Zour", "دير الزور", "ديرالزور"],
        ["Saydnaya", "Sednaya", "صيدنايا"],
        ["Branch 215", "فرع 215", "الفرع 215"],
    ],
)
def test_places_meet(group: list[str]) -> None:
    keys = {place_key(p) for p in group}
    assert len(keys) == 1, {p: place_key(p) for p in group}
    assert len({canonical_place(p) for p in group}) == 1


def test_facility_name_in_both_scripts() -> None:
    assert canonical_place("سجن صيدنايا العسكري") == "Sednaya Military Prison"
    assert place_key("سجن صيدنايا العسكري") == place_key("Sednaya Military Prison")
    assert place_key("Branch 215") != place_key("Branch 227")


def _yaml(name: str) -> list[dict[str, object]]:
    data = yaml.safe_load((DOMAIN_DATA / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def test_governorate_spellings_meet() -> None:
    """Every spelling of each governorate in the domain vocabulary meets its English name,
    except a classical name (Emesa), a spelling that writes the taa marbuta as t (Hamat), and
    a spelling that adds the word "city"."""
    exceptions = {"Emesa", "Hamat", "مدينة دمشق"}
    for gov in _yaml("governorates"):
        target = place_key(str(gov["en"]))
        for alias in [gov["ar"], *gov["aliases"]]:  # type: ignore[misc]
            if alias in exceptions:
                continue
            assert place_key(str(alias)) == target, (gov["code"], alias)


def test_facility_spellings_share_the_place_word() -> None:
    by_code = {f["code"]: f for f in _yaml("facilities")}
    for code, word in [("sednaya", "Sednaya"), ("tadmur", "Tadmur"), ("mezzeh_airforce", "Mezzeh")]:
        fac = by_code[code]
        key = place_key(word)
        with_word = [
            a for a in [fac["en"], fac["ar"], *fac["aliases"]] if key in place_key(str(a)).split()
        ]  # type: ignore[misc]
        assert len(with_word) >= 4, (code, with_word)
    for code in (
        "branch_215",
        "branch_227",
        "branch_235",
        "branch_248",
        "branch_251",
        "branch_285",
    ):
        number = code.split("_")[1]
        fac = by_code[code]
        for alias in fac["aliases"]:  # type: ignore[union-attr]
            if number in str(alias) and len(str(alias).split()) == 2:
                assert place_key(str(alias)) == place_key(f"Branch {number}"), alias


# --- normalisation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("أحمد", "احمد"),
        ("إبراهيم", "ابراهيم"),
        ("آمنة", "امنه"),
        ("فاطمة", "فاطمه"),
        ("مصطفى", "مصطفي"),
        ("مُحَمَّد", "محمد"),
        ("محـــمد", "محمد"),
        ("مؤيد", "مويد"),
        ("عائشة", "عايشه"),
        ("کریم", "كريم"),  # Persian kaf and yeh
        ("٢٠١٣", "2013"),
        ("۱۲", "12"),
        ("Sa'id", "said"),
        ("Sa`id", "said"),
        ("Saʿīd", "said"),
        ("Saʿid", "said"),
        ("  MUHAMMAD   al-Halabi ", "muhammad al halabi"),
        ("Alhalabi", "al halabi"),
        ("Albert", "albert"),
        ("Alwan", "alwan"),
        ("Ali", "ali"),
        ("Zoë Müller-Lüdenscheidt", "zoe muller ludenscheidt"),
        ("HALABI,Mohammad", "halabi, mohammad"),
    ],
)
def test_normalize_examples(raw: str, expected: str) -> None:
    assert normalize(raw) == expected
    assert normalize(expected) == expected


# --- parsing --------------------------------------------------------------------------------


def test_parse_bin_ibn_connectors() -> None:
    p = parse_name("Muhammad bin Ahmad bin Ali")
    assert (p.given, p.father, p.grandfather, p.family) == ("Muhammad", "Ahmad", "Ali", None)
    q = parse_name("محمد بن أحمد بن علي")
    assert (q.given, q.father, q.grandfather) == ("Muhammad", "Ahmad", "Ali")
    r = parse_name("Fatima bint Khalid")
    assert (r.given, r.father) == ("Fatima", "Khalid")


def test_parse_inverted_form() -> None:
    p = parse_name("AL-KHATIB, Omar Yusuf Ali")
    assert p.inverted
    assert (p.given, p.father, p.grandfather, p.family) == ("Umar", "Yusuf", "Ali", "Khatib")


def test_parse_four_parts() -> None:
    p = parse_name("Omar Yusuf Ali al-Khatib")
    assert (p.given, p.father, p.grandfather, p.family) == ("Umar", "Yusuf", "Ali", "Khatib")
    assert p.confidence >= 0.8


def test_parse_abbreviations() -> None:
    for form in ("Mhd Ahmad", "M. Ahmad", "Mohd Ahmad", "م. أحمد"):
        assert parse_name(form).given == "Muhammad", form


def test_parse_confidence_reflects_ambiguity() -> None:
    ambiguous = parse_name("Ahmad Khalid Hasan")  # no family marker: three given names?
    marked = parse_name("Ahmad Khalid al-Hasan")
    assert ambiguous.confidence < marked.confidence
    assert marked.family == "Hasan"
    assert 0.0 <= ambiguous.confidence <= 1.0


def test_parse_empty() -> None:
    p = parse_name("")
    assert p.given is None and p.family is None and p.confidence == 0.0


# --- comparison levels ------------------------------------------------------------------------


def test_compare_levels() -> None:
    assert compare("محمد", "مُحَمَّد").level == NameLevel.EXACT
    assert compare("Ahmad", "Ahmed").level == NameLevel.CANONICAL
    assert compare("Mahmoud", "Muhammad").level == NameLevel.PHONETIC
    assert compare("Ghandour", "Ghandouri").level >= NameLevel.CLOSE
    assert compare("Omar", "Khalid").level == NameLevel.DIFFERENT
    assert compare("", "Omar").level == NameLevel.DIFFERENT


def test_level_order_is_usable_as_a_number() -> None:
    assert (
        NameLevel.DIFFERENT
        < NameLevel.CLOSE
        < NameLevel.PHONETIC
        < NameLevel.CANONICAL
        < NameLevel.EXACT
    )
    assert int(NameLevel.EXACT) == 4


def test_full_names_with_a_conflicting_part_differ() -> None:
    assert compare("Muhammad Ahmad Halabi", "Muhammad Khalid Halabi").level == NameLevel.DIFFERENT
    assert compare("Muhammad Ahmad", "Muhammad Khalid Halabi").level == NameLevel.DIFFERENT


def test_align_leaves_a_missing_father_unmatched() -> None:
    rows = align("Muhammad Ahmad al-Halabi", "محمد الحلبي")
    matched = [(r.a, r.b) for r in rows if r.a and r.b]
    assert matched == [("Muhammad", "Muhammad"), ("Halabi", "Halabi")]
    assert [r.a for r in rows if r.b is None] == ["Ahmad"]


def test_align_turns_an_inverted_name_round() -> None:
    rows = align("HALABI, Mohammad Ahmad", "Muhammad Ahmad Halabi")
    assert all(r.level >= NameLevel.CANONICAL for r in rows)


# --- canonical and key details -----------------------------------------------------------------


def test_article_does_not_matter() -> None:
    for form in ("al-Halabi", "Al Halabi", "Alhalabi", "el-Halabi", "الحلبي", "Halabi"):
        assert canonical(form) == "Halabi", form


def test_sun_letter_assimilation() -> None:
    assert canonical("Nasir ad-Din") == canonical("Nasir al-Din") == "Nasir al-Din"
    assert place_key("Deir ez-Zor") == place_key("Deir Zor")


def test_unknown_names_meet_by_rules() -> None:
    # family names not in the names data still meet across scripts through the skeleton rules
    for arabic, latin in [
        ("الغندور", "Ghandour"),
        ("البيطار", "Bitar"),
        ("الشقاقي", "Shaqaqi"),
        ("طرابيشي", "Tarabishi"),
    ]:
        assert phonetic_key(arabic) == phonetic_key(latin), (arabic, latin)


def test_compound_allah_names() -> None:
    assert canonical("عبدالله") == canonical("Abdullah") == canonical("Abd Allah") == "Abdullah"
    assert phonetic_key("نصر الله") == phonetic_key("Nasrallah") == phonetic_key("Nasr Allah")


def test_keys_of_common_names_stay_apart() -> None:
    assert phonetic_key("Muhammad") != phonetic_key("Ahmad")
    assert canonical("Muhammad") != canonical("Mahmoud")


def test_pure_module_imports_no_database_or_web() -> None:
    code = (
        "import sys, athar.names as n; n.canonical('محمد'); n.place_key('Homs');"
        "bad=[m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy','fastapi','splink','duckdb','pandas','psycopg','unidecode','anyascii')];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
