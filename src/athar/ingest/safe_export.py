"""Writing CSV and XLSX that spreadsheets cannot turn into formulas.

Any text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or
their full-width forms, or any of these after leading spaces) would be read as a formula
by Excel, LibreOffice or Google Sheets.  :func:`safe_cell` neutralises it by prefixing an
apostrophe, the form those programs show as plain text.  Only output is changed: Athar
stores every value exactly as received.  All CSV/XLSX that Athar writes goes through here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from athar.security.files import open_private

FORMULA_TRIGGERS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def is_dangerous(value: str) -> bool:
    """Would a spreadsheet read this text as a formula?"""
    stripped = value.lstrip(" ")
    return bool(value) and (value[0] in FORMULA_TRIGGERS or stripped[:1] in FORMULA_TRIGGERS)


def safe_cell(value: Any) -> Any:
    """Return ``value`` ready for a CSV/XLSX cell: dangerous text gets a leading apostrophe.

    Numbers, dates, booleans and ``None`` pass unchanged (they are never formulas).
    """
    if isinstance(value, str):
        return "'" + value if is_dangerous(value) else value
    if value is None or isinstance(value, int | float | date | datetime):
        return value
    return safe_cell(str(value))


def write_csv(
    path: Path | str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    bom: bool = False,
) -> int:
    """Write a UTF-8 CSV (optionally with BOM, for Excel) with every cell neutralised.

    Returns the number of data rows written.
    """
    n = 0
    with open_private(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow([safe_cell(h) for h in header])
        for row in rows:
            w.writerow(["" if c is None else safe_cell(c) for c in row])
            n += 1
    return n


def write_xlsx(
    path: Path | str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    sheet: str = "athar",
) -> int:
    """Write an XLSX (streaming, write-only) with every text cell stored as plain text."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)

    def cells(values: Sequence[Any]) -> list[Any]:
        out = []
        for v in values:
            c = WriteOnlyCell(ws, value=safe_cell(v))
            if isinstance(c.value, str):
                c.data_type = "s"  # never a formula, whatever the text
            out.append(c)
        return out

    ws.append(cells(header))
    n = 0
    for row in rows:
        ws.append(cells(row))
        n += 1
    with open_private(path, "wb") as fh:
        wb.save(fh)
    return n
