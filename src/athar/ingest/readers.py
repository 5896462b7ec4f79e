"""Readers for the list formats Athar imports: CSV, XLSX and JSON.

Each reader gives the file's header (column names as written) and streams its rows as
:class:`RawRow` values: the original cells exactly as received, keyed by column name in
file order.  Readers can be iterated more than once (the importer reads twice: once to find
duplicate ids, once to store).  A file that cannot be read at all raises
:class:`UnusableInput` with the reason; problems with one row are attached to that row.

Row numbers are what a person sees: the line number for CSV (header = line 1), the sheet
row for XLSX, and the 1-based position in the list for JSON.
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Generator, Iterator, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from athar.domain.record import WARNING, Issue
from athar.errors import UnusableFile
from athar.ingest.encoding import file_hash, sniff_text
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


class Table(Protocol):
    path: Path
    fmt: str
    encoding: str | None
    content_hash: str
    header: list[str]

    def rows(self) -> Iterator[RawRow]: ...


def _check_header(path: Path, header: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    dups = []
    for h in header:
        k = header_key(h)
        if k in seen:
            dups.append(h)
        seen[k] = h
    if dups:
        raise UnusableInput(f"{path.name}: column(s) {dups} appear more than once in the header")
    return header


class CsvTable:
    fmt = "csv"

    def __init__(self, path: Path, delimiter: str = ",") -> None:
        self.path = path
        self.delimiter = delimiter
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
        self.header = _check_header(path, [c.lstrip("\ufeff") for c in first])

    def _open(self) -> Any:
        return open(self.path, encoding=self.encoding, newline="")

    def rows(self) -> Iterator[RawRow]:
        header = self.header
        width = len(header)
        try:
            with self._open() as f:
                reader = csv.reader(f, delimiter=self.delimiter)
                next(reader)
                for cells in reader:
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
    try:
        with table._open() as f:
            reader = csv.reader(f, delimiter=table.delimiter)
            next(reader)
            for cells in reader:
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


class XlsxTable:
    fmt = "xlsx"

    def __init__(self, path: Path, sheet: str | None = None) -> None:
        self.path = path
        self.sheet = sheet
        self.encoding: str | None = None
        self.content_hash, _ = file_hash(path)
        rows = self._iter()
        first = next(rows, None)
        rows.close()
        if first is None or all(v is None or str(v).strip() == "" for v in first[1]):
            raise UnusableInput(f"{path.name}: the sheet is empty or has no header row")
        header = ["" if v is None else str(v).strip() for v in first[1]]
        while header and header[-1] == "":
            header.pop()
        self.header = _check_header(path, header)

    def _iter(self) -> Generator[tuple[int, tuple[Any, ...], tuple[Any, ...]], None, None]:
        """(sheet row, saved values, formulas): a formula cell without a saved value (a file
        written by a program rather than Excel) is still imported, as its formula text."""
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        books = []
        try:
            for data_only in (True, False):
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
            values_wb, formulas_wb = books
            if self.sheet is not None and self.sheet not in values_wb.sheetnames:
                raise UnusableInput(
                    f"{self.path.name}: no sheet {self.sheet!r} (sheets: {values_wb.sheetnames})"
                )
            sheets = [
                wb[self.sheet] if self.sheet is not None else wb.worksheets[0] for wb in books
            ]
            rows = zip(
                sheets[0].iter_rows(values_only=True),
                sheets[1].iter_rows(values_only=True),
                strict=False,
            )
            for n, (values, formulas) in enumerate(rows, start=1):
                yield n, tuple(values), tuple(formulas)
        except UnusableInput:
            raise
        except Exception as e:  # openpyxl reports broken sheets with many exception types
            raise UnusableInput(
                f"{self.path.name}: cannot read the workbook: {type(e).__name__}: {e}"
            ) from e
        finally:
            for wb in books:
                wb.close()

    def rows(self) -> Iterator[RawRow]:
        header = self.header
        width = len(header)
        it = self._iter()
        next(it, None)
        for n, values, formulas in it:
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
                continue
            raw: dict[str, Any] = {
                h: v for h, v in zip(header, vals, strict=False) if v is not None
            }
            beyond = [v for v in vals[width:] if v is not None and str(v).strip()]
            if beyond:
                raw[OVERFLOW_KEY] = vals[width:]
                issues.append(Issue(None, "the row has values in columns without a header"))
            yield RawRow(n, raw, issues)


class JsonTable:
    fmt = "json"

    def __init__(self, path: Path) -> None:
        self.path = path
        sniffed = sniff_text(path)
        self.content_hash = sniffed.content_hash
        if sniffed.encoding is None:
            raise UnusableInput(f"{path.name}: {sniffed.problem}")
        self.encoding: str | None = sniffed.encoding
        try:
            doc = json.loads(path.read_text(encoding=sniffed.encoding))
        except (UnicodeError, json.JSONDecodeError, RecursionError) as e:
            raise UnusableInput(f"{path.name}: not valid JSON: {e}") from e
        if isinstance(doc, dict) and isinstance(doc.get("records"), list):
            doc = doc["records"]
        if not isinstance(doc, list):
            raise UnusableInput(
                f'{path.name}: expected a list of records or {{"records": [...]}} at the top'
            )
        self._items: list[Any] = doc
        header: dict[str, None] = {}
        for item in doc:
            if isinstance(item, dict):
                for k in item:
                    header.setdefault(str(k), None)
        if not header:
            raise UnusableInput(f"{path.name}: no record has any field")
        self.header = _check_header(path, list(header))

    def rows(self) -> Iterator[RawRow]:
        for n, item in enumerate(self._items, start=1):
            if not isinstance(item, dict):
                yield RawRow(n, item, [Issue(None, "this element of the list is not an object")])
                continue
            yield RawRow(n, {str(k): v for k, v in item.items()})


def open_table(path: Path, mapping: Mapping | None = None) -> Table:
    """Open ``path`` with the reader its extension calls for."""
    if not path.is_file():
        raise UnusableInput(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            return XlsxTable(path, mapping.sheet if mapping else None)
        if suffix == ".json":
            return JsonTable(path)
        return CsvTable(path, mapping.delimiter if mapping else ",")
    except OSError as e:
        raise UnusableInput(f"{path}: cannot read: {e}") from e
