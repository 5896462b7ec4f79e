"""The import service: the one write path for lists coming into the registry.

For each file (a failed file leaves nothing behind):

1. read it with the reader its extension calls for (CSV, XLSX, JSON), through an optional
   column mapping, within the limits of :mod:`athar.ingest.limits` (checked before parsing
   where the format allows: a workbook's zipped parts and shared strings); a file that cannot
   be read, is not in an accepted encoding, is past a limit or lacks a ``source``/``record_id``
   column is *unusable*: nothing is stored (exit code 2).  A workbook is parsed once;
2. find ``(source, record_id)`` pairs used by more than one row (a streaming pass that
   keeps only 8 bytes per row);
3. parse and validate every row (:func:`athar.domain.record.parse_row`), collecting every
   problem with file, row, column and reason, and decide each row's fate into a temporary
   spool.  All of this happens *before* the write transaction, so the store's write lock
   is never held while a file is parsed;
4. in one transaction, store what was decided: rows with errors go to ``quarantine_row``
   with all their problems; none is dropped unreported (past ``quarantine_per_problem`` rows
   with the same problems, the rest are reported and counted, and stored as one summary row);
   valid
   rows become ``record`` rows with their raw cells.  A row identical to the current
   version of its ``(source, record_id)`` changes nothing; a changed row becomes a new
   version, the old one is kept, and a ``record_change`` row says what changed;
5. write one ``status_event`` (a claim, with its source record) per record with a status,
   the batch's counts, and an audit event.

Importing the same file again with the same options changes nothing (the batch is
recognised by its content hash); a file whose rows are all unchanged stores nothing either.
"""

from __future__ import annotations

import gc
import hashlib
import json
import operator
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import Connection, Engine, bindparam

from athar.domain.fields import record_columns
from athar.domain.quoting import quote
from athar.domain.record import ERROR, WARNING, Issue, clean_text, parse_row, storable
from athar.domain.sources import is_reserved, reserved_message
from athar.ingest.columns import ColumnPlan
from athar.ingest.limits import Deadline, InputLimits, current_limits
from athar.ingest.mapping import Mapping, MappingError, load_mapping
from athar.ingest.readers import (
    CsvTable,
    RawRow,
    Spool,
    Table,
    UnusableInput,
    csv_columns,
    open_table,
)
from athar.progress import SILENT, Progress
from athar.services.actor import Actor, default_actor
from athar.services.audit import AuditAction, append_event
from athar.store import statements as sql
from athar.store.bulk import IdAllocator, bulk_insert
from athar.store.engine import begin_write
from athar.store.migrate import require_current

#: parsed fields stored on each record, in table order after the bookkeeping columns
PARSED_COLUMNS: tuple[str, ...] = record_columns()
_parsed_values = operator.itemgetter(*PARSED_COLUMNS)
RECORD_COLUMNS: tuple[str, ...] = (
    "id",
    "source_id",
    "record_id",
    "version",
    "is_current",
    "batch_id",
    "row_number",
    "content_hash",
    "raw",
    "extra",
    *PARSED_COLUMNS,
)
STATUS_COLUMNS = (
    "record_id",
    "source_id",
    "status_code",
    "status_text",
    "event_date",
    "event_date_precision",
    "facility_code",
    "created_at",
)
QUARANTINE_COLUMNS = (
    "batch_id",
    "file_name",
    "row_number",
    "source_code",
    "record_id",
    "raw",
    "problems",
    "created_at",
)
CHANGE_COLUMNS = ("batch_id", "old_record_id", "new_record_id", "changes", "created_at")
HINT_COLUMNS = (
    "record_id",
    "batch_id",
    "linked_source",
    "linked_record_id",
    "note_id",
    "note",
    "created_at",
)


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None
    column: str | None
    reason: str
    severity: str = ERROR


