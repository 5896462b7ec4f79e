"""Splink comparisons, blocking rules and settings, built in Python for each SQL dialect.

A trained model saved from DuckDB does not load on Spark (its SQL is DuckDB's), so
the model is always *built* here from the :class:`~athar.linkage.spec.LinkSpec` for
the dialect in use; trained parameters can then be carried across by
:func:`copy_parameters`.  Pure: nothing here executes SQL.

Name parts are compared on the name engine's levels, most specific first:

1. exact after normalisation (term-frequency adjusted on the canonical form),
2. the same canonical Latin form (term-frequency adjusted),
3. the same phonetic key,
4. close by Jaro-Winkler on the canonical form; where the spec asks for them
   (``written_close``, ``key_close``), close by Jaro-Winkler on the normalised
   spelling (a misread dot in Arabic script) and on the phonetic keys; then near
   by Jaro-Winkler on the canonical form,
5. an initial that agrees with the other side's name (``M.`` / ``Mustafa``),
6. anything else.

Term-frequency adjustment is what makes ``محمد`` agreeing count for far less than
``قتيبة`` agreeing.
"""

from __future__ import annotations

from typing import Any

import splink.comparison_level_library as cll
from splink import SettingsCreator, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_creator import ComparisonCreator
from splink.internals.comparison_level_creator import ComparisonLevelCreator
from splink.internals.comparison_library import CustomComparison

from athar.linkage.spec import ComparisonSpec, LinkSpec


def _null(*cols: str) -> ComparisonLevelCreator:
    cond = " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in cols)
    return cll.CustomLevel(cond, "null").configure(is_null_level=True)


def _level(sql: str, label: str, **configure: Any) -> ComparisonLevelCreator:
    lvl = cll.CustomLevel(sql, label)
    return lvl.configure(**configure) if configure else lvl


def _eq(col: str) -> str:
    return f"{col}_l = {col}_r"


def _name_part(c: ComparisonSpec) -> ComparisonCreator:
    p = c.column
    tf = bool(c.options.get("tf", True))
    # Both agreeing levels are adjusted by the frequency of the canonical form, each
    # against its own u (Splink's default would use the u of the level written
    # ``canon_l = canon_r``, which here holds only the residual cross-spelling cases).
    tf_cfg: dict[str, Any] = {
        "tf_adjustment_column": f"{p}_canon",
        "tf_adjustment_weight": 1.0,
        "disable_tf_exact_match_detection": True,
    }
    levels: list[ComparisonLevelCreator | dict[str, Any]] = [
        _null(f"{p}_norm"),
        # (the canonical form is repeated so that the level reads its tf column: Spark
        # only carries term-frequency columns a level's SQL refers to)
        _level(
            f"{_eq(f'{p}_norm')} AND {_eq(f'{p}_canon')}",
            "exact (normalised)",
            **(tf_cfg if tf else {}),
        ),
        _level(_eq(f"{p}_canon"), "same canonical form", **(tf_cfg if tf else {})),
        _level(_eq(f"{p}_key"), "same phonetic key"),
        cll.JaroWinklerLevel(f"{p}_canon", float(c.options.get("close", 0.9))).configure(
            label_for_charts="close (Jaro-Winkler on canonical)"
        ),
    ]
    if c.options.get("written_close"):
        levels.append(
            cll.JaroWinklerLevel(f"{p}_norm", float(c.options["written_close"])).configure(
                label_for_charts="close as written (Jaro-Winkler on normalised)"
            )
        )
    if c.options.get("key_close"):
        levels.append(
            cll.JaroWinklerLevel(f"{p}_key", float(c.options["key_close"])).configure(
                label_for_charts="close keys (Jaro-Winkler on phonetic key)"
            )
        )
    levels += [
        cll.JaroWinklerLevel(f"{p}_canon", float(c.options.get("near", 0.75))).configure(
            label_for_charts="near (Jaro-Winkler on canonical)"
        ),
        _level(
            f"(LENGTH({p}_canon_l) = 1 OR LENGTH({p}_canon_r) = 1)"
            f" AND SUBSTR({p}_canon_l, 1, 1) = SUBSTR({p}_canon_r, 1, 1)",
            "initial agrees with the name",
        ),
        cll.ElseLevel(),
    ]
    return CustomComparison(levels, output_column_name=c.name)


