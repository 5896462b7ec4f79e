"""The statement that counts the registry's descriptive figures in the database.

The person rules of :mod:`athar.domain.person`, written in SQL: one read-only statement
groups the current records by person and counts each dimension with ``GROUP BY``, on SQLite
and on PostgreSQL.  What comes back is a few hundred rows of counts, plus the facility
sightings and release/death claims of the persons with two or more records naming a
facility (for those the last facility is a left-to-right fold that
:mod:`athar.services.figures.counts`, the read model that owns this statement, does in
Python).  The store imports no rule: the status and age-group codes come in as
:class:`Codes`, from the domain, through that service.

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

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

#: ``record.id`` and ``status_event.id`` are 32-bit: (record, claim) order in one BIGINT
_CLAIM_ORDER = 4294967296


@dataclass(frozen=True)
class Codes:
    """The codes the statement's rules use (:mod:`athar.domain.person` declares them)."""

    end_statuses: Sequence[str]
    held_statuses: Sequence[str]
    unidentified: Sequence[str]
    #: age groups in their published order; the statement returns a group as its index
    age_groups: Sequence[str]
    unknown: str


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


def _sql(dialect: str, source_ids: Sequence[int], linked: bool, codes: Codes) -> str:
    """The one statement; ``source_ids`` in the order of the overlap pattern's flags."""
    collate = ' COLLATE "C"' if dialect == "postgresql" else ""
    ends, held, unid = _in(codes.end_statuses), _in(codes.held_statuses), _in(codes.unidentified)
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
    unknown_age = codes.age_groups.index(codes.unknown)
    group = (
        f"CASE WHEN age IS NULL THEN NULL WHEN age < 0 THEN {unknown_age} "
        "WHEN age < 18 THEN 0 WHEN age < 30 THEN 1 WHEN age < 45 THEN 2 "
        "WHEN age < 60 THEN 3 ELSE 4 END"
    )
    both_ends = "|".join(sorted(codes.end_statuses))
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
        + " + ".join(f"MAX(CASE WHEN st = '{e}' THEN 1 ELSE 0 END)" for e in codes.end_statuses)
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
        f"CASE WHEN sex1 <> sex2 THEN 'conflicting' ELSE COALESCE(sex1, '{codes.unknown}') END "
        "AS sex, "
        f"COALESCE(CAST(yr AS TEXT), '{codes.unknown}') AS yr, "
        f"COALESCE(gv.gov, '{codes.unknown}') AS gov, "
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


def current_sources(conn: Connection) -> list[tuple[int, str]]:
    """(id, code) of the sources with current records, in code-point order of the code."""
    rows = conn.execute(
        text(
            "SELECT s.id, s.code FROM source s WHERE EXISTS "
            "(SELECT 1 FROM record r WHERE r.source_id = s.id AND r.is_current)"
        )
    )
    return sorted(((int(i), str(c)) for i, c in rows), key=lambda ic: ic[1])


def figure_rows(
    conn: Connection, source_ids: Sequence[int], linked: bool, codes: Codes
) -> Generator[Any, None, None]:
    """Stream the statement's rows: (dimension, key, count, person, order, date, date).

    The count rows come first (person empty), then the detail rows ordered by person, each
    person's sightings before their claims.  ``source_ids`` in the order of the overlap
    pattern's flags; ``linked``: a link run exists, so records are grouped by their
    memberships (otherwise each record is a person)."""
    result = conn.execution_options(yield_per=10_000).execute(
        text(_sql(conn.dialect.name, source_ids, linked, codes))
    )
    try:
        yield from result
    finally:
        result.close()