@dataclass
class ImportOptions:
    source: str | None = None
    mapping: Path | None = None
    actor: Actor = field(default_factory=lambda: Actor(default_actor()))
    keep_extra: bool = False
    today: date | None = None
    chunk_size: int = 5000
    max_problems: int = 1000  # kept in the result; every problem goes to ``on_problem``
    on_problem: Callable[[Problem], None] | None = None
    limits: InputLimits | None = None  # None: :func:`athar.ingest.limits.current_limits`
    #: seconds reading and checking the file may take (None: no limit); web uploads set it
    time_limit: float | None = None
    #: who hears how far the import has got (the command line's reporter; default silent)
    progress: Progress = field(default=SILENT, compare=False, repr=False)
    #: may rows of a reserved source (``family``, ``unidentified``) be imported at all?  The
    #: operator's ``athar import`` loads legacy family lists (new records only: a new version
    #: of a stored one is always refused); web uploads never may (issue 18, finding 6)
    reserved_sources: bool = True


@dataclass
class FileResult:
    path: Path
    outcome: str = "stored"  # stored | quarantined | unchanged | already_imported | unusable
    batch_id: int | None = None
    rows_total: int = 0
    rows_new: int = 0
    rows_new_version: int = 0
    rows_unchanged: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0  # every row with an error (each one is reported)
    #: of those, rows not stored one by one: past the limit of rows with the same problems,
    #: each group is stored as one summary quarantine row (its first such row, and a count)
    rows_quarantine_summarised: int = 0
    quarantine_summaries: int = 0
    warnings: int = 0
    errors: int = 0
    sources: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    problem_counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    message: str | None = None

    @property
    def exit_code(self) -> int:
        if self.outcome == "unusable":
            return 2
        return 1 if self.rows_quarantined else 0


class _NothingChanged(Exception):
    pass


class _AlreadyImported(Exception):
    def __init__(self, batch_id: int) -> None:
        super().__init__(batch_id)
        self.batch_id = batch_id


#: PostgreSQL advisory lock key held by an import batch for its transaction ("ATHAR")
IMPORT_LOCK = 0x4154484152


def _prior_batch(where: Engine | Connection, content_hash: str, options_hash: str) -> int | None:
    q = sql.PRIOR_BATCH
    params = {"h": content_hash, "o": options_hash}
    if isinstance(where, Engine):
        with where.connect() as conn:
            got = conn.execute(q, params).scalar()
    else:
        got = where.execute(q, params).scalar()
    return None if got is None else int(got)


def _already(result: FileResult, batch_id: int) -> FileResult:
    result.outcome, result.batch_id = "already_imported", batch_id
    result.message = f"this file was already imported as batch {batch_id}; nothing changed"
    return result


_JSON_TEXT = json.JSONEncoder(ensure_ascii=False, default=str).encode
_JSON_ASCII = json.JSONEncoder(ensure_ascii=True, default=str).encode


def _json(value: Any) -> str:
    s = _JSON_TEXT(value)
    if not s.isascii():
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates (possible in JSON input): keep them escaped
            s = _JSON_ASCII(value)
    return s


