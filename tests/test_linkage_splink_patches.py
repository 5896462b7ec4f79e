"""What athar.linkage._splink_patches relies on in Splink's internals is still there.

The two patches (``em_underflow_tolerated``, ``floor_parameters``) reach into private
Splink code.  These tests pin that code, by name, signature and source, and check that the
patches still do their job on it.  When one fails after a Splink upgrade, do not just
update the pin: read the new Splink code, re-check both patches against it (are they still
needed? do they still work?), then update the pins here.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import textwrap
from typing import Any

import pandas as pd
import pytest
import splink
from splink.internals import comparison_level as cl_mod

from athar.linkage import _splink_patches as patches
from athar.linkage.comparisons import PROBABILITY_FLOOR

RECHECK = (
    "Splink {version} changed {what}, which athar/linkage/_splink_patches.py relies on: "
    "re-check em_underflow_tolerated and floor_parameters against this Splink, then update "
    "the pin in tests/test_linkage_splink_patches.py"
)

#: sha256 (first 16 hex digits) of the dedented source, as in Splink 5.0.0
PINNED_SOURCES = {
    "comparison_level._validate_m_u_probability": "afc1c0a93d1b6a50",
    "ComparisonLevel.m_probability (setter)": "007b458d5cae53ed",
    "ComparisonLevel.u_probability (setter)": "4cf2c9f562dcacd2",
    "ComparisonLevel._add_trained_m_probability": "2bfb2bad8378235e",
    "ComparisonLevel._add_trained_u_probability": "843af3fbeba73cf1",
}


def _sources() -> dict[str, Any]:
    level = cl_mod.ComparisonLevel
    return {
        "comparison_level._validate_m_u_probability": getattr(
            cl_mod, patches.PATCHED_FUNCTION, None
        ),
        "ComparisonLevel.m_probability (setter)": level.m_probability.fset,
        "ComparisonLevel.u_probability (setter)": level.u_probability.fset,
        "ComparisonLevel._add_trained_m_probability": getattr(
            level, "_add_trained_m_probability", None
        ),
        "ComparisonLevel._add_trained_u_probability": getattr(
            level, "_add_trained_u_probability", None
        ),
    }


def _digest(obj: Any) -> str:
    src = textwrap.dedent(inspect.getsource(obj))
    return hashlib.sha256(src.encode("utf-8")).hexdigest()[:16]


def _fail(what: str) -> str:
    return RECHECK.format(version=splink.__version__, what=what)


def test_the_patched_module_is_the_one_splink_uses():
    assert patches.PATCHED_MODULE == cl_mod.__name__, _fail(f"the module {patches.PATCHED_MODULE}")


@pytest.mark.parametrize("what", sorted(PINNED_SOURCES))
def test_the_patched_splink_code_is_unchanged(what: str):
    obj = _sources()[what]
    assert obj is not None, _fail(f"{what} (it is gone)")
    assert _digest(obj) == PINNED_SOURCES[what], _fail(what)


def test_the_validator_signature_and_clamp_are_unchanged():
    fn = getattr(cl_mod, patches.PATCHED_FUNCTION)
    params = list(inspect.signature(fn).parameters)
    assert params == ["value", "param_name", "level_not_observed_text"], _fail(
        f"the signature of {patches.PATCHED_FUNCTION}"
    )
    assert cl_mod.M_U_CLAMP_MIN == 1e-300, _fail("M_U_CLAMP_MIN")


def _level() -> Any:
    from splink.internals.dialects import SplinkDialect

    return cl_mod.ComparisonLevel("l.x = r.x", SplinkDialect.from_string("duckdb"))


def test_the_underflow_patch_is_still_needed_and_still_works():
    level = _level()
    # Splink still refuses an m below its clamp: without the patch, EM would abort
    with pytest.raises(ValueError):
        level.m_probability = 1e-305
    with patches.em_underflow_tolerated():
        level.m_probability = 1e-305  # the setter looks the validator up in its module
        level.u_probability = 0.0
        with pytest.raises(ValueError):
            level.m_probability = 1.5
    assert level.m_probability == 1e-305
    # the original validator is back
    assert (
        getattr(cl_mod, patches.PATCHED_FUNCTION)
        is _sources()["comparison_level._validate_m_u_probability"]
    )
    with pytest.raises(ValueError):
        level.u_probability = 1e-305


def test_floor_parameters_reaches_every_trained_value_of_a_real_linker():
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink import comparison_library as cl

    frame = pd.DataFrame({"unique_id": [0, 1, 2], "x": ["a", "a", "b"]})
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[cl.ExactMatch("x")],
        blocking_rules_to_generate_predictions=[block_on("x")],
    )
    table = DuckDBAPI().register(frame, table_name="athar_patch_check")
    linker = Linker(table, settings, log_level=logging.WARNING)
    levels = [
        lv
        for cc in linker._settings_obj.comparisons
        for lv in cc.comparison_levels
        if not lv.is_null_level
    ]
    assert levels, _fail("Linker._settings_obj.comparisons[].comparison_levels")
    with patches.em_underflow_tolerated():
        for lv in levels:
            lv.m_probability = 1e-305
            lv._add_trained_m_probability(1e-305, "EM")
            lv._add_trained_u_probability(0.0, "random sampling")
    patches.floor_parameters(linker)
    for lv in levels:
        assert lv.m_probability == PROBABILITY_FLOOR, _fail("ComparisonLevel._m_probability")
        assert [r["probability"] for r in lv._trained_m_probabilities] == [PROBABILITY_FLOOR]
        assert [r["probability"] for r in lv._trained_u_probabilities] == [PROBABILITY_FLOOR]
    # the floored model saves and loads (Splink accepts every value it now holds)
    model = linker.misc.save_model_to_json()
    Linker(table, model, log_level=logging.WARNING)
