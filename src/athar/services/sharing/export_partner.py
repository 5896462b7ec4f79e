"""Consent-filtered interchange CSV or XLSX for a named partner (``athar export partner``).

The file follows the interchange schema (``source``, ``record_id`` and the person's details)
and is written through :mod:`athar.ingest.safe_export`, so no cell can run as a formula.  Which
records go out is decided in :mod:`athar.services.sharing.export_common`: a family record only if its
request's current consent includes the scope, another source's records only if the operator
names that source.

Which fields go out:

* **Family records** carry only what the family told Athar about the *missing person*
  (:data:`FAMILY_FIELDS`: names, sex, birth date, age, places, arrest date, facility, last
  seen, status).  Nothing about the family ever goes out: not the relative's name, not the
  relationship, no contact detail, not their account (``circumstances``), not the photo, not
  the request's status or case notes.  Those live in ``tracing_request`` and are never read
  here.
* **Other sources' records** carry the interchange columns except ``notes``: free text can
  name witnesses or relatives, and no scope covers it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from athar.domain.fields import exportable_fields
from athar.ingest.safe_export import write_csv, write_xlsx
from athar.services.actor import Actor
from athar.services.casework.tracing_intake import CONSENT_SCOPES, FAMILY_SOURCE, RECORD_FIELDS
from athar.services.sharing.export_common import (
    ExportError,
    ExportReport,
    audited_write,
    eligible_records,
    resolve_sources,
)

#: scopes a partner export may be made for; ``research`` goes through the research extract
PARTNER_SCOPES = tuple(code for code, _ in CONSENT_SCOPES if code != "research")

#: interchange column -> ``record`` column holding the source's own text (no ``notes``)
COLUMNS: dict[str, str] = {
    "source": "source_code",
    **{f.name: f.text_column for f in exportable_fields() if f.name != "source"},
}
#: the file kinds a partner export is written as, by the name's suffix: XLSX for a partner
#: whose spreadsheet splits CSV at ``;`` (every cell a string, never a formula)
WRITERS: dict[str, Callable[..., int]] = {".csv": write_csv, ".xlsx": write_xlsx}
#: what a family record may carry: the missing person's details the intake form asked for
FAMILY_FIELDS = frozenset({"source", "record_id", "status", *RECORD_FIELDS})


def export_partner(
    engine: Engine,
    out: Path,
    *,
    scope: str,
    recipient: str,
    actor: Actor,
    sources: Sequence[str] = (),
    all_sources: bool = False,
) -> ExportReport:
    """Write the records ``recipient`` may receive under consent ``scope`` to ``out``:
    interchange CSV (every field quoted) or, for a name ending ``.xlsx``, XLSX."""
    if scope not in PARTNER_SCOPES:
        hint = " (use `athar export research`)" if scope == "research" else ""
        raise ExportError(
            f"unknown partner scope {scope!r}{hint}; choose one of {', '.join(PARTNER_SCOPES)}"
        )
    recipient = recipient.strip()
    if not recipient:
        raise ExportError("name the recipient (--recipient): every export says who received it")
    suffix = Path(out).suffix.lower()
    if suffix not in WRITERS:
        raise ExportError(
            f"{out}: a partner export is interchange CSV or XLSX; name the file *.csv or *.xlsx"
        )
    writer = WRITERS[suffix]
    header = list(COLUMNS)
    chosen: list[str] = []

    def write(conn: Connection, tmp: Path, report: ExportReport) -> int:
        chosen.extend(resolve_sources(conn, sources, all_sources))

        def rows() -> Iterator[list[Any]]:
            for code, rec in eligible_records(conn, scope, chosen, report):
                keep = FAMILY_FIELDS if code == FAMILY_SOURCE else COLUMNS.keys()
                yield [getattr(rec, COLUMNS[c]) if c in keep else None for c in header]

        return writer(tmp, header, rows())

    report = ExportReport(Path(out), "partner", scope)
    return audited_write(
        engine,
        Path(out),
        report,
        write,
        actor=actor,
        detail={"recipient": recipient, "sources": chosen, "columns": header},
    )
