"""Choosing the clustering threshold from the model's own expected precision.

A fixed match probability is not a fixed quality: as lists grow, each record meets
more look-alikes, the prior of a random pair matching falls, and the same evidence
earns a lower probability.  Instead of a constant, each run links the largest set
of scored pairs whose *expected* precision, by the model's own probabilities (no
truth labels), is at least a target:

    expected precision of the pairs above a cut = mean match probability above it.

The cut is never below a floor probability (by default 0.5: a pair the model finds
more likely to be two people is never linked, however confident the rest are).
Pure: arrays in, a number out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


def expected_precision_cut(
    probability: Sequence[float] | NDArray[np.float64],
    target: float,
    floor: float,
) -> float:
    """The lowest probability cut, not below ``floor``, whose linked pairs the model
    expects to be at least ``target`` true (mean probability at or above the cut).

    Returns ``floor`` when even the floor meets the target, and the highest scored
    probability when no cut does (then only the most certain pairs are linked).
    ``probability`` holds the scored pairs at or above any lower bound of interest.
    """
    if not 0.0 < target < 1.0:
        raise ValueError(f"target precision {target} is not in (0, 1)")
    p = np.asarray(probability, dtype=np.float64)
    p = np.sort(p[p >= floor])[::-1]
    if p.size == 0:
        return float(floor)
    mean_above = np.cumsum(p) / np.arange(1, p.size + 1)
    ok = np.flatnonzero(mean_above >= target)
    if ok.size == 0:
        return float(p[0])
    k = int(ok[-1])
    if k == p.size - 1:
        return float(floor)
    # ties: the cut is a probability, so all pairs equal to p[k] are linked with it
    return float(max(p[k], floor))


def expected_counts(
    probability: Sequence[float] | NDArray[np.float64], cut: float
) -> dict[str, float]:
    """The model's own expectation for the pairs linked at ``cut`` (for reports)."""
    p = np.asarray(probability, dtype=np.float64)
    linked = p[p >= cut]
    return {
        "linked_pairs": int(linked.size),
        "expected_true_pairs": float(linked.sum()),
        "expected_precision": float(linked.mean()) if linked.size else 1.0,
    }
