"""Capture-pattern tables of persons: what estimation counts.

Pure.  A person is *on* a list when that list has an identifiable record of them (see
"Capture histories" in :mod:`athar.domain.person`, which holds the rules that turn a
person's records into :class:`~athar.domain.person.PersonFacts`); these functions count
the persons' overlap patterns on the chosen lists, as a whole or by stratum.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from athar.domain.person import UNKNOWN, PersonFacts
from athar.estimate.table import CaptureTable, EstimateInputError

STRATA = ("year", "governorate", "facility")


def stratum_of(p: PersonFacts, by: str) -> str:
    """The one stratum a person falls in, for stratified estimation."""
    if by == "year":
        return p.arrest_year
    if by == "governorate":
        return p.governorate
    if by == "facility":
        return p.last_facility or UNKNOWN
    raise EstimateInputError(f"unknown stratum {by!r}; choose from {', '.join(STRATA)}")


def capture_counts(people: Sequence[PersonFacts], lists: Sequence[str]) -> CaptureTable:
    """The capture-pattern table of ``people`` on ``lists``, by their identifiable records.

    People on none of the lists, or known to them only through records with neither a name
    nor a detainee number, are left out (see "Capture histories" in :mod:`athar.domain.person`).
    """
    if len(lists) < 2:
        raise EstimateInputError("estimation needs at least two lists")
    rows: Counter[tuple[int, ...]] = Counter()
    for p in people:
        pattern = tuple(int(s in p.captured) for s in lists)
        if any(pattern):
            rows[pattern] += 1
    return CaptureTable.from_rows(list(lists), rows.items())


def stratified_counts(
    people: Sequence[PersonFacts], lists: Sequence[str], by: str
) -> dict[str, CaptureTable]:
    groups: dict[str, list[PersonFacts]] = {}
    for p in people:
        groups.setdefault(stratum_of(p, by), []).append(p)
    return {
        k: capture_counts(groups[k], lists) for k in sorted(groups, key=lambda k: (k == UNKNOWN, k))
    }
