"""Formula neutralisation for every CSV/XLSX Athar writes."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook

from athar.ingest.safe_export import is_dangerous, safe_cell, write_csv, write_xlsx

DANGEROUS = ["=1+1", "+31", "-2+3", "@SUM(A1)", "\tx", "\rx", "  =cmd|' /C calc'!A0", "＝1+1"]
HARMLESS = ["محمد", "Mohammad", "a=b", "3906/227", "", "1985-03-12"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_dangerous_cells_are_neutralised(value: str) -> None:
    assert is_dangerous(value)
    out = safe_cell(value)
    assert out == "'" + value
    assert not is_dangerous(out)


@pytest.mark.parametrize("value", HARMLESS)
def test_harmless_cells_pass_unchanged(value: str) -> None:
    assert safe_cell(value) == value


def test_numbers_and_none_pass() -> None:
    assert safe_cell(-5) == -5 and safe_cell(2.5) == 2.5 and safe_cell(None) is None


def test_csv_writer_neutralises(tmp_path: Path) -> None:
    p = tmp_path / "out.csv"
    write_csv(p, ["a", "=b"], [['=HYPERLINK("x")', "ok"], ["-1", None]])
    with p.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [["a", "'=b"], ['\'=HYPERLINK("x")', "ok"], ["'-1", ""]]


def test_xlsx_writer_never_writes_formulas(tmp_path: Path) -> None:
    p = tmp_path / "out.xlsx"
    write_xlsx(p, ["name", "n"], [["=1+1", 3], ["@x", -2], ["محمد", None]])
    ws = load_workbook(p).active
    assert ws is not None
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values == [["name", "n"], ["'=1+1", 3], ["'@x", -2], ["محمد", None]]
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
