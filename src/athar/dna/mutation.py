"""Mutation models for STR transmissions, as Familias and the R package pedmut define them.

``equal``: any allele mutates to each of the other n - 1 with probability rate / (n - 1),
where n counts every allele in the marker's list.

``stepwise`` (Familias' "stepwise unstable"): alleles fall into groups by their fractional part
(integers, .1, .2, .3 microvariants are separate groups).  Within a group a mutation of k repeat
steps has weight ``range**k``, and the weights are scaled so a mutation inside the group has
total probability ``rate``; a mutation into another group has total probability ``rate2``
shared equally by the alleles outside the group.  The diagonal is ``1 - rate - rate2``, or
``1 - rate`` when every allele is in one group, or ``1 - rate2`` when the allele is alone in
its group.

Mutations apply to transmissions from both parents.  Founders never mutate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

MODELS = ("none", "equal", "stepwise")


@dataclass(frozen=True)
class MutationModel:
    """A mutation model; ``kind`` is one of :data:`MODELS`."""

    kind: str = "none"
    rate: float = 0.0
    rate2: float = 0.0
    range: float = 0.1

    def __post_init__(self) -> None:
        if self.kind not in MODELS:
            raise ValueError(f"unknown mutation model {self.kind!r}; use one of {MODELS}")
        for name in ("rate", "rate2"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"mutation {name} {v} is not a probability")
        if self.kind == "stepwise" and not self.range > 0.0:
            raise ValueError(f"stepwise range {self.range} must be positive")

    @property
    def is_none(self) -> bool:
        return self.kind == "none"

    def matrix(self, alleles: Sequence[str]) -> npt.NDArray[np.float64]:
        """The transmission matrix M[i, j] = P(child receives j | parent passes on i)."""
        n = len(alleles)
        if self.kind == "none" or n <= 1:
            return np.eye(n)
        if self.kind == "equal":
            return equal_matrix(n, self.rate)
        return stepwise_matrix(alleles, self.rate, self.rate2, self.range)


def equal_matrix(n: int, rate: float) -> npt.NDArray[np.float64]:
    m = np.full((n, n), rate / (n - 1))
    np.fill_diagonal(m, 1.0 - rate)
    return m


def _split(label: str) -> tuple[Decimal, Decimal]:
    value = Decimal(label)
    frac = value - int(value)
    return value, frac


def stepwise_matrix(
    alleles: Sequence[str], rate: float, rate2: float, range_: float
) -> npt.NDArray[np.float64]:
    n = len(alleles)
    values, groups = zip(*(_split(a) for a in alleles), strict=True)
    m = np.zeros((n, n))
    for i in range(n):
        same = [groups[j] == groups[i] for j in range(n)]
        n_same = sum(same)
        n_other = n - n_same
        if n_same == n:
            m[i, i] = 1.0 - rate
        elif n_same == 1:
            m[i, i] = 1.0 - rate2
        else:
            m[i, i] = 1.0 - rate - rate2
        weights = np.zeros(n)
        for j in range(n):
            if j == i:
                continue
            if same[j]:
                weights[j] = range_ ** float(abs(values[i] - values[j]))
            else:
                m[i, j] = rate2 / n_other
        total = weights.sum()
        if total > 0:
            m[i] += weights / total * rate
    return m
