"""Pseudonymised research extracts (``athar export research``).

One row per current record that may go out (family records only with ``research`` consent;
other sources only when named, see :mod:`athar.services.export_common`), with:

* **pseudonyms, not ids**: ``record`` and ``person`` are HMAC-SHA256 values keyed with a
  random salt made for this export and then thrown away (never stored, printed or logged).
  Within one extract the same record, and the records linked into the same person, carry the
  same pseudonym, so a researcher can count people and their capture histories; two extracts
  share no pseudonym, so extracts cannot be joined with each other or traced back to Athar's
  ids, and a record id or reference never appears;
* **no name, no contact detail, no free text, no detainee number, no place below the
  governorate**: only the coded fields of :data:`HEADER`;
* **coarsened dates**: birth as the year only; arrest and last-seen dates as year-month
  (``dates="month"``, the default) or year (``dates="year"``); an age as a ten-year band;
* **small cells suppressed**: rows are grouped by source and every quasi-identifier
  (:data:`QUASI_IDENTIFIERS`); while a group holds fewer than ``k`` rows (``ATHAR_SMALL_CELL``,
  5 by default, the threshold ``GET /api/v1/stats`` uses), its rows lose their next
  quasi-identifier in :data:`SUPPRESS_ORDER` (shown as ``*``; an empty cell means the source did
  not say).  At the end every group of source and quasi-identifiers has at least ``k`` rows,
  except rows whose quasi-identifiers are all suppressed;
* rows sorted by pseudonym, so the order says nothing about when a record was imported.

CSV or XLSX by the file's suffix, both through :mod:`athar.ingest.safe_export`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from athar.ingest.safe_export import write_csv, write_xlsx
from athar.services.export_common import (
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
#: which quasi-identifier a row in a small group loses first (the most identifying first)
SUPPRESS_ORDER = (
    "birth_year",
    "arrest_period",
    "last_seen_period",
    "age_band",
    "facility",
    "arrest_governorate",
    "birth_governorate",
    "status",
    "sex",
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


def suppress_small_cells(rows: list[dict[str, Any]], k: int) -> int:
    """Suppress quasi-identifiers in place until each group has ``k`` rows; returns cells cut."""
    cut = 0
    for column in SUPPRESS_ORDER:
        groups = Counter(_group(r) for r in rows)
        small = [r for r in rows if groups[_group(r)] < k]
        if not small:
            break
        for r in small:
            if r[column] != SUPPRESSED:
                r[column] = SUPPRESSED
                cut += 1
    return cut


def _group(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["source"], *(row[c] for c in QUASI_IDENTIFIERS))


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
    actor: str,
    sources: Sequence[str] = (),
    all_sources: bool = False,
    dates: str = "month",
    k: int = 5,
) -> ExportReport:
    """Write a pseudonymised extract to ``out`` (``.csv`` or ``.xlsx``); audited."""
    suffix = Path(out).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ExportError(f"{out}: a research extract is written as .csv or .xlsx")
    if dates not in DATE_PRECISIONS:
        raise ExportError(f"dates must be one of {', '.join(DATE_PRECISIONS)}, not {dates!r}")
    if k < 2:
        raise ExportError(f"the small-cell threshold must be at least 2, not {k}")
    chosen: list[str] = []
    counts: dict[str, int] = {}

    def write(conn: Connection, tmp: Path, report: ExportReport) -> int:
        chosen.extend(resolve_sources(conn, sources, all_sources))
        salt = secrets.token_bytes(32)  # this export's only key; dropped when it returns
        persons = _persons(conn)
        rows: list[dict[str, Any]] = []
        for code, rec in eligible_records(conn, "research", chosen, report):
            person = persons.get(int(rec.id))
            rows.append(
                {
                    "record": pseudonym(salt, "record", f"{code}\x1f{rec.record_id}"),
                    "person": None if person is None else pseudonym(salt, "person", str(person)),
                    "source": code,
                    "sex": rec.sex_code,
                    "birth_year": rec.birth_year,
                    "age_band": age_band(rec.age_min, rec.age_max),
                    "birth_governorate": rec.birth_place_code,
                    "arrest_governorate": rec.arrest_place_code,
                    "arrest_period": coarsen(rec.arrest_date, dates),
                    "facility": rec.facility_code,
                    "last_seen_period": coarsen(rec.last_seen_date, dates),
                    "status": rec.status_code,
                }
            )
        counts["suppressed_cells"] = suppress_small_cells(rows, k)
        rows.sort(key=lambda r: r["record"])
        table = ([r[c] for c in HEADER] for r in rows)
        if suffix == ".xlsx":
            return write_xlsx(tmp, HEADER, table, sheet="research")
        return write_csv(tmp, HEADER, table)

    report = ExportReport(Path(out), "research", "research")
    audited_write(
        engine,
        Path(out),
        report,
        write,
        actor=actor,
        detail={
            "sources": chosen,
            "columns": list(HEADER),
            "dates": dates,
            "small_cell": k,
            "counts": counts,
        },
    )
    return report