def _content_hash(cells: dict[str, str], extra: dict[str, Any]) -> str:
    """Hash of a row's meaning: its interchange cells (stripped) and kept extra attributes."""
    text = "\x1e".join(map("\x1f".join, sorted(cells.items())))
    if extra:
        text += "\x1d" + json.dumps(extra, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _key_hash(source: str | None, record_id: str | None) -> int:
    d = hashlib.blake2b(f"{source}\x1f{record_id}".encode("utf-8", "surrogatepass"), digest_size=8)
    return int.from_bytes(d.digest(), "little", signed=True)


def _options_hash(opts: ImportOptions, mapping: Mapping | None) -> str:
    doc = {
        "source": opts.source,
        "mapping": mapping.content_hash if mapping else None,
        "keep_extra": opts.keep_extra,
    }
    return hashlib.sha256(_json(doc).encode()).hexdigest()


def _row_key(plan: ColumnPlan, raw: Any) -> tuple[str | None, str | None]:
    s, r = plan.key(raw)
    return (clean_text(s) or None if s else None), (clean_text(r) or None if r else None)


def _duplicate_keys(table: Table, plan: ColumnPlan, deadline: Deadline) -> set[int]:
    """Hashes of (source, record_id) pairs used by more than one row (8 bytes per row)."""
    hashes = array("q")
    cols = plan.key_columns
    if isinstance(table, CsvTable) and cols is not None and cols[1] is not None:
        src_col, id_col = cols[0], cols[1]
        fixed = plan.mapping.constants.get("source") or plan.source_option
        wanted: list[str] = [id_col] if src_col is None else [id_col, src_col]
        for n, cells in enumerate(csv_columns(table, wanted)):
            if not n % 4096 and deadline.expired():
                raise UnusableInput(deadline.message(table.path.name))
            rid = cells[0]
            src = (cells[1] if src_col is not None else None) or fixed
            if src and rid:
                s, r = clean_text(src), clean_text(rid)
                if s and r:
                    hashes.append(_key_hash(s, r))
    else:
        for n, row in enumerate(table.rows()):
            if not n % 4096 and deadline.expired():
                raise UnusableInput(deadline.message(table.path.name))
            s2, r2 = _row_key(plan, row.raw)
            if s2 and r2:
                hashes.append(_key_hash(s2, r2))
    if not hashes:
        return set()
    values, counts = np.unique(np.frombuffer(hashes, dtype=np.int64), return_counts=True)
    return {int(v) for v in values[counts > 1]}


class _Report:
    """Reports every problem and decides what becomes of each row, before any write.

    It runs outside the write transaction: what it decides goes to a :class:`Spool` that
    :meth:`_Batch.store` then only inserts.  Rows with an error are quarantined; past
    ``limits.quarantine_per_problem`` rows with the same errors, further ones are still
    reported and counted but stored together as one summary quarantine row.
    """

    def __init__(self, result: FileResult, opts: ImportOptions, limits: InputLimits) -> None:
        self.result = result
        self.opts = opts
        self.file = result.path.name
        self.per_problem = limits.quarantine_per_problem
        self.spool = Spool()
        self._seen: dict[tuple[tuple[str, str], ...], int] = {}
        #: problems -> [first row not stored one by one, its issues, count, last row]
        self._summaries: dict[tuple[tuple[str, str], ...], list[Any]] = {}

    def problem(self, row: int | None, issue: Issue) -> None:
        p = Problem(self.file, row, issue.column, issue.reason, issue.severity)
        r = self.result
        if issue.severity == ERROR:
            r.errors += 1
        else:
            r.warnings += 1
        r.problem_counts[(issue.severity, issue.column or "(row)")] += 1
        if len(r.problems) < self.opts.max_problems:
            r.problems.append(p)
        if self.opts.on_problem is not None:
            self.opts.on_problem(p)

    def quarantine_row(self, row: Prepared, issues: list[Issue]) -> None:
        self.result.rows_quarantined += 1
        key = tuple(sorted({(i.column or "", i.reason) for i in issues if i.severity == ERROR}))
        seen = self._seen[key] = self._seen.get(key, 0) + 1
        if seen <= self.per_problem:
            self.spool.append(("q", row, issues))
            return
        self.result.rows_quarantine_summarised += 1
        got = self._summaries.get(key)
        if got is None:
            self._summaries[key] = [row, issues, 1, row.number]
        else:
            got[2] += 1
            got[3] = row.number

    def add_record(self, row: Prepared) -> None:
        self.spool.append(("r", row, None))

    def finish(self) -> None:
        for row, issues, count, last in self._summaries.values():
            note = Issue(
                None,
                f"{count} rows from row {row.number} to row {last} have exactly the problems of "
                f"this row, beyond the {self.per_problem} rows with them stored one by one; "
                "they are kept as this one row (the import report lists every one)",
            )
            self.spool.append(("q", row, [*issues, note]))
            self.result.quarantine_summaries += 1
        self._summaries.clear()


class _Batch:
    """Writes one file's rows inside the caller's transaction."""

    def __init__(
        self,
        conn: Connection,
        result: FileResult,
        opts: ImportOptions,
        batch_id: int,
        now: datetime,
    ) -> None:
        self.conn = conn
        self.result = result
        self.opts = opts
        self.batch_id = batch_id
        self.now = now
        # the time written into each bulk-inserted row: on SQLite the very text its driver
        # would write for ``now`` (ISO 8601 with offset), made once instead of once per row
        self.stamp: Any = now.isoformat(" ") if conn.dialect.name == "sqlite" else now
        self.file = result.path.name
        self.sources: dict[str, tuple[int, bool]] = {}
        self.created_sources: list[str] = []
        self.records: list[Prepared] = []
        self.quarantine: list[tuple[Any, ...]] = []
        self.ids = IdAllocator(conn, "record")

    # -- sources --------------------------------------------------------------------------
    def source(self, code: str) -> tuple[int, bool]:
        got = self.sources.get(code)
        if got is not None:
            return got
        c = self.conn
        sid = c.execute(sql.SOURCE_ID_BY_CODE, {"c": code}).scalar()
        if sid is None:
            sid = c.execute(
                sql.INSERT_SOURCE,
                {"c": code, "t": self.now},
            ).scalar()
            if sid is not None:
                self.created_sources.append(code)
                self.sources[code] = (int(sid), False)
                return self.sources[code]
            # created by a concurrent writer since our first look
            sid = c.execute(sql.SOURCE_ID_BY_CODE, {"c": code}).scalar_one()
        had = c.execute(sql.SOURCE_HAS_RECORDS, {"s": sid}).first() is not None
        self.sources[code] = (int(sid), had)
        return self.sources[code]

    # -- rows -----------------------------------------------------------------------------
    def store(self, spool: Spool) -> None:
        """Insert what :class:`_Report` decided, in chunks (no parsing happens here)."""
        for kind, row, issues in spool:
            if kind == "r":
                self.add_record(row)
            else:
                self.quarantine_row(row, issues)
        self.finish()

    def quarantine_row(self, row: Prepared, issues: Iterable[Issue]) -> None:
        probs = [
            {"file": self.file, "row": row.number, "column": i.column, "reason": i.reason,
             "severity": i.severity}
            for i in issues
        ]  # fmt: skip
        p = row.parsed
        self.quarantine.append(
            (
                self.batch_id,
                self.file,
                row.number,
                storable(p.get("source")),
                storable(p.get("record_id")),
                row.raw_json,
                _json(probs),
                self.stamp,
            )
        )
        if len(self.quarantine) >= self.opts.chunk_size:
            self.flush_quarantine()

    def add_record(self, row: Prepared) -> None:
        self.records.append(row)
        if len(self.records) >= self.opts.chunk_size:
            self.flush_records()

    def _refuse(self, row: Prepared, issue: Issue) -> None:
        """Quarantine a row found unfit only when compared with the store."""
        r = self.result
        r.rows_quarantined += 1
        r.errors += 1
        r.problem_counts[(ERROR, issue.column or "(row)")] += 1
        p = Problem(self.file, row.number, issue.column, issue.reason, ERROR)
        if len(r.problems) < self.opts.max_problems:
            r.problems.append(p)
        if self.opts.on_problem is not None:
            self.opts.on_problem(p)
        self.quarantine_row(row, [issue])

    def flush_quarantine(self) -> None:
        bulk_insert(self.conn, "quarantine_row", QUARANTINE_COLUMNS, self.quarantine)
        self.quarantine = []

    def _current(self, pending: list[tuple[int, str]]) -> dict[tuple[int, str], Any]:
        """Current stored versions of (source_id, record_id) pairs, for sources with records."""
        found: dict[tuple[int, str], Any] = {}
        by_source: dict[int, list[str]] = {}
        for sid, rid in pending:
            by_source.setdefault(sid, []).append(rid)
        q = sql.CURRENT_VERSIONS.bindparams(bindparam("ids", expanding=True))
        for sid, rids in by_source.items():
            for i in range(0, len(rids), 1000):
                for r in self.conn.execute(q, {"s": sid, "ids": rids[i : i + 1000]}):
                    found[(r.source_id, r.record_id)] = r
        return found

    def flush_records(self) -> None:
        pending = self.records
        self.records = []
        if not pending:
            return
        keys = []
        for row in pending:
            sid, had = self.source(row.parsed["source"])
            keys.append((sid, had))
        lookup = [
            (sid, p.parsed["record_id"]) for (sid, had), p in zip(keys, pending, strict=True) if had
        ]
        current = self._current(lookup) if lookup else {}
        out: list[tuple[Any, ...]] = []
        superseded: list[tuple[int, int]] = []  # (old id, new id)
        statuses: list[tuple[Any, ...]] = []
        hints: list[tuple[Any, ...]] = []
        new_ids = iter(self.ids.take(len(pending)))
        for (sid, _), row in zip(keys, pending, strict=True):
            parsed, chash = row.parsed, row.content_hash
            old = current.get((sid, parsed["record_id"]))
            if old is not None and old.content_hash == chash:
                self.result.rows_unchanged += 1
                continue
            if old is not None and is_reserved(parsed["source"]):
                # a tracing request's or an intake's record changes only through its own
                # service, never by an import, whoever runs it (issue 18, finding 6)
                self._refuse(row, Issue("source", reserved_message(parsed["source"])))
                continue
            rid = next(new_ids)
            version = 1
            if old is not None:
                version = old.version + 1
                superseded.append((old.id, rid))
                self.result.rows_new_version += 1
            else:
                self.result.rows_new += 1
            self.result.sources[parsed["source"]] += 1
            out.append(
                (
                    rid,
                    sid,
                    parsed["record_id"],
                    version,
                    True,
                    self.batch_id,
                    row.number,
                    chash,
                    row.raw_json,
                    row.extra_json,
                    *_parsed_values(parsed),
                )
            )
            if parsed["status_code"] is not None:
                if parsed["last_seen_date"] is not None:
                    when = (parsed["last_seen_date"], parsed["last_seen_date_precision"])
                else:
                    when = (parsed["arrest_date"], parsed["arrest_date_precision"])
                statuses.append(
                    (
                        rid,
                        sid,
                        parsed["status_code"],
                        parsed["status_text"],
                        *when,
                        parsed["facility_code"],
                        self.stamp,
                    )
                )
            for code, said, said_on in row.claims:
                day = said_on if said_on and len(said_on) == 10 else None
                statuses.append(
                    (rid, sid, code, said, day, "day" if day else None, None, self.stamp)
                )
            for src, linked, note_id, note in row.hints:
                hints.append((rid, self.batch_id, src, linked, note_id, note, self.stamp))
        c = self.conn
        if superseded:
            c.execute(
                sql.SET_IS_CURRENT,
                [{"f": False, "old": o} for o, _ in superseded],
            )
        bulk_insert(c, "record", RECORD_COLUMNS, out)
        bulk_insert(c, "status_event", STATUS_COLUMNS, statuses)
        if hints:
            bulk_insert(c, "link_hint", HINT_COLUMNS, hints)
        if superseded:
            c.execute(
                sql.SET_SUPERSEDED_BY,
                [{"new": n, "old": o} for o, n in superseded],
            )
            self._record_changes(superseded)

    def _record_changes(self, pairs: list[tuple[int, int]]) -> None:
        cols = ", ".join(("id", "raw", "extra", *PARSED_COLUMNS))
        q = sql.records_by_id(cols)
        ids = [i for pair in pairs for i in pair]
        rows = {}
        for i in range(0, len(ids), 1000):
            for r in self.conn.execute(q, {"ids": ids[i : i + 1000]}):
                rows[r.id] = r._mapping
        changes = []
        for old_id, new_id in pairs:
            old, new = rows[old_id], rows[new_id]
            diff = {c: [old[c], new[c]] for c in (*PARSED_COLUMNS, "extra") if old[c] != new[c]}
            if not diff:  # only spacing or layout changed: say so with the raw cells
                diff = {"raw": [json.loads(old["raw"]), json.loads(new["raw"])]}
            changes.append((self.batch_id, old_id, new_id, _json(diff), self.stamp))
        bulk_insert(self.conn, "record_change", CHANGE_COLUMNS, changes)

    def finish(self) -> None:
        self.flush_records()
        self.flush_quarantine()


class Prepared(NamedTuple):
    """One row, mapped, parsed and validated, ready to be stored or quarantined."""

    number: int
    raw_json: str
    parsed: dict[str, Any]
    extra_json: str | None
    issues: list[Issue]
    content_hash: str
    #: claims besides the status cell's (PFIF notes): (status code, as written, ISO date)
    claims: tuple[tuple[str, str, str | None], ...] = ()
    #: (source, record id, note id, note) of records the row's source says may be the same
    hints: tuple[tuple[str, str, str | None, str | None], ...] = ()


def _side_facts(
    row: RawRow,
) -> tuple[
    tuple[tuple[str, str, str | None], ...],
    tuple[tuple[str, str, str | None, str | None], ...],
    list[Issue],
    str,
]:
    """A row's further claims and link hints (PFIF notes), their problems, and the text they
    add to the row's content hash (so a new note is a new version)."""
    from athar.domain.vocab import map_status

    claims = []
    issues = []
    for text, when in row.claims:
        code = map_status(text).code
        if code is None:
            issues.append(Issue("status", f"claim {quote(text)} is not a known status", WARNING))
            continue
        claims.append((code, text, when))
    hints = []
    for ref, note_id, note in row.hints:
        src, _, rid = ref.partition("/")
        if src and rid:
            hints.append((src, rid, note_id, note))
    extra = json.dumps([claims, hints], ensure_ascii=False) if claims or hints else ""
    return tuple(claims), tuple(hints), issues, extra


def _prepare(plan: ColumnPlan, today: date, order: str, row: RawRow) -> Prepared:
    """Map, parse and validate one row (pure: no database)."""
    cells, extra, issues = plan.apply(row.raw)
    parsed, row_issues = parse_row(cells, today, order)
    if not (row.claims or row.hints):
        return Prepared(
            row.number,
            _json(row.raw),
            parsed,
            _json(extra) if extra else None,
            [*row.issues, *issues, *row_issues] if issues or row.issues else row_issues,
            _content_hash(cells, extra),
        )
    claims, hints, side_issues, side_text = _side_facts(row)
    chash = hashlib.sha256((_content_hash(cells, extra) + side_text).encode()).hexdigest()
    return Prepared(
        row.number,
        _json(row.raw),
        parsed,
        _json(extra) if extra else None,
        [*row.issues, *issues, *row_issues, *side_issues],
        chash,
        claims,
        hints,
    )


def _process(
    table: Table,
    plan: ColumnPlan,
    dups: set[int],
    batch: _Report,
    today: date,
    deadline: Deadline,
) -> None:
    """Prepare every row and decide its fate (no database: runs before the write lock)."""
    held: dict[tuple[str, str], list[Prepared]] = {}
    result = batch.result
    progress = batch.opts.progress
    progress.phase(f"{table.path.name}: reading and checking rows", unit="rows")
    order = plan.mapping.date_order
    for raw_row in table.rows():
        if not result.rows_total % 4096 and deadline.expired():
            raise UnusableInput(deadline.message(table.path.name))
        row = _prepare(plan, today, order, raw_row)
        result.rows_total += 1
        if not result.rows_total % 1000:
            progress.update(result.rows_total)
        src, rid = row.parsed["source"], row.parsed["record_id"]
        if src and rid and dups and _key_hash(src, rid) in dups:
            held.setdefault((src, rid), []).append(row)
            continue
        for i in row.issues:
            batch.problem(row.number, i)
        if any(i.severity == ERROR for i in row.issues):
            batch.quarantine_row(row, row.issues)
        else:
            batch.add_record(row)
    # Rows sharing one (source, record_id): identical rows are stored once; otherwise all
    # of them go to quarantine, because Athar cannot tell which one the source meant.
    for (src, rid), rows in held.items():
        first = rows[0]
        identical = all(r.content_hash == first.content_hash for r in rows)
        numbers = ", ".join(str(r.number) for r in rows[:10])  # a message stays short
        if len(rows) > 10:
            numbers += f" and {len(rows) - 10} more"
        for n, row in enumerate(rows):
            issues = row.issues
            if len(rows) > 1 and not identical:
                issues = [
                    *issues,
                    Issue(
                        "record_id",
                        f"record_id {quote(rid)} of source {quote(src)} is used by rows {numbers} "
                        "with different content",
                    ),
                ]
            elif n > 0:
                issues = [
                    *issues,
                    Issue(
                        "record_id", f"row repeats row {first.number} exactly; stored once", WARNING
                    ),
                ]
            for i in issues:
                batch.problem(row.number, i)
            if any(i.severity == ERROR for i in issues):
                batch.quarantine_row(row, issues)
            elif n == 0:
                batch.add_record(row)
            else:
                result.rows_duplicate += 1
    batch.finish()


def import_file(engine: Engine, path: Path, opts: ImportOptions | None = None) -> FileResult:
    """Import one file in one transaction and return what happened.

    The file is read, checked against the limits, parsed and validated before the write
    transaction begins; the transaction only inserts the prepared rows, so the store's
    write lock is held for the inserts alone, never for parsing.
    """
    opts = opts or ImportOptions()
    limits = opts.limits or current_limits()
    result = FileResult(Path(path))
    today = opts.today or date.today()
    deadline = Deadline(opts.time_limit)
    try:
        mapping = load_mapping(opts.mapping, limits) if opts.mapping else None
        authorised = pfif_authorised(engine) if Path(path).suffix.lower() == ".xml" else frozenset()
        table = open_table(Path(path), mapping, limits, deadline, authorised)
    except (UnusableInput, MappingError) as e:
        result.outcome, result.message = "unusable", str(e)
        return result
    try:
        return _import_table(engine, table, mapping, result, opts, limits, today, deadline)
    finally:
        table.close()


def pfif_authorised(engine: Engine) -> frozenset[str]:
    """Codes of the sources whose PFIF ``believed_dead`` notes may be death claims."""
    require_current(engine)
    with engine.connect() as conn:
        return frozenset(str(c) for c in conn.execute(sql.PFIF_AUTHORISED_SOURCES).scalars())


def _import_table(
    engine: Engine,
    table: Table,
    mapping: Mapping | None,
    result: FileResult,
    opts: ImportOptions,
    limits: InputLimits,
    today: date,
    deadline: Deadline,
) -> FileResult:
    try:
        plan = ColumnPlan(
            result.path.name,
            table.header,
            mapping,
            keep_extra=opts.keep_extra,
            source_option=opts.source,
            reserved_sources=opts.reserved_sources,
        )
    except (UnusableInput, MappingError) as e:
        result.outcome, result.message = "unusable", str(e)
        return result
    require_current(engine)
    ohash = _options_hash(opts, mapping)
    prior = _prior_batch(engine, table.content_hash, ohash)
    if prior is not None:
        return _already(result, prior)
    report = _Report(result, opts, limits)
    try:
        dups = _duplicate_keys(table, plan, deadline)
        with _fewer_gc_passes():
            _process(table, plan, dups, report, today, deadline)
        now = datetime.now(UTC)
        with begin_write(engine) as conn:
            if conn.dialect.name == "postgresql":
                # Imports run one at a time (as they do on SQLite, which has one writer), so
                # versions, sources and the already-imported check cannot race.
                conn.execute(sql.TAKE_ADVISORY_LOCK, {"k": IMPORT_LOCK})
            prior = _prior_batch(conn, table.content_hash, ohash)
            if prior is not None:
                raise _AlreadyImported(prior)
            batch_id = conn.execute(
                sql.INSERT_IMPORT_BATCH,
                {
                    "f": result.path.name,
                    "fmt": table.fmt,
                    "enc": table.encoding,
                    "h": table.content_hash,
                    "o": ohash,
                    "s": opts.source,
                    "m": mapping.name if mapping else None,
                    "a": opts.actor.label,
                    "t": now,
                },
            ).scalar_one()
            result.batch_id = int(batch_id)
            batch = _Batch(conn, result, opts, result.batch_id, now)
            opts.progress.phase(f"{result.path.name}: storing {result.rows_total:,} rows")
            with _fewer_gc_passes():
                batch.store(report.spool)
            if not (result.rows_new or result.rows_new_version or result.rows_quarantined):
                raise _NothingChanged
            conn.execute(
                sql.SET_BATCH_COUNTS,
                {
                    "t": result.rows_total,
                    "n": result.rows_new,
                    "v": result.rows_new_version,
                    "u": result.rows_unchanged + result.rows_duplicate,
                    "q": result.rows_quarantined,
                    "w": result.warnings,
                    "id": result.batch_id,
                },
            )
            append_event(
                conn,
                actor=opts.actor.label,
                action=AuditAction.IMPORT_BATCH,
                entity_type="import_batch",
                entity_id=result.batch_id,
                detail={
                    "file": result.path.name,
                    "format": table.fmt,
                    "encoding": table.encoding,
                    "content_hash": table.content_hash,
                    "source_option": opts.source,
                    "mapping": mapping.name if mapping else None,
                    "mapping_hash": mapping.content_hash if mapping else None,
                    "rows_total": result.rows_total,
                    "rows_new": result.rows_new,
                    "rows_new_version": result.rows_new_version,
                    "rows_unchanged": result.rows_unchanged,
                    "rows_duplicate": result.rows_duplicate,
                    "rows_quarantined": result.rows_quarantined,
                    "rows_quarantine_summarised": result.rows_quarantine_summarised,
                    "warnings": result.warnings,
                    "sources_created": batch.created_sources,
                },
            )
    except _AlreadyImported as e:
        _reset(result)
        return _already(result, e.batch_id)
    except _NothingChanged:
        result.outcome, result.batch_id = "unchanged", None
        result.message = "every row is already stored unchanged; nothing changed"
        return result
    except UnusableInput as e:
        _reset(result)
        result.outcome, result.message = "unusable", str(e)
        return result
    finally:
        report.spool.close()
    result.outcome = "quarantined" if result.rows_quarantined else "stored"
    if result.rows_quarantine_summarised:
        result.message = (
            f"{result.rows_quarantine_summarised} quarantined rows have the same problems as "
            f"the first {limits.quarantine_per_problem} rows with them; they are stored as "
            f"{result.quarantine_summaries} summary row(s), and every one is reported"
        )
    return result


@contextmanager
def _fewer_gc_passes() -> Iterator[None]:
    """Run the cyclic garbage collector less often while rows stream through.

    Each row makes a few short-lived objects that are freed by reference counting; with the
    default threshold the collector would scan every chunk of held rows (and the caches)
    hundreds of times per file for no gain.  Collection stays on, so memory stays bounded.
    """
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], 50_000), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _reset(result: FileResult) -> None:
    result.batch_id = None
    result.rows_new = result.rows_new_version = result.rows_unchanged = 0
    result.rows_duplicate = result.rows_quarantined = 0
    result.rows_quarantine_summarised = result.quarantine_summaries = 0
    result.sources.clear()
