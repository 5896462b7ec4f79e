"""Pseudonymised research extracts (``athar export research``).

One row per current record that may go out (family records only with ``research`` consent;
other sources only when named, see :mod:`athar.services.sharing.export_common`), with:

* **pseudonyms, not ids**: ``record`` (and, only when asked for, ``person``) are HMAC-SHA256
  values keyed with a random salt made for this export and then thrown away (never stored,
  printed or logged).  Within one extract the same record carries the same pseudonym; two
  extracts share no pseudonym, so extracts cannot be joined with each other or traced back to
  Athar's ids, and a record id or reference never appears;
* **no person pseudonym by default** (issue 18, finding 13): the ``person`` column joins the
  records linked into one person, and the combination of a person's rows is far rarer than any
  one row (891 of 938 multi-row persons were unique in a test world), which small-cell
  suppression per row does not protect.  ``with_person=True`` (``--with-person``) adds it for
  a study that needs capture histories, and the audit event records the choice;
* **no name, no contact detail, no free text, no detainee number, no place below the
  governorate**: only the coded fields of :data:`HEADER`, and of those only the ones a study
  asks for (``columns``);
* **coarsened dates**: birth as the year only; arrest and last-seen dates as year-month
  (``dates="month"``, the default) or year (``dates="year"``); an age as a ten-year band;
* **small cells suppressed**: rows are grouped by source and every quasi-identifier
  (:data:`QUASI_IDENTIFIERS`); while a group holds fewer than ``k`` rows (``ATHAR_SMALL_CELL``,
  5 by default, the threshold ``GET /api/v1/stats`` uses), its rows take the next step of
  :data:`LADDER`: first coarser (birth year to a five-year, then a ten-year band; months to
  years), then suppressed one quasi-identifier at a time (shown as ``*``; an empty cell means
  the source did not say).  At the end every group of source and quasi-identifiers has at
  least ``k`` rows, except rows whose quasi-identifiers are all suppressed;
* rows sorted by pseudonym, so the order says nothing about when a record was imported.

CSV or XLSX by the file's suffix, both through :mod:`athar.ingest.safe_export`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from athar.ingest.safe_export import write_csv, write_xlsx
from athar.services.actor import Actor
from athar.services.sharing.export_common import (
    ExportError,
    ExportReport,
    audited_write,
    eligible_records,
    resolve_sources,
)
from athar.store.models import PersonRecord

SUPPRESSED = "*"
QUASI_IDENTIFIERS = (
    "sex",
    "birth_year",
    "age_band",
    "birth_governorate",
    "arrest_governorate",
    "arrest_period",
    "facility",
    "last_seen_period",
    "status",
)


def _band(width: int) -> Callable[[str], str]:
    """``1987`` or ``1985-1989`` -> the ``width``-year band holding its first year."""

    def step(value: str) -> str:
        first = int(value[:4]) // width * width
        return f"{first}-{first + width - 1}"

    return step


def _year(value: str) -> str:
    return value[:4]


def _cut(value: str) -> str:
    return SUPPRESSED


#: what a row in a small group gives up next, one step at a time: coarser first, then gone
LADDER: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("birth_year", _band(5)),
    ("arrest_period", _year),
    ("last_seen_period", _year),
    ("birth_year", _band(10)),
    ("age_band", _cut),
    ("last_seen_period", _cut),
    ("birth_year", _cut),
    ("birth_governorate", _cut),
    ("facility", _cut),
    ("arrest_period", _cut),
    ("arrest_governorate", _cut),
    ("status", _cut),
    ("sex", _cut),
)
HEADER = ("record", "person", "source", *QUASI_IDENTIFIERS)
DATE_PRECISIONS = ("year", "month")


def pseudonym(salt: bytes, kind: str, value: str) -> str:
    """A keyed pseudonym: the same (salt, kind, value) always gives the same text."""
    digest = hmac.new(salt, f"{kind}\x1f{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind[0]}{digest[:20]}"


def coarsen(date_text: str | None, dates: str) -> str | None:
    """``2012-05-03`` -> ``2012-05`` (month) or ``2012`` (year); a year stays a year."""
    if not date_text:
        return None
    return date_text[:7] if dates == "month" else date_text[:4]


def age_band(lo: int | None, hi: int | None) -> str | None:
    """A ten-year band (``20-29``) when the age (or its range) falls inside one, else unknown."""
    if lo is None or hi is None or lo // 10 != hi // 10:
        return None
    start = lo // 10 * 10
    return f"{start}-{start + 9}"


def suppress_small_cells(rows: list[list[Any]], k: int, header: Sequence[str]) -> dict[str, Any]:
    """Generalise, then suppress, quasi-identifiers in place until each group has ``k`` rows.

    ``rows`` are lists in ``header`` order.  A group is the source and the quasi-identifiers
    the header carries.  Only rows in a group smaller than ``k`` take the next step of
    :data:`LADDER`; returns how many cells were generalised and how many suppressed, in all
    and per column (``by_column``: column -> ``{"generalised": n, "suppressed": m}``).
    """
    changed: dict[str, Any] = {"generalised_cells": 0, "suppressed_cells": 0}
    by_column: dict[str, dict[str, int]] = {}
    changed["by_column"] = by_column
    key = [header.index("source"), *(i for i, c in enumerate(header) if c in QUASI_IDENTIFIERS)]

    def group(row: list[Any]) -> tuple[Any, ...]:
        return tuple(row[i] for i in key)

    for column, step in LADDER:
        if column not in header:
            continue
        at = header.index(column)
        groups = Counter(group(r) for r in rows)
        small = [r for r in rows if groups[group(r)] < k]
        del groups
        if not small:
            break
        kind = "suppressed_cells" if step is _cut else "generalised_cells"
        done: dict[str, str] = {}  # one string per distinct new value
        for r in small:
            value = r[at]
            if (value is None and step is not _cut) or value == SUPPRESSED:
                continue
            new = SUPPRESSED if value is None else done.setdefault(value, step(value))
            if new != value:
                r[at] = new
                changed[kind] += 1
                per = by_column.setdefault(column, {"generalised": 0, "suppressed": 0})
                per["suppressed" if kind == "suppressed_cells" else "generalised"] += 1
    return changed


def _persons(conn: Connection) -> dict[int, int]:
    """record id -> person id (its latest membership)."""
    rows = conn.execute(
        select(PersonRecord.record_id, PersonRecord.person_id).order_by(PersonRecord.id)
    )
    return {int(r): int(p) for r, p in rows}


def export_research(
    engine: Engine,
    out: Path,
    *,
    actor: Actor,
    sources: Sequence[str] = (),
    all_sources: bool = False,
    dates: str = "month",
    k: int = 5,
    columns: Sequence[str] | None = None,
    with_person: bool = False,
) -> ExportReport:
    """Write a pseudonymised extract to ``out`` (``.csv`` or ``.xlsx``); audited.

    ``columns`` names the quasi-identifiers to carry (default: all of them); asking only for
    what a study needs leaves larger groups, so less is suppressed.  ``with_person=True`` adds
    the ``person`` column, which joins a person's rows across sources and so can make a person
    unique although every row is in a group of ``k``: off by default (issue 18, finding 13).
    """
    suffix = Path(out).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ExportError(f"{out}: a research extract is written as .csv or .xlsx")
    if dates not in DATE_PRECISIONS:
        raise ExportError(f"dates must be one of {', '.join(DATE_PRECISIONS)}, not {dates!r}")
    if k < 2:
        raise ExportError(f"the small-cell threshold must be at least 2, not {k}")
    wanted = list(QUASI_IDENTIFIERS if columns is None else dict.fromkeys(columns))
    unknown = [c for c in wanted if c not in QUASI_IDENTIFIERS]
    if unknown or not wanted:
        raise ExportError(
            f"unknown column(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(QUASI_IDENTIFIERS)}"
        )
    quasi = [c for c in QUASI_IDENTIFIERS if c in wanted]
    header = ["record", *(["person"] if with_person else []), "source", *quasi]
    chosen: list[str] = []
    counts: dict[str, Any] = {}

    def write(conn: Connection, tmp: Path, report: ExportReport) -> int:
        chosen.extend(resolve_sources(conn, sources, all_sources))
        salt = secrets.token_bytes(32)  # this export's only key; dropped when it returns
        persons = _persons(conn) if with_person else {}
        person_names: dict[int, str] = {}
        canon: dict[Any, Any] = {}  # one object per distinct value: rows stay small
        rows: list[list[Any]] = []
        for code, rec in eligible_records(conn, "research", chosen, report):
            person = persons.get(int(rec.id))
            values = {
                "record": pseudonym(salt, "record", f"{code}\x1f{rec.record_id}"),
                "person": None
                if person is None
                else person_names.setdefault(person, pseudonym(salt, "person", str(person))),
                "source": code,
                "sex": rec.sex_code,
                "birth_year": None if rec.birth_year is None else str(rec.birth_year),
                "age_band": age_band(rec.age_min, rec.age_max),
                "birth_governorate": rec.birth_place_code,
                "arrest_governorate": rec.arrest_place_code,
                "arrest_period": coarsen(rec.arrest_date, dates),
                "facility": rec.facility_code,
                "last_seen_period": coarsen(rec.last_seen_date, dates),
                "status": rec.status_code,
            }
            rows.append(
                [
                    canon.setdefault(values[c], values[c]) if c in QUASI_IDENTIFIERS else values[c]
                    for c in header
                ]
            )
        del persons, person_names, canon
        counts.update(suppress_small_cells(rows, k, header))
        rows.sort(key=lambda r: str(r[0]))
        if suffix == ".xlsx":
            return write_xlsx(tmp, header, rows, sheet="research")
        return write_csv(tmp, header, rows)

    report = ExportReport(Path(out), "research", "research")
    audited_write(
        engine,
        Path(out),
        report,
        write,
        actor=actor,
        detail={
            "sources": chosen,
            "columns": header,
            "dates": dates,
            "small_cell": k,
            "with_person": with_person,
            "counts": counts,
        },
    )
    return report
