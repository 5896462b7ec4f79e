"""`athar import`, `athar db` through the CLI: exit codes, report, summary."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from athar.cli import main

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ATHAR_DATABASE_URL", db_url)
    monkeypatch.setenv("ATHAR_ACTOR", "cli-tester")
    return db_url


def run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.output


def test_exit_0_1_2_and_report(cli_db: str, tmp_path: Path) -> None:
    code, out = run("db", "upgrade")
    assert code == 0 and "facilities added: " in out
    code, out = run("import", str(SHARED / "examples" / "records.csv"))
    assert code == 0, out
    assert "6 new" in out
    code, out = run("import", str(SHARED / "examples" / "records.csv"))
    assert code == 0 and "already imported" in out

    bad = tmp_path / "-bad.csv"  # a name a spreadsheet would take for a formula
    bad.write_text("source,record_id,birth_date\ns,1,1985-13\ns,2,=cmd\n", encoding="utf-8")
    report = tmp_path / "problems.csv"
    code, out = run("import", str(bad), "--report", str(report))
    assert code == 1, out
    assert "-bad.csv:2: birth_date: month 13 is not between 1 and 12 [error]" in out
    with report.open(encoding="utf-8", newline="") as f:
        got = list(csv.reader(f))
    assert got[0] == ["file", "row", "column", "reason", "severity"]
    assert got[1][:3] == ["'-bad.csv", "2", "birth_date"]  # neutralised, not a formula

    nocol = tmp_path / "nocol.csv"
    nocol.write_text("given_name\nAli\n", encoding="utf-8")
    code, out = run("import", str(nocol))
    assert code == 2 and "no record_id column" in out

    # Several files: the worst outcome decides the exit code; good files are still stored.
    good = tmp_path / "good.csv"
    good.write_text("source,record_id\nz,1\n", encoding="utf-8")
    code, out = run("import", str(good), str(nocol))
    assert code == 2 and "1 records stored" in out

    code, out = run("db", "status")
    assert code == 0, out
    assert "quarantined rows: 2" in out and "ngo_ar" in out
    assert "claims, not facts" in out


def test_import_before_upgrade_says_so(empty_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATHAR_DATABASE_URL", empty_db_url)
    code, out = run("import", str(SHARED / "examples" / "records.csv"))
    assert code == 3 and "athar db upgrade" in out
    code, out = run("db", "status")
    assert code == 3 and "athar db upgrade" in out  # the same status as every command


def test_source_and_mapping_options(cli_db: str, tmp_path: Path) -> None:
    m = tmp_path / "m.yaml"
    m.write_text("columns: {ID: record_id, Full Name: full_name}\n", encoding="utf-8")
    f = tmp_path / "x.csv"
    f.write_text("ID,Full Name\n1,Mhd Ahmad Al-Halabi\n", encoding="utf-8")
    code, out = run("import", str(f), "--mapping", str(m))
    assert code == 2 and "--source" in out
    code, out = run("import", str(f), "--mapping", str(m), "--source", "family")
    assert code == 0, out