def _whole_name(c: ComparisonSpec) -> ComparisonCreator:
    """Fallback for names split differently on each side: the bag of part keys.

    When given and family name already agree on their keys the part comparisons
    carry the evidence, so that level has a fixed weight of zero (m = u).
    """
    bag = c.column
    levels: list[ComparisonLevelCreator | dict[str, Any]] = [
        _null(bag),
        _level(
            f"{_eq('given_key')} AND {_eq('family_key')}",
            "parts agree (counted by the part comparisons)",
            m_probability=0.5,
            u_probability=0.5,
            fix_m_probability=True,
            fix_u_probability=True,
        ),
        _level(_eq(bag), "same set of name keys, in any order"),
        cll.ArrayIntersectLevel(bag, 2),
        cll.ArrayIntersectLevel(bag, 1),
        cll.ElseLevel(),
    ]
    return CustomComparison(levels, output_column_name=c.name)


def _text(c: ComparisonSpec) -> ComparisonCreator:
    col = c.column
    exact = cll.ExactMatchLevel(col, term_frequency_adjustments=bool(c.options.get("tf")))
    levels: list[ComparisonLevelCreator | dict[str, Any]] = [_null(col), exact]
    for t in c.options.get("jaro_winkler", []):
        levels.append(cll.JaroWinklerLevel(col, float(t)))
    for d in c.options.get("damerau_levenshtein", []):
        levels.append(cll.DamerauLevenshteinLevel(col, int(d)))
    levels.append(cll.ElseLevel())
    return CustomComparison(levels, output_column_name=c.name)


def _date(c: ComparisonSpec) -> ComparisonCreator:
    """Partial-precision dates: agree as far as both are known, swaps, year +/- 1."""
    p = c.column
    y, m, d = f"{p}_y", f"{p}_m", f"{p}_d"
    compat_m = f"({m}_l IS NULL OR {m}_r IS NULL OR {_eq(m)})"
    compat_d = f"({d}_l IS NULL OR {d}_r IS NULL OR {_eq(d)})"
    full = " AND ".join(f"{x}_l IS NOT NULL AND {x}_r IS NOT NULL" for x in (m, d))
    levels: list[ComparisonLevelCreator | dict[str, Any]] = [
        _null(y),
        _level(f"{_eq(y)} AND {_eq(m)} AND {_eq(d)}", "exact day"),
        _level(f"{_eq(y)} AND {compat_m} AND {compat_d}", "agree to the precision both give"),
        _level(
            f"{_eq(y)} AND {full} AND {m}_l = {d}_r AND {d}_l = {m}_r",
            "day and month swapped",
        ),
        _level(_eq(y), "same year, month or day differ"),
        _level(f"ABS({y}_l - {y}_r) <= 1", "year +/- 1"),
    ]
    if c.options.get("year_within"):
        n = int(c.options["year_within"])
        levels.append(_level(f"ABS({y}_l - {y}_r) <= {n}", f"year +/- {n}"))
    levels.append(cll.ElseLevel())
    return CustomComparison(levels, output_column_name=c.name)


def _year_range(c: ComparisonSpec) -> ComparisonCreator:
    """Birth-year ranges (from ages) against birth years; skipped when both give a year."""
    p = c.column
    lo, hi = f"{p}_lo", f"{p}_hi"
    by = c.options.get("unless_both")
    null_sql = f"{lo}_l IS NULL OR {lo}_r IS NULL"
    if by:
        null_sql += f" OR ({by}_l IS NOT NULL AND {by}_r IS NOT NULL)"
    levels: list[ComparisonLevelCreator | dict[str, Any]] = [
        cll.CustomLevel(null_sql, "null, or both give a birth date").configure(is_null_level=True),
        _level(f"{lo}_l <= {hi}_r AND {lo}_r <= {hi}_l", "ranges overlap"),
        _level(f"{lo}_l <= {hi}_r + 3 AND {lo}_r <= {hi}_l + 3", "within 3 years"),
        _level(f"{lo}_l <= {hi}_r + 8 AND {lo}_r <= {hi}_l + 8", "within 8 years"),
        cll.ElseLevel(),
    ]
    return CustomComparison(levels, output_column_name=c.name)


