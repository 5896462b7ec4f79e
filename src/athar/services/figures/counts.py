"""The registry's descriptive figures, counted in the database: the read model.

:func:`describe_store` gives the same :class:`~athar.domain.person.Description` as
``person.describe(registry_view(conn).people)`` (the rules are in
:mod:`athar.domain.person`), without reading every record into Python: the statement of
:mod:`athar.store.figures` (the rules written in SQL, given their codes from the domain)
counts each dimension in the database.  For the persons with two or more records naming a
facility the last facility is a left-to-right fold over the records with dates compared at
the precision both give (not a maximum: ``2014`` neither precedes nor follows ``2014-05``),
so Python folds them with :func:`~athar.domain.person.last_sighting`, one person at a time, from a
streamed cursor.

How each rule is written in SQL: see :mod:`athar.store.figures`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from athar.domain.person import (
    AGE_GROUPS,
    END_STATUSES,
    HELD_STATUSES,
    UNIDENTIFIED_STATUSES,
    UNKNOWN,
    Claim,
    Description,
    RecordFacts,
    accounted_for,
    description,
    last_sighting,
    pattern_key,
)
from athar.store.figures import Codes, current_sources, figure_rows

#: the codes the statement's rules use
CODES = Codes(END_STATUSES, HELD_STATUSES, UNIDENTIFIED_STATUSES, AGE_GROUPS, UNKNOWN)


@dataclass
class StoreFigures:
    """The unsuppressed description, and how many current records no link run placed."""

    description: Description
    unlinked_records: int


def _multi_facility(rows: Iterator[Any], counts: Counter[str]) -> None:
    """Fold the detail rows (ordered by person, sightings before claims) person by person."""
    person: int | None = None
    sightings: list[RecordFacts] = []
    claims: list[Claim] = []

    def flush() -> None:
        last, seen = last_sighting(sightings)
        if last is not None and not accounted_for(seen, claims):
            counts[last] += 1

    for dim, key, _, label, _, d1, d2 in rows:
        if label != person:
            if person is not None:
                flush()
            person, sightings, claims = label, [], []
        if dim == "sighting":
            sightings.append(
                RecordFacts(person=0, source="", facility=key, last_seen_date=d1, arrest_date=d2)
            )
        else:
            claims.append(Claim(str(key), d1))
    if person is not None:
        flush()


#: the statement's dimension names -> ``Description`` attributes
_DIMENSION = {
    "source": "by_source",
    "overlap": "by_overlap",
    "facility": "by_facility",
    "year": "by_arrest_year",
    "governorate": "by_governorate",
    "sex": "by_sex",
    "age": "by_age_group",
    "status": "by_status",
    "conflict": "status_conflicts",
    "unaccounted": "unaccounted_by_facility",
}


def describe_store(conn: Connection, linked: bool) -> StoreFigures:
    """The descriptive counts of the store's persons (``linked``: a link run exists, so
    records are grouped by their memberships; otherwise each record is a person)."""
    sources = current_sources(conn)
    codes = [c for _, c in sources]
    persons = unlinked = 0
    counts: dict[str, Counter[str]] = {d: Counter() for d in Description.DIMENSIONS}
    rows = figure_rows(conn, [sid for sid, _ in sources], linked, CODES)
    for row in rows:
        dim, key, n = row[0], row[1], row[2]
        if row[3] is not None:  # the first detail row (they come last, ordered by person)
            _multi_facility(_chain(row, rows), counts["unaccounted_by_facility"])
            break
        if dim == "persons":
            persons = int(n)
            continue
        if dim == "unlinked":
            unlinked = int(n)
            continue
        if dim == "overlap":  # a person is on each list of their pattern
            on = [c for c, flag in zip(codes, str(key), strict=True) if flag == "1"]
            key = pattern_key(on, codes)
            for c in on:
                counts["by_source"][c] += int(n)
        elif dim == "age":
            key = AGE_GROUPS[int(key)]
        counts[_DIMENSION[dim]][str(key)] += int(n)
    rows.close()
    return StoreFigures(description(persons, counts), unlinked)


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest
