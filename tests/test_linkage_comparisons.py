"""Which comparison level a pair of name parts reaches (the levels' SQL run on DuckDB)."""

from __future__ import annotations

import dataclasses
from typing import Any

import duckdb
import pandas as pd

from athar.linkage import comparisons as comp
from athar.linkage.features import prepare_features
from athar.linkage.spec import LinkSpec, load_spec


def _family(text: str, spec: LinkSpec) -> dict[str, Any]:
    row = {"source": "s", "record_id": "1", "given_name": "Hasan", "family_name": text}
    f = prepare_features(pd.DataFrame([row]), spec).iloc[0]
    return {k: f[f"family_{k}"] for k in ("norm", "canon", "key")}


def _level(spec: LinkSpec, left: str, right: str) -> str:
    """The label of the first level of the family comparison that the pair meets."""
    a, b = _family(left, spec), _family(right, spec)
    row = {f"family_{k}_l": a[k] for k in a} | {f"family_{k}_r": b[k] for k in b}
    con = duckdb.connect()
    con.register("p", pd.DataFrame([row]))
    built = comp.settings(spec, "dedupe_only").create_settings_dict("duckdb")
    family = next(c for c in built["comparisons"] if c["output_column_name"] == "family")
    for lvl in family["comparison_levels"]:
        sql = lvl["sql_condition"]
        if sql == "ELSE" or con.execute(f"SELECT count(*) FROM p WHERE {sql}").fetchone()[0]:
            return str(lvl.get("label_for_charts", sql))
    raise AssertionError("no level matched")


def _without_close_levels(spec: LinkSpec) -> LinkSpec:
    drop = {"written_close", "key_close"}
    comps = tuple(
        dataclasses.replace(c, options={k: v for k, v in c.options.items() if k not in drop})
        for c in spec.comparisons
    )
    return dataclasses.replace(spec, comparisons=comps)


def test_a_misread_dot_in_arabic_script_is_close_as_written():
    spec = load_spec("interchange")
    # ز read as ر: the canonical forms part (Zubi / an unknown skeleton), the spelling not
    assert _level(spec, "الزعبي", "الرعبي") == "close as written (Jaro-Winkler on normalised)"
    assert _level(_without_close_levels(spec), "الزعبي", "الرعبي") == "All other comparisons"


def test_consonant_only_latin_with_the_article_has_close_keys():
    spec = load_spec("interchange")
    # "lmhmd" (al-Muhammad written without vowels, article glued): keys lmhmt / mhmt
    assert _level(spec, "المحمد", "lmhmd") == "close keys (Jaro-Winkler on phonetic key)"
    assert _level(_without_close_levels(spec), "المحمد", "lmhmd") == "All other comparisons"


def test_agreeing_spellings_keep_their_earlier_levels():
    spec = load_spec("interchange")
    assert _level(spec, "الحلبي", "Al-Halabi") == "same canonical form"
    assert _level(spec, "الحلبي", "Idlibi") == "All other comparisons"
