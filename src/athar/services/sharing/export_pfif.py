"""PFIF 1.4 for a partner (``athar export pfif``): the partner export's records, as PFIF XML.

The same records go out as in :mod:`athar.services.sharing.export_partner`, under the same rules
(:mod:`athar.services.sharing.export_common`): a family record only under its request's current
consent for the scope, another source's records only when the operator names the source, the
same fields (never ``notes``, never a contact detail: PFIF's ``author_email``/``author_phone``
are never written), and every export audited (``export.pfif``).

How a record becomes PFIF 1.4:

* ``person_record_id`` is ``<source code>/<record id>``: the source stands as the record's home
  repository, PFIF's own provenance (give a source that partners see a domain-like code);
* ``entry_date`` and ``source_date`` are the time Athar stored the record (its import batch):
  Athar does not know when the source itself said it, and never claims an earlier time;
* names, sex, ``date_of_birth`` (partial dates as they are), ``age`` (a number or a range);
  a record with no name at all gets ``full_name`` :data:`UNKNOWN_NAME` (PFIF 1.4 requires one);
* the interchange fields PFIF has no field for (father's, grandfather's and mother's names,
  birth place, arrest date and place, facility, last seen, detainee number) are lines
  ``name: value`` of ``description``, which Athar's import reads back;
* a status is one nested ``note`` by the source: ``status`` from :data:`PFIF_STATUS`, ``text``
  the source's own word for it.

The document is written element by element (lxml's incremental writer): memory does not grow
with the number of records.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import Connection, Engine, select

from athar.ingest.pfif import (
    AGE_RE,
    DOB_RE,
    PFIF_STATUS,
    UNKNOWN_NAME,
    describe,
    format_datetime,
    split_record_id,
)
from athar.services.actor import Actor
from athar.services.casework.tracing_intake import FAMILY_SOURCE
from athar.services.sharing.export_common import (
    ExportError,
    ExportReport,
    audited_write,
    eligible_records,
    resolve_sources,
)
from athar.services.sharing.export_partner import COLUMNS, FAMILY_FIELDS, PARTNER_SCOPES
from athar.store.models import ImportBatch

NS = "http://zesty.ca/pfif/1.4"
_Q = {name: f"{{{NS}}}{name}" for name in (
    "pfif", "person", "note", "person_record_id", "entry_date", "source_date", "full_name",
    "given_name", "family_name", "sex", "date_of_birth", "age", "description",
    "note_record_id", "author_name", "status", "text", "source_name",
)}  # fmt: skip


def _when(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def pfif_age(text: Any, low: int | None, high: int | None) -> str | None:
    """PFIF's ``age`` (``N`` or ``N-M``): the source's text when it has that form, else the
    range Athar read from it."""
    if text is not None and AGE_RE.match(str(text).replace(" ", "")):
        return str(text).replace(" ", "")
    if low is None:
        return None
    return str(low) if high is None or high == low else f"{low}-{high}"


def pfif_id(code: str, record_id: str, family_domain: str) -> str:
    """A record's PFIF id: ``source/record_id``; a family's record is this instance's own
    (``ATHAR_PFIF_DOMAIN``/family.record_id), never ``family/...``, which an importing Athar
    would take for its own families' records."""
    if code == FAMILY_SOURCE:
        return f"{family_domain}/family.{record_id}"
    return f"{code}/{record_id}"


def check_source_codes(codes: Sequence[str]) -> None:
    """Refuse sources whose code cannot be the domain of a PFIF record id."""
    bad = [c for c in codes if split_record_id(f"{c}/x") is None]
    if bad:
        raise ExportError(
            f"source code(s) {', '.join(repr(c) for c in bad)} cannot be PFIF domains "
            "(letters, digits, '.', '_' and '-', starting with a letter or digit): a PFIF "
            "record id is domain/local-id"
        )


