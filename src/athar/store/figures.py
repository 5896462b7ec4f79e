"""The registry's descriptive figures, aggregated in the database.

:func:`describe_store` gives the same :class:`~athar.estimate.registry.Description` as
``registry.describe(registry_view(conn).people)`` (the rules are in
:mod:`athar.estimate.registry`), without reading every record into Python: one read-only
statement groups the current records by person and counts each dimension with
``GROUP BY``, on SQLite and on PostgreSQL.  What comes back is a few hundred rows of counts,
plus the facility sightings and release/death claims of the persons with two or more
records naming a facility.  For those the last facility is a left-to-right fold over the
records with dates compared at the precision both give (not a maximum: ``2014`` neither
precedes nor follows ``2014-05``), so Python folds them with
:func:`registry.last_sighting`, one person at a time, from a streamed cursor.

How each rule is written in SQL (``rec`` is one row per current record with its person):

* person: the person of the latest membership (highest ``person_record.id``) of the
  record's (source, record id), else the record on its own (label ``-record.id``); with no
  link run, every record on its own;
* overlap pattern: one ``0``/``1`` flag per source (sources in code-point order of the
  code), ``MAX`` over the person's records; persons by source are summed from the
  patterns in Python;
* sex: ``MIN`` and ``MAX`` of the values given (they differ: ``conflicting``); year of
  arrest: ``MIN`` of the year of the arrest date (its first four characters when they are
  digits); governorate: the most frequent code, ties to the lowest in code-point order
  (``COLLATE "C"`` on PostgreSQL); age group: from the record with the lowest id whose age
  at arrest is known (``MIN(id * 8 + group)``);
* status: end-of-detention kinds, undated end claims and the first held claim (in record,
  then claim order) dated strictly later than every end claim, at common precision
  (``substr`` to the shorter length);
* unaccounted for, persons with one facility record: no release or death claim that is
  undated or dated on or after that sighting, at common precision.

Dates in the store are ISO partial dates (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``, written by
:func:`athar.domain.dates.parse_date`); the year test accepts ASCII digits only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from athar.estimate import registry
from athar.estimate.registry import (
    AGE_GROUPS,
    END_STATUSES,
    HELD_STATUSES,
    UNIDENTIFIED_STATUSES,
    UNKNOWN,
    Claim,
    Description,
    RecordFacts,
)

#: ``record.id`` and ``status_event.id`` are 32-bit: (record, claim) order in one BIGINT
_CLAIM_ORDER = 4294967296


@dataclass
class StoreFigures:
    """The unsuppressed description, and how many current records no link run placed."""

    description: Description
    unlinked_records: int


def _in(values: Sequence[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _common(a: str, b: str) -> str:
    """The shorter of the two lengths: dates compared at the precision both give."""
    return f"(CASE WHEN length({a}) < length({b}) THEN length({a}) ELSE length({b}) END)"


def _cmp(a: str, op: str, b: str, collate: str) -> str:
    n = _common(a, b)
    return f"(substr({a}, 1, {n}){collate} {op} substr({b}, 1, {n}){collate})"


def _year(col: str, dialect: str) -> str:
    head = f"substr({col}, 1, 4)"
    if dialect == "postgresql":
        test = f"{head} ~ '^[0-9]{{4}}$'"
    else:
        test = f"{head} GLOB '[0-9][0-9][0-9][0-9]'"
    return f"(CASE WHEN {test} THEN CAST({head} AS INTEGER) END)"


def _sql(dialect: str, source_ids: Sequence[int], linked: bool) -> str:
    """The one statement; ``source_ids`` in the order of the overlap pattern's flags."""
    collate = ' COLLATE "C"' if dialect == "postgresql" else ""
    ends, held, unid = _in(END_STATUSES), _in(HELD_STATUSES), _in(UNIDENTIFIED_STATUSES)
    year = _year("r.arrest_date", dialect)
    # one 0/1 column per source: is the person on it
    flags = [
        f"MAX(CASE WHEN source_id = {sid} THEN '1' ELSE '0' END) AS s{i}"
        for i, sid in enumerate(source_ids)
    ]
    pattern = " || ".join(f"s{i}" for i in range(len(source_ids))) or "''"
    if linked:
        membership = (
            "mem AS (SELECT r.source_id, r.record_id, pr.person_id, ROW_NUMBER() OVER "
            "(PARTITION BY r.source_id, r.record_id ORDER BY pr.id DESC) AS k "
            "FROM person_record pr JOIN record r ON r.id = pr.record_id), "
        )
        person = "COALESCE(m.person_id, -r.id)"
        unlinked = "CASE WHEN m.person_id IS NULL THEN 1 ELSE 0 END"
        join = (
            "LEFT JOIN mem m ON m.source_id = r.source_id AND m.record_id = r.record_id "
            "AND m.k = 1 "
        )
    else:
        membership, person, unlinked, join = "", "-r.id", "0", ""
    age = (
        "CASE WHEN birth_year IS NOT NULL AND yr IS NOT NULL THEN yr - birth_year "
        "WHEN age_min IS NOT NULL AND age_max IS NOT NULL THEN (age_min + age_max) / 2.0 "
        "WHEN age_min IS NOT NULL THEN age_min END"
    )
    unknown_age = AGE_GROUPS.index(UNKNOWN)
    group = (
        f"CASE WHEN age IS NULL THEN NULL WHEN age < 0 THEN {unknown_age} "
        "WHEN age < 18 THEN 0 WHEN age < 30 THEN 1 WHEN age < 45 THEN 2 "
        "WHEN age < 60 THEN 3 ELSE 4 END"
    )
    both_ends = "|".join(sorted(END_STATUSES))
    # the union's columns: dimension, key, count, then person, order, two dates (detail rows)
    nulls = "CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS TEXT), CAST(NULL AS TEXT)"
    named = (
        "CAST(NULL AS BIGINT) AS person, CAST(NULL AS BIGINT) AS ord, "
        "CAST(NULL AS TEXT) AS d1, CAST(NULL AS TEXT) AS d2"
    )
    return (
        "WITH " + membership + "rec0 AS ("
        f"SELECT r.id, {person} AS label, {unlinked} AS unlinked, r.source_id, "
        "NULLIF(r.sex_code, '') AS sex, "
        f"{year} AS yr, NULLIF(r.arrest_place_code, '') AS gov, "
        "NULLIF(r.facility_code, '') AS fac, r.last_seen_date, r.arrest_date, "
        "CASE WHEN r.last_seen_date <> '' THEN r.last_seen_date ELSE r.arrest_date END AS seen, "
        "r.birth_year, r.age_min, r.age_max "
        f"FROM record r {join}WHERE r.is_current), "
        # each record also carries its person's number of facility records and, when
        # that is one, the date of that sighting (a subquery with window functions is
        # not merged into the next one, so the age is computed once per record)
        "rec1 AS (SELECT id, label, unlinked, source_id, sex, yr, gov, fac, last_seen_date, "
        f"arrest_date, seen, {age} AS age, "
        "COUNT(fac) OVER (PARTITION BY label) AS nfac, "
        "MAX(CASE WHEN fac IS NOT NULL THEN seen END) OVER (PARTITION BY label) AS seen1 "
        "FROM rec0), "
        f"rec AS MATERIALIZED (SELECT rec1.*, {group} AS agrp FROM rec1), "
        "claims AS MATERIALIZED ("
        "SELECT rec.label, e.status_code AS st, e.event_date AS dt, "
        f"CAST(rec.id AS BIGINT) * {_CLAIM_ORDER} + e.id AS ord, rec.nfac, rec.seen1 "
        "FROM status_event e JOIN rec ON rec.id = e.record_id), "
        # per person: the kinds of end claims, undated ones, held and unidentified claims
        "cs AS (SELECT label, "
        + " + ".join(f"MAX(CASE WHEN st = '{e}' THEN 1 ELSE 0 END)" for e in END_STATUSES)
        + " AS nend, "
        f"MIN(CASE WHEN st IN {ends} THEN st END) AS endkind, "
        f"SUM(CASE WHEN st IN {ends} AND (dt IS NULL OR dt = '') THEN 1 ELSE 0 END) "
        "AS undated, "
        f"MAX(CASE WHEN st IN {held} THEN 1 ELSE 0 END) AS held, "
        f"MAX(CASE WHEN st IN {unid} THEN 1 ELSE 0 END) AS unid, "
        # one facility record: a release or death claim undated or on or after it
        f"MAX(CASE WHEN nfac = 1 AND st IN {ends} AND (dt IS NULL OR seen1 IS NULL OR "
        f"{_cmp('dt', '>=', 'seen1', collate)}) THEN 1 ELSE 0 END) AS accounted "
        "FROM claims GROUP BY label), "
        # held claims dated strictly later than every end claim of the person
        "hl AS (SELECT h.label, h.ord, h.st FROM claims h "
        f"JOIN claims d ON d.label = h.label AND d.st IN {ends} "
        f"WHERE h.st IN {held} AND h.dt <> '' GROUP BY h.label, h.ord, h.st "
        f"HAVING SUM(CASE WHEN {_cmp('h.dt', '>', 'd.dt', collate)} THEN 0 ELSE 1 END) = 0), "
        "hf AS (SELECT hl.label, hl.st FROM hl JOIN "
        "(SELECT label, MIN(ord) AS o FROM hl GROUP BY label) f "
        "ON f.label = hl.label AND f.o = hl.ord), "
        # the most frequent governorate, ties to the lowest code
        "gc AS (SELECT label, gov, COUNT(*) AS n FROM rec WHERE gov IS NOT NULL "
        "GROUP BY label, gov), "
        "gv AS (SELECT label, gov FROM (SELECT label, gov, ROW_NUMBER() OVER "
        f"(PARTITION BY label ORDER BY n DESC, gov{collate}) AS k FROM gc) g WHERE k = 1), "
        "p AS (SELECT label, "
        + "".join(f + ", " for f in flags)
        + "MIN(sex) AS sex1, MAX(sex) AS sex2, MIN(yr) AS yr, "
        "MIN(CASE WHEN agrp IS NOT NULL THEN CAST(id AS BIGINT) * 8 + agrp END) AS agekey, "
        "MAX(nfac) AS nfac, MAX(fac) AS fac1 "
        "FROM rec GROUP BY label), "
        f"pp AS MATERIALIZED (SELECT p.label, {pattern} AS pattern, "
        f"CASE WHEN sex1 <> sex2 THEN 'conflicting' ELSE COALESCE(sex1, '{UNKNOWN}') END "
        "AS sex, "
        f"COALESCE(CAST(yr AS TEXT), '{UNKNOWN}') AS yr, "
        f"COALESCE(gv.gov, '{UNKNOWN}') AS gov, "
        f"COALESCE(agekey % 8, {unknown_age}) AS agrp, "
        "CASE WHEN cs.nend > 1 THEN 'conflicting' "
        "WHEN cs.nend = 1 AND cs.undated = 0 AND hf.st IS NOT NULL THEN 'conflicting' "
        "WHEN cs.nend = 1 THEN cs.endkind WHEN cs.held = 1 THEN 'missing' "
        "WHEN cs.unid = 1 THEN 'unidentified' ELSE 'no_claim' END AS status, "
        f"CASE WHEN cs.nend > 1 THEN '{both_ends}' "
        "WHEN cs.nend = 1 AND cs.undated = 0 AND hf.st IS NOT NULL "
        "THEN cs.endkind || '|' || hf.st || ' later' END AS conflict, "
        "CASE WHEN nfac = 1 AND COALESCE(cs.accounted, 0) = 0 THEN fac1 END AS unaccounted "
        "FROM p LEFT JOIN gv ON gv.label = p.label LEFT JOIN cs ON cs.label = p.label "
        "LEFT JOIN hf ON hf.label = p.label), "
        "out AS ("
        f"SELECT 'persons' AS dim, '' AS k, COUNT(*) AS n, {named} FROM pp "
        f"UNION ALL SELECT 'unlinked', '', COALESCE(SUM(unlinked), 0), {nulls} FROM rec "
        f"UNION ALL SELECT 'overlap', pattern, COUNT(*), {nulls} FROM pp GROUP BY pattern "
        "UNION ALL SELECT 'facility', fac, COUNT(DISTINCT label), "
        f"{nulls} FROM rec WHERE fac IS NOT NULL GROUP BY fac "
        f"UNION ALL SELECT 'year', yr, COUNT(*), {nulls} FROM pp GROUP BY yr "
        f"UNION ALL SELECT 'governorate', gov, COUNT(*), {nulls} FROM pp GROUP BY gov "
        f"UNION ALL SELECT 'sex', sex, COUNT(*), {nulls} FROM pp GROUP BY sex "
        "UNION ALL SELECT 'age', CAST(agrp AS TEXT), COUNT(*), "
        f"{nulls} FROM pp GROUP BY agrp "
        f"UNION ALL SELECT 'status', status, COUNT(*), {nulls} FROM pp GROUP BY status "
        "UNION ALL SELECT 'conflict', conflict, COUNT(*), "
        f"{nulls} FROM pp WHERE conflict IS NOT NULL GROUP BY conflict "
        "UNION ALL SELECT 'unaccounted', unaccounted, COUNT(*), "
        f"{nulls} FROM pp WHERE unaccounted IS NOT NULL GROUP BY unaccounted "
        # detail rows, persons with several facility records: sightings, then end claims
        "UNION ALL SELECT 'sighting', fac, NULL, label, id, last_seen_date, arrest_date "
        "FROM rec WHERE nfac > 1 AND fac IS NOT NULL "
        "UNION ALL SELECT 'zclaim', st, NULL, label, ord, dt, NULL FROM claims "
        f"WHERE nfac > 1 AND st IN {ends}) "
        "SELECT * FROM out "
        "ORDER BY CASE WHEN person IS NULL THEN 0 ELSE 1 END, person, dim, ord"
    )


