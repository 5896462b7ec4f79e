"""Explanation of one pair: the per-field contributions to the match weight (a waterfall).

Pure: takes one scored pair (as Splink's prediction row with intermediate columns)
and the trained model, returns plain data (for the CLI and the web UI alike).
The contributions always add up to the match weight: the prior, plus for each
comparison its level's log2 Bayes factor, plus its term-frequency adjustment.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def _level_labels(comparison: Mapping[str, Any]) -> dict[int, str]:
    """gamma value -> level label (Splink numbers non-null levels from n-1 down to 0)."""
    levels = comparison["comparison_levels"]
    non_null = [lv for lv in levels if not lv.get("is_null_level")]
    labels = {-1: "null (one side unknown)"}
    for i, lv in enumerate(non_null):
        labels[len(non_null) - 1 - i] = str(lv.get("label_for_charts", lv.get("sql_condition")))
    return labels


def _num(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(f) else f


def waterfall(row: Mapping[str, Any], model: Mapping[str, Any]) -> dict[str, Any]:
    """Per-comparison contributions to ``row``'s match weight.

    Returns ``{"prior": w0, "steps": [{comparison, level, gamma, weight, tf_adjustment,
    values_l, values_r}], "match_weight": total, "match_probability": p,
    "sum_of_contributions": w0 + sum(steps)}``.
    """
    lam = float(model["probability_two_random_records_match"])
    prior = math.log2(lam / (1 - lam))
    steps: list[dict[str, Any]] = []
    total = prior
    for comp in model["comparisons"]:
        name = comp["output_column_name"]
        gamma = int(row.get(f"gamma_{name}", -1))
        weight = _num(row.get(f"mw_{name}"))
        tf_adj = _num(row.get(f"mw_tf_adj_{name}"))
        total += weight + tf_adj
        prefix = f"{name}"
        values_l = {
            k[:-2]: row[k]
            for k in row
            if k.endswith("_l") and k.startswith(prefix) and not k.startswith("tf_")
        }
        values_r = {
            k[:-2]: row[k]
            for k in row
            if k.endswith("_r") and k.startswith(prefix) and not k.startswith("tf_")
        }
        steps.append(
            {
                "comparison": name,
                "gamma": gamma,
                "level": _level_labels(comp).get(gamma, str(gamma)),
                "weight": weight,
                "tf_adjustment": tf_adj,
                "values_l": _plain(values_l),
                "values_r": _plain(values_r),
            }
        )
    mw = _num(row.get("match_weight"))
    return {
        "prior": prior,
        "steps": steps,
        "match_weight": mw,
        "match_probability": _num(row.get("match_probability")),
        "sum_of_contributions": total,
    }


def _plain(d: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out[k] = None
        elif hasattr(v, "tolist"):
            out[k] = v.tolist()
        elif isinstance(v, str | int | float | bool):
            out[k] = v
        else:
            out[k] = str(v)
    return out


def render(expl: Mapping[str, Any], a: str, b: str) -> str:
    """A text waterfall for the CLI."""
    lines = [f"{a}  vs  {b}", f"{'prior (two random records match)':<60}{expl['prior']:+9.2f}"]
    running = expl["prior"]
    for s in expl["steps"]:
        running += s["weight"] + s["tf_adjustment"]
        tf = f" (tf {s['tf_adjustment']:+.2f})" if s["tf_adjustment"] else ""
        label = f"{s['comparison']}: {s['level']}"
        lines.append(
            f"{label[:60]:<60}{s['weight'] + s['tf_adjustment']:+9.2f}{tf}   = {running:+.2f}"
        )
    lines.append(
        f"{'match weight':<60}{expl['match_weight']:+9.2f}   "
        f"probability {expl['match_probability']:.4f}"
    )
    return "\n".join(lines)