def _exact(c: ComparisonSpec) -> ComparisonCreator:
    col = c.column
    levels: list[ComparisonLevelCreator | dict[str, Any]] = [
        _null(col),
        cll.ExactMatchLevel(col, term_frequency_adjustments=bool(c.options.get("tf"))),
        cll.ElseLevel(),
    ]
    return CustomComparison(levels, output_column_name=c.name)


def _identifier(c: ComparisonSpec) -> ComparisonCreator:
    """An identifier: agreement is near-decisive, disagreement strongly against."""
    col = c.column
    levels: list[ComparisonLevelCreator | dict[str, Any]] = [_null(col), cll.ExactMatchLevel(col)]
    if c.options.get("fuzzy"):
        levels.append(cll.DamerauLevenshteinLevel(col, 1))
    levels.append(cll.ElseLevel())
    return CustomComparison(levels, output_column_name=c.name)


def _sex(c: ComparisonSpec) -> ComparisonCreator:
    """Sex: agreement says little; a difference is near-decisive (m fixed small)."""
    col = c.column
    levels: list[ComparisonLevelCreator | dict[str, Any]] = [
        _null(col),
        cll.ExactMatchLevel(col),
        cll.ElseLevel().configure(
            m_probability=float(c.options.get("m_differ", 0.002)), fix_m_probability=True
        ),
    ]
    return CustomComparison(levels, output_column_name=c.name)


_BUILDERS = {
    "name_part": _name_part,
    "whole_name": _whole_name,
    "text": _text,
    "date": _date,
    "year_range": _year_range,
    "exact": _exact,
    "identifier": _identifier,
    "sex": _sex,
}


def comparisons(spec: LinkSpec) -> list[ComparisonCreator]:
    return [_BUILDERS[c.kind](c) for c in spec.comparisons]


def blocking_rules(rules: tuple[tuple[str, ...], ...]) -> list[BlockingRuleCreator]:
    """One equi-join blocking rule per tuple of (key) columns."""
    return [block_on(*r) for r in rules]


def settings(spec: LinkSpec, link_type: str, *, keep_intermediate: bool = False) -> SettingsCreator:
    """The Splink settings for ``spec`` (dialect-neutral creator; Splink renders the SQL)."""
    return SettingsCreator(
        link_type=link_type,  # type: ignore[arg-type]
        unique_id_column_name="unique_id",
        comparisons=comparisons(spec),  # type: ignore[arg-type]
        blocking_rules_to_generate_predictions=blocking_rules(spec.blocking),  # type: ignore[arg-type]
        retain_matching_columns=keep_intermediate,
        retain_intermediate_calculation_columns=keep_intermediate,
        max_iterations=25,
        em_convergence=0.001,
    )


def tf_columns(spec: LinkSpec) -> list[str]:
    """The columns whose term frequencies the model's levels are adjusted by."""
    built = settings(spec, "dedupe_only").create_settings_dict("duckdb")
    cols = []
    for c in built["comparisons"]:
        for lvl in c["comparison_levels"]:
            col = lvl.get("tf_adjustment_column")
            if col and col not in cols:
                cols.append(str(col))
    return cols


#: m and u values are kept at or above this: an m of 1e-300 (a level never seen among
#: matches in training) would otherwise make one field outvote every other.
PROBABILITY_FLOOR = 1e-6


def copy_parameters(trained: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """Carry trained m/u values (and the prior) from one dialect's model to another's.

    ``trained`` and ``target`` are Splink settings dicts with the same comparisons
    (built from the same spec); only the SQL differs.  Values are floored at
    :data:`PROBABILITY_FLOOR`.
    """
    out = dict(target)
    out["probability_two_random_records_match"] = trained["probability_two_random_records_match"]
    by_name = {c["output_column_name"]: c for c in trained["comparisons"]}
    new_comps = []
    for comp in target["comparisons"]:
        src = by_name[comp["output_column_name"]]
        levels = []
        for lvl, src_lvl in zip(comp["comparison_levels"], src["comparison_levels"], strict=True):
            lvl = dict(lvl)
            for k in ("m_probability", "u_probability"):
                if isinstance(src_lvl.get(k), int | float):
                    lvl[k] = min(max(float(src_lvl[k]), PROBABILITY_FLOOR), 1.0)
            levels.append(lvl)
        new_comps.append({**comp, "comparison_levels": levels})
    out["comparisons"] = new_comps
    return out
