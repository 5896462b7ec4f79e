"""Writing CSV and XLSX that spreadsheets cannot turn into formulas.

Any text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or
their full-width forms, or any of these after leading spaces) would be read as a formula
by Excel, LibreOffice or Google Sheets.  :func:`safe_cell` neutralises it by prefixing an
apostrophe, the form those programs show as plain text; it does the same for a trigger after
any separator a spreadsheet may split a line at (``;``, ``,``, tab, ``|``, a line break),
since Excel in many European locales splits CSV at ``;`` whatever the quoting.  CSV fields
are all quoted; XLSX cells are written as strings, never formulas.  Only output is changed: Athar
stores every value exactly as received.  All CSV/XLSX that Athar writes goes through here.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from athar.security.files import open_private

FORMULA_TRIGGERS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")

#: characters a spreadsheet may split a CSV line at, whatever Athar's delimiter and quotes
#: say: Excel in many European locales splits at ``;`` (and ignores quoting made for ``,``),
#: others at a tab or ``|``; a line break starts a new row
SEPARATORS = ",;\t|\r\n\uff0c\uff1b"
_TRIGGER_CLASS = "".join(re.escape(c) for c in sorted(FORMULA_TRIGGERS - {"\t", "\r"}))
#: a formula trigger that would start a field once the text is split at a separator
_AFTER_SEPARATOR = re.compile(f"([{re.escape(SEPARATORS)}])([ ]*)([{_TRIGGER_CLASS}])")


def is_dangerous(value: str) -> bool:
    """Would a spreadsheet read this text (or a piece of it, split at a separator) as a
    formula?"""
    if not value:
        return False
    stripped = value.lstrip(" ")
    if value[0] in FORMULA_TRIGGERS or stripped[:1] in FORMULA_TRIGGERS:
        return True
    return _AFTER_SEPARATOR.search(value) is not None


def neutralise(value: str) -> str:
    """``value`` with an apostrophe before every formula trigger that starts it or follows a
    separator (issue 18, finding 5: ``Ahmad;=cmd|' /C calc'!A0`` is two fields, the second
    a formula, in a spreadsheet that splits at ``;``)."""
    out = _AFTER_SEPARATOR.sub(r"\1\2'\3", value)
    return (
        "'" + out
        if out and (out[0] in FORMULA_TRIGGERS or out.lstrip(" ")[:1] in FORMULA_TRIGGERS)
        else out
    )


def safe_cell(value: Any) -> Any:
    """Return ``value`` ready for a CSV/XLSX cell: dangerous text gets an apostrophe before
    each trigger (at the start, and after any separator).

    Numbers, dates, booleans and ``None`` pass unchanged (they are never formulas).
    """
    if isinstance(value, str):
        return neutralise(value) if is_dangerous(value) else value
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
        # every field quoted: a separator inside a value never splits it in a reader
        # that honours quotes (and :func:`safe_cell` covers one that does not)
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
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