def _sources(conn: Connection) -> list[tuple[int, str]]:
    """(id, code) of the sources with current records, in code-point order of the code."""
    rows = conn.execute(
        text(
            "SELECT s.id, s.code FROM source s WHERE EXISTS "
            "(SELECT 1 FROM record r WHERE r.source_id = s.id AND r.is_current)"
        )
    )
    return sorted(((int(i), str(c)) for i, c in rows), key=lambda ic: ic[1])


def _multi_facility(rows: Iterator[Any], counts: Counter[str]) -> None:
    """Fold the detail rows (ordered by person, sightings before claims) person by person."""
    person: int | None = None
    sightings: list[RecordFacts] = []
    claims: list[Claim] = []

    def flush() -> None:
        last, seen = registry.last_sighting(sightings)
        if last is not None and not registry.accounted_for(seen, claims):
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
    sources = _sources(conn)
    codes = [c for _, c in sources]
    persons = unlinked = 0
    counts: dict[str, Counter[str]] = {d: Counter() for d in Description.DIMENSIONS}
    result = conn.execution_options(yield_per=10_000).execute(
        text(_sql(conn.dialect.name, [sid for sid, _ in sources], linked))
    )
    rows = iter(result)
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
            key = registry.pattern_key(on, codes)
            for c in on:
                counts["by_source"][c] += int(n)
        elif dim == "age":
            key = AGE_GROUPS[int(key)]
        counts[_DIMENSION[dim]][str(key)] += int(n)
    result.close()
    return StoreFigures(registry.description(persons, counts), unlinked)


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest
