"""Feature preparation choices made for linkage (not the name engine's own parsing)."""

from __future__ import annotations

import dataclasses

import pandas as pd

from athar.linkage.features import prepare_features
from athar.linkage.spec import FeatureSpec, load_spec


def _frame(full: str, **parts: str) -> pd.DataFrame:
    row = {"source": "s", "record_id": "1", "full_name": full}
    row.update(parts)
    return pd.DataFrame([row])


def _with_third_is_family(value: bool):
    spec = load_spec("interchange")
    feats = tuple(
        dataclasses.replace(f, options={**f.options, "third_is_family": value})
        if f.kind == "person_name"
        else f
        for f in spec.features
    )
    return dataclasses.replace(spec, features=feats)


def test_unmarked_three_part_name_reads_given_father_family():
    spec = load_spec("interchange")
    person = next(f for f in spec.features if f.kind == "person_name")
    assert isinstance(person, FeatureSpec) and person.options.get("third_is_family") is True
    f = prepare_features(_frame("Hassan Ali Zeioun"), spec).iloc[0]
    assert f["family_canon"] is not None and f["grandfather_canon"] is None
    off = prepare_features(_frame("Hassan Ali Zeioun"), _with_third_is_family(False)).iloc[0]
    assert off["grandfather_canon"] == f["family_canon"] and off["family_canon"] is None


def test_split_columns_and_four_part_names_are_left_alone():
    spec = load_spec("interchange")
    split = _frame("", given_name="Hassan", father_name="Ali", grandfather_name="Zeioun")
    f = prepare_features(split, spec).iloc[0]
    assert f["grandfather_canon"] is not None and f["family_canon"] is None
    four = prepare_features(_frame("Hassan Ali Omar Zeioun"), spec).iloc[0]
    off = prepare_features(_frame("Hassan Ali Omar Zeioun"), _with_third_is_family(False)).iloc[0]
    assert four.equals(off)


def _with_person_options(**options: bool):
    spec = load_spec("interchange")
    feats = tuple(
        dataclasses.replace(f, options={**f.options, **options}) if f.kind == "person_name" else f
        for f in spec.features
    )
    return dataclasses.replace(spec, features=feats)


def test_unmarked_two_part_name_reads_given_family():
    """``Amina Abboud`` is given + family in Syrian lists; the name engine alone reads
    given + father, which put its last word where the other lists' family name never is."""
    spec = load_spec("interchange")
    person = next(f for f in spec.features if f.kind == "person_name")
    assert isinstance(person, FeatureSpec) and person.options.get("second_is_family") is True
    on = prepare_features(_frame("Amina Abboud"), spec).iloc[0]
    assert on["family_canon"] is not None and on["father_canon"] is None
    off = prepare_features(_frame("Amina Abboud"), _with_person_options(second_is_family=False))
    assert off.iloc[0]["father_canon"] == on["family_canon"] and off.iloc[0]["family_canon"] is None
    # the same person written in full now meets it on given and family keys
    full = prepare_features(_frame("Amina Mohammad Abboud"), spec).iloc[0]
    assert (full["given_key"], full["family_key"]) == (on["given_key"], on["family_key"])


def test_two_part_names_with_a_family_marker_or_split_columns_are_left_alone():
    spec = load_spec("interchange")
    off = _with_person_options(second_is_family=False)
    for frame in (
        _frame("Khaled al-Halabi"),  # marked family: the name engine already places it
        _frame("", given_name="Khaled", father_name="Ahmad"),  # split columns say what is what
        _frame("Khaled"),
    ):
        assert prepare_features(frame, spec).equals(prepare_features(frame, off))
