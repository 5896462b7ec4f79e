"""The readers of the analysis commands' input files (athar/ingest/tables.py): counts files for
``athar estimate --counts`` and interchange CSVs for ``athar link FILE...``."""

from __future__ import annotations

from pathlib import Path

import pytest

from athar.errors import EXIT_USAGE, UnusableFile
from athar.ingest.tables import CountsFileError, TableError, read_counts, read_tables
from athar.linkage.spec import load_spec


def test_read_counts(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("A,B,count\n1,0,5\n0,1,3\n1,1,2\n", encoding="utf-8")
    table = read_counts(path)
    assert list(table.lists) == ["A", "B"]
    assert table.n_observed == 10


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("A,B,count\n1,0,5\n0,1,x\n", "row 3, column 'count'"),
        ("A,B,total\n1,0,5\n", "row 1: the header needs exactly one 'count' column"),
        ("A,B,count\n0,0,0\n", "no people counted"),
    ],
)
def test_read_counts_names_file_row_column(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CountsFileError, match=expected) as info:
        read_counts(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, UnusableFile) and info.value.exit_code == EXIT_USAGE


def test_read_tables(tmp_path: Path) -> None:
    spec = load_spec("interchange")
    a = tmp_path / "a.csv"
    a.write_text("source,record_id,given_name\ns,1,Ali\ns,2,Omar\n", encoding="utf-8")
    frame, rows = read_tables((str(a),), spec)
    assert list(frame["record_id"]) == ["1", "2"] and rows == [2, 3]
    assert set(frame["__file"]) == {str(a)}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("record_id\n1\n", "missing required column(s) source"),
        ("source,record_id,cluster_id\ns,1,7\n", "'cluster_id' is the output column"),
        ("source,record_id\ns,1\ns,\n", "row 3, column 'record_id': empty"),
        ("source,record_id\ns,1\ns,1\n", "row 3: duplicate record s:1"),
    ],
)
def test_read_tables_names_file_row_column(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TableError) as info:
        read_tables((str(path),), load_spec("interchange"))
    assert expected in str(info.value) and str(path) in str(info.value)
    assert info.value.exit_code == EXIT_USAGE
