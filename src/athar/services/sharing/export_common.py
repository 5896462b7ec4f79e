"""What may leave the store, and how an export file is written and audited.

Both exports (:mod:`athar.services.sharing.export_partner`, :mod:`athar.services.sharing.export_research`)
choose their rows here, with one rule for each kind of record:

* **Family records** (source ``family``: the missing person's details from a tracing request)
  go out only when the request's *current* consent (``TracingRequest.consent``) includes the
  export's scope.  Consent is read in the same snapshot as the records, so a withdrawal
  committed before an export starts always takes effect in it.  A family record with no
  tracing request behind it (no consent on file) never goes out.
* **Records of every other source** (an NGO's list, a register, the unidentified intake) were
  given to Athar under that source's own sharing terms, which the family's consent cannot
  widen.  They go out only when the operator names the source for this export (``--source``),
  which records in the audit log that the operator vouches for that source's terms.  Nothing is
  included by default.
* Only current versions.  Never a person or cluster id: that would tell the recipient which
  other records Athar linked to a family's request.

The rows are read from one consistent snapshot (a read transaction, which on SQLite does not
hold the write lock, so the web app keeps writing during a long export) into a temporary file
beside the destination; then the audit event (who, scope, recipient, sources, row counts,
SHA-256 of the file) is appended and committed in a short transaction of its own, and only then
is the file moved into place: an export that could not be audited leaves no file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, select

from athar.errors import InvalidInput
from athar.services.actor import Actor
from athar.services.audit import AuditAction, append_event
from athar.services.casework.tracing_intake import FAMILY_SOURCE
from athar.store.casework import TracingRequest
from athar.store.engine import begin_write
from athar.store.keycheck import check_keys, configured_ring
from athar.store.models import Record, Source

#: the audit action of each kind of export
EXPORT_ACTIONS = {
    "partner": AuditAction.EXPORT_PARTNER,
    "research": AuditAction.EXPORT_RESEARCH,
    "pfif": AuditAction.EXPORT_PFIF,
}


class ExportError(ValueError, InvalidInput):
    """The export cannot be made as asked (nothing is written)."""

    code = "export_refused"


@dataclass
class ExportReport:
    """What an export wrote; the same figures are in its audit event."""

    path: Path
    kind: str
    scope: str
    rows: int = 0
    family_rows: int = 0
    #: family records left out because their consent does not include the scope
    family_withheld: int = 0
    source_rows: dict[str, int] = field(default_factory=dict)
    sha256: str = ""
    audit_seq: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def resolve_sources(conn: Connection, named: Sequence[str], all_sources: bool) -> list[str]:
    """The non-family sources the operator named (all of them with ``all_sources``)."""
    known = {str(c) for c in conn.execute(select(Source.code)).scalars()}
    if FAMILY_SOURCE in named:
        raise ExportError(
            f"source {FAMILY_SOURCE!r} cannot be named: family records go out only under "
            "each request's own consent, and are always considered"
        )
    unknown = sorted(set(named) - known)
    if unknown:
        raise ExportError(f"unknown source(s): {', '.join(unknown)}")
    if all_sources:
        return sorted(known - {FAMILY_SOURCE})
    return sorted(set(named))


def consent_by_record(conn: Connection) -> dict[tuple[int, str], list[str]]:
    """(source id, record id) of each tracing request's family record -> its current consent."""
    rows = conn.execute(
        select(Record.source_id, Record.record_id, TracingRequest.consent).join(
            TracingRequest, TracingRequest.record_id == Record.id
        )
    )
    return {(int(s), str(r)): list(c or []) for s, r, c in rows}


def eligible_records(
    conn: Connection, scope: str, sources: Sequence[str], report: ExportReport
) -> Iterator[tuple[str, Any]]:
    """(source code, ``record`` row) of every current record that may go out under ``scope``.

    Counts family rows sent and withheld, and rows per named source, into ``report``.
    """
    codes = [FAMILY_SOURCE, *sources]
    consent = consent_by_record(conn)
    table = cast(Table, Record.__table__)
    query = (
        select(Source.code.label("source_code"), table)
        .join(Source, Source.id == table.c.source_id)
        .where(table.c.is_current.is_(True), Source.code.in_(codes))
        .order_by(table.c.id)
    )
    for record in conn.execute(query).yield_per(1000):
        code = str(record.source_code)
        if code == FAMILY_SOURCE:
            if scope not in consent.get((record.source_id, record.record_id), []):
                report.family_withheld += 1
                continue
            report.family_rows += 1
        else:
            report.source_rows[code] = report.source_rows.get(code, 0) + 1
        yield code, record


def audited_write(
    engine: Engine,
    out: Path,
    report: ExportReport,
    write: Any,
    *,
    actor: Actor,
    detail: dict[str, Any],
) -> ExportReport:
    """Run ``write(conn, tmp_path, report) -> rows`` on one snapshot, audit it, move it in."""
    out = Path(out)
    if out.is_dir():
        raise ExportError(f"{out} is a directory")
    if not out.parent.is_dir():
        raise ExportError(f"{out.parent} is not an existing directory")
    ring = configured_ring()
    if ring is not None:  # a wrong key file is refused before anything leaves (issue 18, 8)
        check_keys(engine, ring, doing="export")
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.part{out.suffix}")
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":  # one snapshot for every statement
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                report.rows = int(write(conn, tmp, report))
        report.sha256 = file_sha256(tmp)
        with begin_write(engine) as conn:
            report.detail = {
                "kind": report.kind,
                "scope": report.scope,
                **detail,
                "file": out.name,
                "sha256": report.sha256,
                "rows": report.rows,
                "family_rows": report.family_rows,
                "family_withheld_no_consent": report.family_withheld,
                "source_rows": dict(sorted(report.source_rows.items())),
            }
            report.audit_seq = append_event(
                conn,
                actor=actor.label,
                action=EXPORT_ACTIONS[report.kind],
                entity_type="export",
                entity_id=report.scope,
                detail=report.detail,
            )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return report
