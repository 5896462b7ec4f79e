"""Capture-pattern count tables: the common input of every estimator.

A :class:`CaptureTable` holds, for ``J`` lists, the number of distinct people seen
with each capture pattern (which lists they are on).  The all-zero pattern is
never observed: estimating it is the whole point.  Pattern ``k`` (``0 <= k < 2**J``)
is encoded with list ``j`` (0-based, in the order of :attr:`CaptureTable.lists`)
as bit ``j``, so ``k = sum(x_j * 2**j)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from athar.errors import InvalidInput

IntArray = NDArray[np.int64]


class EstimateInputError(ValueError, InvalidInput):
    """Input that an estimator cannot use (the message says why)."""

    code = "estimate_input_invalid"


def all_patterns(n_lists: int) -> IntArray:
    """The ``2**J x J`` 0/1 matrix of every pattern, row ``k`` = bits of ``k``."""
    k = np.arange(2**n_lists, dtype=np.int64)
    return ((k[:, None] >> np.arange(n_lists, dtype=np.int64)[None, :]) & 1).astype(np.int64)


@dataclass(frozen=True)
class CaptureTable:
    """Counts of people by capture pattern over ``J`` lists.

    ``counts`` has length ``2**J``; ``counts[0]`` (nobody on any list) is always 0.
    """

    lists: tuple[str, ...]
    counts: IntArray

    def __post_init__(self) -> None:
        j = len(self.lists)
        if j < 2:
            raise EstimateInputError("need at least two lists to estimate")
        if len(set(self.lists)) != j:
            raise EstimateInputError(f"list names must be distinct: {list(self.lists)}")
        c = np.asarray(self.counts, dtype=np.int64)
        if c.shape != (2**j,):
            raise EstimateInputError(f"counts must have 2**{j} = {2**j} cells, got {c.shape}")
        if (c < 0).any():
            raise EstimateInputError("counts must be non-negative")
        if c[0] != 0:
            raise EstimateInputError("the all-zero pattern cannot be observed (count must be 0)")
        object.__setattr__(self, "counts", c)

    @property
    def n_lists(self) -> int:
        return len(self.lists)

    @property
    def n_observed(self) -> int:
        """Number of distinct people seen on at least one list."""
        return int(self.counts.sum())

    def patterns(self) -> IntArray:
        """The ``2**J x J`` 0/1 pattern matrix matching :attr:`counts`."""
        return all_patterns(self.n_lists)

    def observed_cells(self) -> tuple[IntArray, IntArray]:
        """(patterns, counts) of the cells with a positive count."""
        keep = self.counts > 0
        return self.patterns()[keep], self.counts[keep]

    def list_totals(self) -> dict[str, int]:
        """People on each list."""
        pat = self.patterns()
        return {name: int(self.counts[pat[:, j] == 1].sum()) for j, name in enumerate(self.lists)}

    def as_array(self) -> NDArray[np.int64]:
        """The counts as a ``2 x 2 x ... x 2`` array indexed ``[x_1, ..., x_J]``."""
        # bit j of the flat index is list j, i.e. list 0 varies fastest (Fortran order)
        return self.counts.reshape((2,) * self.n_lists, order="F")

    def rows(self) -> list[tuple[tuple[int, ...], int]]:
        """(pattern, count) for every observed pattern (all-zero excluded), in index order."""
        pat = self.patterns()
        return [(tuple(int(v) for v in pat[k]), int(self.counts[k])) for k in range(1, len(pat))]

    @classmethod
    def from_rows(
        cls, lists: Sequence[str], rows: Iterable[tuple[Sequence[int], int]]
    ) -> CaptureTable:
        """Build from (0/1 pattern, count) rows; repeated patterns are added up."""
        j = len(lists)
        counts = np.zeros(2**j, dtype=np.int64)
        for i, (pattern, count) in enumerate(rows):
            if len(pattern) != j:
                raise EstimateInputError(
                    f"row {i}: pattern has {len(pattern)} values, expected {j}"
                )
            if any(v not in (0, 1) for v in pattern):
                raise EstimateInputError(f"row {i}: pattern values must be 0 or 1")
            if count < 0:
                raise EstimateInputError(f"row {i}: count must be non-negative")
            k = sum(int(v) << b for b, v in enumerate(pattern))
            if k == 0 and count != 0:
                raise EstimateInputError(
                    f"row {i}: the all-zero pattern (on no list) cannot have a positive count"
                )
            counts[k] += int(count)
        return cls(tuple(lists), counts)


def capture_table(
    membership: Mapping[object, Iterable[str]], lists: Sequence[str] | None = None
) -> CaptureTable:
    """Capture-pattern table from per-person list membership.

    ``membership`` maps a person (any hashable id, e.g. a linked cluster id) to the
    lists that person appears on.  ``lists`` fixes the list order (and may include
    lists nobody is on); by default it is the sorted set of lists seen.
    """
    seen: set[str] = set()
    for on in membership.values():
        seen.update(on)
    names = list(lists) if lists is not None else sorted(seen)
    unknown = seen - set(names)
    if unknown:
        raise EstimateInputError(f"people are on lists not named in `lists`: {sorted(unknown)}")
    index = {name: j for j, name in enumerate(names)}
    counts = np.zeros(2 ** len(names), dtype=np.int64)
    for on in membership.values():
        k = 0
        for name in set(on):
            k |= 1 << index[name]
        if k:
            counts[k] += 1
    return CaptureTable(tuple(names), counts)
