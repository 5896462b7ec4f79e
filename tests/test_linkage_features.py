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
