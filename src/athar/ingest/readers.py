"""Readers for the list formats Athar imports: CSV, XLSX and JSON.

Each reader gives the file's header (column names as written) and streams its rows as
:class:`RawRow` values: the original cells exactly as received, keyed by column name in
file order.  Readers can be iterated more than once (the importer reads twice: once to find
duplicate ids, once to prepare the rows); a workbook is parsed only once, into a temporary
spool, and the caller closes the table.  A file that cannot be read at all, or that would
cost more than the limits of :mod:`athar.ingest.limits` allow (checked before parsing where
the format tells, else while parsing), raises :class:`UnusableInput` with the reason; problems
with one row are attached to that row.

Row numbers are what a person sees: the line number for CSV (header = line 1), the sheet
row for XLSX, and the 1-based position in the list for JSON.
"""

from __future__ import annotations

import csv
import json
import pickle
import re
import tempfile
import zipfile
import zlib
from collections.abc import Generator, Iterator, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from xml.etree import ElementTree
from xml.etree.ElementTree import ParseError

from athar.domain.record import WARNING, Issue
from athar.errors import UnusableFile
from athar.ingest.encoding import file_hash, sniff_text
from athar.ingest.limits import NO_DEADLINE, Deadline, InputLimits, MiB, current_limits, quote
from athar.ingest.mapping import Mapping, header_key

#: key under which CSV cells beyond the header are kept in a row's raw cells
OVERFLOW_KEY = "__cells_beyond_header__"


class UnusableInput(UnusableFile):
    """The file cannot be imported at all (nothing from it is stored)."""

    code = "unusable_file"


class RawRow(NamedTuple):
    """One row as received (a plain tuple: one is made per row of the file)."""

    number: int
    raw: Any  # usually dict[str, Any]: column as written -> value as received
    issues: Sequence[Issue] = ()
    #: status claims the row makes besides its ``status`` cell (PFIF: its earlier notes), each
    #: (status as written, ISO date it was said or None)
    claims: tuple[tuple[str, str | None], ...] = ()
    #: other records the row's source says may be the same person (PFIF:
    #: ``linked_person_record_id``), each (``source/record_id``, the note's id, the note's text)
    hints: tuple[tuple[str, str | None, str | None], ...] = ()


class Table(Protocol):
    path: Path
    fmt: str
    encoding: str | None
    content_hash: str
    header: list[str]

    def rows(self) -> Iterator[RawRow]: ...

    def close(self) -> None: ...


