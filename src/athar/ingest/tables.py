"""Readers of the files the analysis commands take: interchange CSVs for linking files
(``athar link FILE...``) and capture-pattern counts (``athar estimate --counts``).

Each refuses an unusable file with one error naming the file, row and column; nothing is
stored from either.  (Lists to be stored are read by :mod:`athar.ingest.readers`.)
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from athar.errors import UnusableFile
from athar.estimate.table import CaptureTable, EstimateInputError

if TYPE_CHECKING:
    from athar.linkage import LinkSpec


class TableError(UnusableFile):
    """An interchange CSV given to ``athar link`` cannot be used (file, row, column named)."""

    code = "link_input_unusable"


class CountsFileError(UnusableFile):
    """A counts file that cannot be used; the message names file, row and column."""

    code = "counts_file_unusable"


def read_tables(files: tuple[str, ...], spec: LinkSpec) -> tuple[pd.DataFrame, list[int]]:
    """Read interchange CSVs into one frame of strings; every problem names file/row/column."""
    allowed = {"source", "record_id", *spec.input_columns}
    frames = []
    rows: list[int] = []
    for name in files:
        try:
            df = pd.read_csv(
                name, dtype=str, keep_default_na=False, encoding="utf-8-sig", na_filter=False
            )
        except (OSError, UnicodeDecodeError, pd.errors.ParserError) as e:
            raise TableError(f"{name}: cannot read as UTF-8 CSV: {e}") from e
        missing = [c for c in ("source", "record_id") if c not in df.columns]
        if missing:
            raise TableError(f"{name}: missing required column(s) {', '.join(missing)}")
        unknown = [c for c in df.columns if c not in allowed]
        if unknown:
            hint = (
                " ('cluster_id' is the output column, not an input)"
                if "cluster_id" in unknown
                else ""
            )
            raise TableError(f"{name}: unknown column(s) {', '.join(map(repr, unknown))}{hint}")
        for col in ("source", "record_id"):
            empty = df.index[df[col].str.strip() == ""].tolist()
            if empty:
                raise TableError(f"{name}: row {empty[0] + 2}, column {col!r}: empty")
        df["__file"] = name
        rows.extend(range(2, len(df) + 2))
        frames.append(df)
    raw = pd.concat(frames, ignore_index=True).fillna("") if frames else pd.DataFrame()
    dup = raw.duplicated(["source", "record_id"], keep="first")
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        raise TableError(
            f"{raw['__file'][i]}: row {rows[i]}: duplicate record "
            f"{raw['source'][i]}:{raw['record_id'][i]} (record ids must be unique per source)"
        )
    return raw, rows


def read_counts(path: Path) -> CaptureTable:
    """Read a counts CSV: one 0/1 column per list and a ``count`` column.

    Rows are numbered as a spreadsheet shows them (the header is row 1).
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise CountsFileError(f"{path}: cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise CountsFileError(f"{path}: not UTF-8 text") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or not any(c.strip() for c in rows[0]):
        raise CountsFileError(f"{path}: empty file (expected a header row)")
    header = [c.strip() for c in rows[0]]
    lowered = [c.lower() for c in header]
    if lowered.count("count") != 1:
        raise CountsFileError(
            f"{path}, row 1: the header needs exactly one 'count' column, got {header}"
        )
    ci = lowered.index("count")
    lists = [h for i, h in enumerate(header) if i != ci]
    for i, h in enumerate(header):
        if not h:
            raise CountsFileError(f"{path}, row 1, column {i + 1}: empty column name")
    dup = sorted({h for h in lists if lists.count(h) > 1})
    if dup:
        raise CountsFileError(f"{path}, row 1: repeated list column(s) {dup}")
    if len(lists) < 2:
        raise CountsFileError(f"{path}, row 1: need at least two list columns besides 'count'")
    seen: dict[tuple[int, ...], int] = {}
    data: list[tuple[tuple[int, ...], int]] = []
    for r, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise CountsFileError(
                f"{path}, row {r}: {len(row)} values but the header has {len(header)} columns"
            )
        pattern: list[int] = []
        for i, cell in enumerate(row):
            v = cell.strip()
            if i == ci:
                continue
            if v not in ("0", "1"):
                raise CountsFileError(
                    f"{path}, row {r}, column '{header[i]}': expected 0 or 1, got {v!r}"
                )
            pattern.append(int(v))
        raw = row[ci].strip()
        try:
            count = int(raw)
        except ValueError:
            raise CountsFileError(
                f"{path}, row {r}, column 'count': expected a whole number, got {raw!r}"
            ) from None
        if count < 0:
            raise CountsFileError(f"{path}, row {r}, column 'count': negative count {count}")
        key = tuple(pattern)
        if not any(key) and count > 0:
            raise CountsFileError(
                f"{path}, row {r}: the pattern on no list is what is estimated; "
                f"its count must be empty or 0, got {count}"
            )
        if key in seen:
            raise CountsFileError(
                f"{path}, row {r}: pattern {''.join(map(str, key))} already given in row {seen[key]}"
            )
        seen[key] = r
        data.append((key, count))
    try:
        table = CaptureTable.from_rows(lists, data)
    except EstimateInputError as e:
        raise CountsFileError(f"{path}: {e}") from None
    if table.n_observed == 0:
        raise CountsFileError(f"{path}: no people counted (all counts are 0)")
    return table
