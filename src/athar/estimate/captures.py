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
#: ``athar estimate`` leaves out lists with fewer persons than this (``--min-list-persons``):
#: a handful of records says nothing about a list's coverage, and each list more multiplies
#: the models to search (dga cannot run at all beyond its enumerable number of lists)
MIN_LIST_PERSONS = 10


def leave_out_small_lists(
    people: Sequence[PersonFacts], lists: Sequence[str], min_persons: int
) -> tuple[list[str], dict[str, int]]:
    """The lists with at least ``min_persons`` persons on them (by identifiable records), and
    the size of each list left out.  At least two lists must remain."""
    size = {s: sum(1 for p in people if s in p.captured) for s in lists}
    small = {s: n for s, n in size.items() if n < min_persons}
    kept = [s for s in lists if s not in small]
    if small and len(kept) < 2:
        raise EstimateInputError(
            f"estimation needs at least two lists of {min_persons} persons or more; "
            + ", ".join(f"{s} has {n}" for s, n in small.items())
        )
    return kept, small


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