def _check_header(path: Path, header: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    dups = []
    for h in header:
        k = header_key(h)
        if k in seen:
            dups.append(h)
        seen[k] = h
    if dups:
        shown = ", ".join(quote(d) for d in dups[:20])
        raise UnusableInput(f"{path.name}: column(s) [{shown}] appear more than once in the header")
    return header


class CsvTable:
    fmt = "csv"

    def __init__(self, path: Path, delimiter: str = ",", limits: InputLimits | None = None) -> None:
        self.path = path
        self.delimiter = delimiter
        self.limits = limits or current_limits()
        sniffed = sniff_text(path)
        self.content_hash = sniffed.content_hash
        if sniffed.encoding is None:
            raise UnusableInput(f"{path.name}: {sniffed.problem}")
        self.encoding: str | None = sniffed.encoding
        try:
            with self._open() as f:
                first = next(csv.reader(f, delimiter=delimiter), None)
        except (UnicodeError, csv.Error) as e:
            raise UnusableInput(f"{path.name}: cannot read the header: {e}") from e
        if not first or all(not c.strip() for c in first):
            raise UnusableInput(f"{path.name}: the file is empty or has no header row")
        if len(first) > self.limits.max_columns:
            raise UnusableInput(_too_wide(path, len(first), self.limits))
        self.header = _check_header(path, [c.lstrip("\ufeff") for c in first])

    def _open(self) -> Any:
        return open(self.path, encoding=self.encoding, newline="")

    def close(self) -> None:
        pass  # each pass opens and closes the file itself

    def rows(self) -> Iterator[RawRow]:
        header = self.header
        width = len(header)
        limits = self.limits
        count = ncells = 0
        try:
            with self._open() as f:
                reader = csv.reader(f, delimiter=self.delimiter)
                next(reader)
                for cells in reader:
                    count += 1
                    ncells += len(cells)
                    if count > limits.max_rows or ncells > limits.max_cells:
                        raise UnusableInput(
                            _too_long(self.path, limits)
                            if count > limits.max_rows
                            else _too_many_cells(self.path, limits)
                        )
                    if len(cells) > limits.max_columns:
                        raise UnusableInput(
                            _too_wide(self.path, len(cells), limits, reader.line_num)
                        )
                    if not cells or (len(cells) <= width and not any(cells)):
                        continue  # blank line: no data
                    if len(cells) == width:
                        yield RawRow(reader.line_num, dict(zip(header, cells)))  # noqa: B905 (equal lengths)
                        continue
                    raw: dict[str, Any] = dict(zip(header, cells, strict=False))
                    issues = []
                    if len(cells) > width:
                        beyond = cells[width:]
                        if any(c.strip() for c in beyond):
                            raw[OVERFLOW_KEY] = beyond
                            issues.append(
                                Issue(
                                    None,
                                    f"the row has {len(cells)} cells but the header has {width}",
                                )
                            )
                    yield RawRow(reader.line_num, raw, issues)
        except (UnicodeError, csv.Error) as e:
            raise UnusableInput(f"{self.path.name}: cannot read the file: {e}") from e


def csv_columns(table: CsvTable, columns: list[str]) -> Iterator[tuple[str | None, ...]]:
    """Stream only some columns of a CSV (fast path for the duplicate-id pass)."""
    idx = [table.header.index(c) for c in columns]
    limits = table.limits
    count = 0
    try:
        with table._open() as f:
            reader = csv.reader(f, delimiter=table.delimiter)
            next(reader)
            for cells in reader:
                count += 1
                if count > limits.max_rows:
                    raise UnusableInput(_too_long(table.path, limits))
                if not cells or not any(cells):
                    continue
                n = len(cells)
                yield tuple(cells[i] if i < n else None for i in idx)
    except (UnicodeError, csv.Error) as e:
        raise UnusableInput(f"{table.path.name}: cannot read the file: {e}") from e


def _xlsx_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == time(0) else v.isoformat()
    if isinstance(v, date | time):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


class Spool:
    """Values (rows read once from a file, or rows prepared for storing) kept in a temporary
    file, so they can be gone over again with bounded memory and without parsing again."""

    CHUNK = 2000

    def __init__(self) -> None:
        self._file: Any = tempfile.TemporaryFile(prefix="athar-rows-")
        self._pending: list[Any] = []
        self.count = 0

    def append(self, row: Any) -> None:
        self._pending.append(row)
        self.count += 1
        if len(self._pending) >= self.CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            pickle.dump(self._pending, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._pending = []

    def __iter__(self) -> Iterator[Any]:
        self._flush()
        f = self._file
        end = f.seek(0, 2)
        pos = 0
        while pos < end:
            f.seek(pos)
            chunk: list[Any] = pickle.load(f)  # noqa: S301 (our own temporary file)
            pos = f.tell()
            yield from chunk

    def close(self) -> None:
        self._file.close()


_XML_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


#: what reading a damaged, encrypted or oddly compressed zip member can raise
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    OSError,
    ValueError,
    EOFError,
    ParseError,
    zlib.error,
    NotImplementedError,
    RuntimeError,
)


def check_xlsx(path: Path, limits: InputLimits) -> bool:
    """Refuse a workbook whose parts would cost too much to read, before anything parses it.

    Checks each zip member's uncompressed size, their total, the compression ratio and the
    number of shared strings (read from the part's header, then counted while streaming, up
    to the limit).  Returns whether any worksheet holds a formula (so the formulas need a
    second look).  Raises :class:`UnusableInput` naming the limit.
    """
    name = path.name
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise UnusableInput(f"{name}: not a readable XLSX workbook: {e}") from e
    with z:
        total = 0
        for info in z.infolist():
            size = info.file_size
            total += size
            if size > limits.max_member_bytes:
                raise UnusableInput(
                    f"{name}: the part {quote(info.filename)} unzips to {size} bytes, more than "
                    f"the limit of {limits.max_member_bytes} bytes per part"
                )
            if size > MiB and size > limits.max_zip_ratio * max(info.compress_size, 1):
                raise UnusableInput(
                    f"{name}: the part {quote(info.filename)} is compressed more than "
                    f"{limits.max_zip_ratio} to 1 (the limit): a zip bomb, not a workbook"
                )
        if total > limits.max_unzipped_bytes:
            raise UnusableInput(
                f"{name}: the workbook unzips to {total} bytes, more than the limit of "
                f"{limits.max_unzipped_bytes} bytes"
            )
        try:
            for info in z.infolist():
                low = info.filename.lower()
                if low.endswith("sharedstrings.xml"):
                    _count_shared_strings(z, info, name, limits.max_shared_strings)
            formulas = False
            for info in z.infolist():
                if info.filename.lower().startswith("xl/worksheets/") and _has_formula(z, info):
                    formulas = True
                    break
        except _ZIP_ERRORS as e:
            raise UnusableInput(
                f"{name}: not a readable XLSX workbook: {type(e).__name__}: {str(e)[:200]}"
            ) from e
    return formulas


def _count_shared_strings(z: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, cap: int) -> None:
    def refuse(n: int | str) -> UnusableInput:
        return UnusableInput(
            f"{name}: the workbook's shared-strings table holds {n} strings, more than the "
            f"limit of {cap}"
        )

    with z.open(info) as f:
        count = 0
        for event, el in ElementTree.iterparse(f, events=("start", "end")):
            tag = el.tag.rsplit("}", 1)[-1]
            if event == "start":
                if tag == "sst":
                    for attr in ("uniqueCount",):
                        declared = el.get(attr, "")
                        if declared.isdigit() and int(declared) > cap:
                            raise refuse(declared)
                continue
            if tag == "si":
                count += 1
                if count > cap:
                    raise refuse(f"more than {cap}")
                el.clear()


def _has_formula(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    tail = b""
    with z.open(info) as f:
        while chunk := f.read(1 << 20):
            if _XML_FORMULA.search(tail + chunk):
                return True
            tail = chunk[-16:]
    return False


class XlsxTable:
    """A workbook's sheet, checked against the limits, then parsed once into a spool."""

    fmt = "xlsx"

    def __init__(
        self,
        path: Path,
        sheet: str | None = None,
        limits: InputLimits | None = None,
        deadline: Deadline = NO_DEADLINE,
    ) -> None:
        self.path = path
        self.sheet = sheet
        self.encoding: str | None = None
        self.limits = limits or current_limits()
        self.deadline = deadline
        self.content_hash, _ = file_hash(path)
        formulas = check_xlsx(path, self.limits)
        self._spool = Spool()
        try:
            self.header = self._read(formulas)
        except BaseException:
            self._spool.close()
            raise

    def _iter(
        self, formulas: bool
    ) -> Generator[tuple[int, tuple[Any, ...], tuple[Any, ...]], None, None]:
        """(sheet row, saved values, formulas): a formula cell without a saved value (a file
        written by a program rather than Excel) is still imported, as its formula text.  The
        formulas are read (a second parse) only when some sheet holds one."""
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        books = []
        try:
            for data_only in (True, False) if formulas else (True,):
                books.append(load_workbook(self.path, read_only=True, data_only=data_only))
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
            for wb in books:
                wb.close()
            raise UnusableInput(f"{self.path.name}: not a readable XLSX workbook: {e}") from e
        except Exception as e:  # malformed XML inside the zip surfaces as parser errors
            for wb in books:
                wb.close()
            raise UnusableInput(
                f"{self.path.name}: not a readable XLSX workbook: {type(e).__name__}: {e}"
            ) from e
        try:
            values_wb = books[0]
            if self.sheet is not None and self.sheet not in values_wb.sheetnames:
                raise UnusableInput(
                    f"{self.path.name}: no sheet {quote(self.sheet)} "
                    f"(sheets: {values_wb.sheetnames[:20]})"
                )
            sheets = [
                wb[self.sheet] if self.sheet is not None else wb.worksheets[0] for wb in books
            ]
            if len(sheets) == 2:
                for n, (values, forms) in enumerate(
                    zip(
                        sheets[0].iter_rows(values_only=True),
                        sheets[1].iter_rows(values_only=True),
                        strict=False,
                    ),
                    start=1,
                ):
                    yield n, tuple(values), tuple(forms)
            else:
                for n, values in enumerate(sheets[0].iter_rows(values_only=True), start=1):
                    yield n, tuple(values), ()
        except UnusableInput:
            raise
        except Exception as e:  # openpyxl reports broken sheets with many exception types
            raise UnusableInput(
                f"{self.path.name}: cannot read the workbook: {type(e).__name__}: {e}"
            ) from e
        finally:
            for wb in books:
                wb.close()

    def _read(self, formulas: bool) -> list[str]:
        """Parse the sheet once: check its header, spool its rows, enforce the limits."""
        path, limits = self.path, self.limits
        rows = self._iter(formulas)
        try:
            first = next(rows, None)
            if first is None or all(v is None or str(v).strip() == "" for v in first[1]):
                raise UnusableInput(f"{path.name}: the sheet is empty or has no header row")
            if len(first[1]) > limits.max_columns:
                raise UnusableInput(_too_wide(path, len(first[1]), limits))
            header = ["" if v is None else str(v).strip() for v in first[1]]
            while header and header[-1] == "":
                header.pop()
            header = _check_header(path, header)
            width = len(header)
            cells = 0
            deadline = self.deadline
            for n, values, forms in rows:
                if not n % 1000 and deadline.expired():
                    raise UnusableInput(deadline.message(path.name))
                if n > limits.max_rows + 1:
                    raise UnusableInput(_too_long(path, limits))
                if len(values) > limits.max_columns:
                    raise UnusableInput(_too_wide(path, len(values), limits, n))
                cells += len(values)
                if cells > limits.max_cells:
                    raise UnusableInput(_too_many_cells(path, limits))
                row = _xlsx_row(header, width, n, values, forms)
                if row is not None:
                    self._spool.append(row)
        finally:
            rows.close()
        return header

    def rows(self) -> Iterator[RawRow]:
        return iter(self._spool)

    def close(self) -> None:
        self._spool.close()


def _xlsx_row(
    header: list[str], width: int, n: int, values: tuple[Any, ...], formulas: tuple[Any, ...]
) -> RawRow | None:
    vals = [_xlsx_value(v) for v in values]
    issues = []
    for i, f in enumerate(formulas):
        if i < len(vals) and vals[i] is None and isinstance(f, str) and f.startswith("="):
            vals[i] = f
            col = header[i] if i < width else None
            issues.append(
                Issue(
                    col,
                    "the cell holds a formula with no saved value; its text was imported",
                    WARNING,
                )
            )
    if all(v is None or (isinstance(v, str) and not v.strip()) for v in vals):
        return None
    raw: dict[str, Any] = {h: v for h, v in zip(header, vals, strict=False) if v is not None}
    beyond = [v for v in vals[width:] if v is not None and str(v).strip()]
    if beyond:
        raw[OVERFLOW_KEY] = vals[width:]
        issues.append(Issue(None, "the row has values in columns without a header"))
    return RawRow(n, raw, issues)


def _too_long(path: Path, limits: InputLimits) -> str:
    return f"{path.name}: more than {limits.max_rows} rows (the limit)"


def _too_wide(path: Path, n: int, limits: InputLimits, row: int | None = None) -> str:
    where = "the header" if row is None else f"row {row}"
    return f"{path.name}: {where} has {n} cells, more than the limit of {limits.max_columns}"


def _too_many_cells(path: Path, limits: InputLimits) -> str:
    return f"{path.name}: more than {limits.max_cells} cells (the limit)"


class JsonTable:
    fmt = "json"

    def __init__(self, path: Path, limits: InputLimits | None = None) -> None:
        self.path = path
        self.limits = limits = limits or current_limits()
        size = path.stat().st_size
        if size > limits.max_json_bytes:
            raise UnusableInput(
                f"{path.name}: {size} bytes, more than the limit of {limits.max_json_bytes} "
                "bytes for a JSON list"
            )
        sniffed = sniff_text(path)
        self.content_hash = sniffed.content_hash
        if sniffed.encoding is None:
            raise UnusableInput(f"{path.name}: {sniffed.problem}")
        self.encoding: str | None = sniffed.encoding
        try:
            text = path.read_text(encoding=sniffed.encoding)
            # brackets inside strings count too: an overestimate, on the safe side
            if text.count("{") + text.count("[") > limits.max_json_containers:
                raise UnusableInput(
                    f"{path.name}: more than {limits.max_json_containers} objects and lists "
                    "(the limit)"
                )
            doc = json.loads(text)
            del text
        except (UnicodeError, json.JSONDecodeError, RecursionError) as e:
            raise UnusableInput(f"{path.name}: not valid JSON: {str(e)[:200]}") from e
        if isinstance(doc, dict) and isinstance(doc.get("records"), list):
            doc = doc["records"]
        if not isinstance(doc, list):
            raise UnusableInput(
                f'{path.name}: expected a list of records or {{"records": [...]}} at the top'
            )
        if len(doc) > limits.max_rows:
            raise UnusableInput(_too_long(path, limits))
        self._items: list[Any] = doc
        header: dict[str, None] = {}
        cells = 0
        for n, item in enumerate(doc, start=1):
            if isinstance(item, dict):
                cells += len(item)
                if cells > limits.max_cells:
                    raise UnusableInput(_too_many_cells(path, limits))
                for k, v in item.items():
                    header.setdefault(str(k), None)
                    if isinstance(v, dict | list) and _deeper_than(v, limits.max_json_depth - 2):
                        raise UnusableInput(
                            f"{path.name}: record {n} is nested more than "
                            f"{limits.max_json_depth} deep (the limit)"
                        )
                if len(header) > limits.max_columns:
                    raise UnusableInput(
                        f"{path.name}: the records have more than {limits.max_columns} "
                        "different fields (the limit)"
                    )
        if not header:
            raise UnusableInput(f"{path.name}: no record has any field")
        self.header = _check_header(path, list(header))

    def rows(self) -> Iterator[RawRow]:
        for n, item in enumerate(self._items, start=1):
            if not isinstance(item, dict):
                yield RawRow(n, item, [Issue(None, "this element of the list is not an object")])
                continue
            yield RawRow(n, {str(k): v for k, v in item.items()})

    def close(self) -> None:
        self._items = []


def _deeper_than(value: Any, depth: int) -> bool:
    """Whether ``value`` nests lists or objects more than ``depth`` levels (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if d > depth:
            return True
        children = v.values() if isinstance(v, dict) else v
        stack.extend((c, d + 1) for c in children if isinstance(c, dict | list))
    return False


def open_table(
    path: Path,
    mapping: Mapping | None = None,
    limits: InputLimits | None = None,
    deadline: Deadline = NO_DEADLINE,
    pfif_authorised: frozenset[str] = frozenset(),
) -> Table:
    """Open ``path`` with the reader its extension calls for, within ``limits``.

    The caller closes the table (an XLSX keeps its parsed rows in a temporary file)."""
    if not path.is_file():
        raise UnusableInput(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            return XlsxTable(path, mapping.sheet if mapping else None, limits, deadline)
        if suffix == ".json":
            return JsonTable(path, limits)
        if suffix == ".xml":  # PFIF 1.1-1.4 (the only XML Athar reads)
            from athar.ingest.pfif import PfifTable

            return PfifTable(path, pfif_authorised, deadline=deadline)
        return CsvTable(path, mapping.delimiter if mapping else ",", limits)
    except OSError as e:
        raise UnusableInput(f"{path}: cannot read: {e}") from e