def person_element(code: str, rec: Any, stamp: str, family_domain: str) -> Any:
    """One record as a PFIF 1.4 ``person`` element (with its status note, if any)."""
    keep = FAMILY_FIELDS if code == FAMILY_SOURCE else COLUMNS.keys()
    cells = {c: getattr(rec, COLUMNS[c]) for c in keep if c in COLUMNS}
    pid = pfif_id(code, str(rec.record_id), family_domain)
    domain, local = pid.split("/", 1)
    p = etree.Element(_Q["person"], nsmap={"pfif": NS})

    def add(parent: Any, name: str, value: Any) -> None:
        if value is not None and str(value).strip():
            etree.SubElement(parent, _Q[name]).text = str(value)

    add(p, "person_record_id", pid)
    add(p, "entry_date", stamp)
    add(p, "source_name", code)
    add(p, "source_date", stamp)
    full = cells.get("full_name") or " ".join(
        str(v) for v in (cells.get("given_name"), cells.get("family_name")) if v
    )
    add(p, "full_name", full or UNKNOWN_NAME)
    add(p, "given_name", cells.get("given_name"))
    add(p, "family_name", cells.get("family_name"))
    if "sex" in cells:
        add(p, "sex", {"M": "male", "F": "female"}.get(rec.sex_code or ""))
    dob = cells.get("birth_date")
    if dob and DOB_RE.match(str(dob)):
        add(p, "date_of_birth", dob)
    if "age" in cells:
        add(p, "age", pfif_age(cells.get("age"), rec.age_min, rec.age_max))
    add(
        p, "description", describe(cells, name_from_parts=bool(full and not cells.get("full_name")))
    )
    status = PFIF_STATUS.get(rec.status_code or "") if "status" in cells else None
    if status is not None:
        n = etree.SubElement(p, _Q["note"])
        add(n, "note_record_id", f"{domain}/status.{local}")
        add(n, "person_record_id", pid)
        add(n, "entry_date", stamp)
        add(n, "author_name", code)
        add(n, "source_date", stamp)
        add(n, "status", status)
        add(n, "text", cells.get("status") or rec.status_code)
    return p


def export_pfif(
    engine: Engine,
    out: Path,
    *,
    scope: str,
    recipient: str,
    actor: Actor,
    sources: Sequence[str] = (),
    all_sources: bool = False,
    family_domain: str,
) -> ExportReport:
    """Write the records ``recipient`` may receive under consent ``scope`` as PFIF 1.4; a
    family's record is ``family_domain``/family.ID (``ATHAR_PFIF_DOMAIN``)."""
    if scope not in PARTNER_SCOPES:
        raise ExportError(
            f"unknown partner scope {scope!r}; choose one of {', '.join(PARTNER_SCOPES)}"
        )
    recipient = recipient.strip()
    if not recipient:
        raise ExportError("name the recipient (--recipient): every export says who received it")
    if Path(out).suffix.lower() != ".xml":
        raise ExportError(f"{out}: a PFIF export is XML; name the file *.xml")
    chosen: list[str] = []

    def write(conn: Connection, tmp: Path, report: ExportReport) -> int:
        chosen.extend(resolve_sources(conn, sources, all_sources))
        check_source_codes([*chosen, family_domain])
        stamps = {
            int(i): format_datetime(_when(t))
            for i, t in conn.execute(select(ImportBatch.id, ImportBatch.imported_at))
        }
        n = 0
        with etree.xmlfile(str(tmp), encoding="utf-8") as xf:
            xf.write_declaration()
            with xf.element(_Q["pfif"], nsmap={"pfif": NS}):
                for code, rec in eligible_records(conn, scope, chosen, report):
                    xf.write("\n  ")
                    xf.write(person_element(code, rec, stamps[int(rec.batch_id)], family_domain))
                    n += 1
                xf.write("\n")
        return n

    report = ExportReport(Path(out), "pfif", scope)
    return audited_write(
        engine,
        Path(out),
        report,
        write,
        actor=actor,
        detail={"recipient": recipient, "sources": chosen, "format": "PFIF 1.4"},
    )
