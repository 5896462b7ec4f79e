"""``athar names explain`` and ``athar names keys``."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from click.testing import CliRunner

from athar.cli import main
from athar.names import canonical, phonetic_key


def test_keys_writes_csv(tmp_path: Path) -> None:
    names = ["محمد أحمد الحلبي", "", "AL-HALABI, Mohammad Ahmad", "Abdel Rahman", "  Kassem  "]
    src = tmp_path / "names.txt"
    src.write_text("\n".join(names) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["names", "keys", str(src)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0] == ["name", "canonical", "key"]
    assert [r[0] for r in rows[1:]] == [
        "محمد أحمد الحلبي",
        "AL-HALABI, Mohammad Ahmad",
        "Abdel Rahman",
        "Kassem",
    ]
    for name, canon, key in rows[1:]:
        assert canon == canonical(name)
        assert key == phonetic_key(name)
    assert rows[3][1] == "Abd al-Rahman"


def test_keys_reads_standard_input() -> None:
    result = CliRunner().invoke(main, ["names", "keys", "-"], input="خالد\nKhaled\n")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[1][1] == rows[2][1] == "Khalid"
    assert rows[1][2] == rows[2][2]


def test_keys_rejects_bad_utf8_naming_file_and_line(tmp_path: Path) -> None:
    src = tmp_path / "bad.txt"
    src.write_bytes(b"Omar\n" + b"\xff\xfeAli\n")
    result = CliRunner().invoke(main, ["names", "keys", str(src)])
    assert result.exit_code != 0
    assert "bad.txt" in result.output and "line 2" in result.output


def test_keys_missing_file() -> None:
    result = CliRunner().invoke(main, ["names", "keys", "/nonexistent/names.txt"])
    assert result.exit_code != 0
    assert "names.txt" in result.output


def test_explain_shows_each_step() -> None:
    result = CliRunner().invoke(
        main, ["names", "explain", "محمد أحمد الحلبي", "AL-HALABI, Mohammad Ahmad"]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    for label in (
        "normalised",
        "words",
        "parts",
        "parsed",
        "canonical",
        "key",
        "alignment",
        "level:",
    ):
        assert label in out, label
    assert "محمد احمد الحلبي" in out  # the normalised Arabic form
    assert "inverted" in out
    assert "level: CANONICAL" in out


def test_explain_different_names() -> None:
    result = CliRunner().invoke(main, ["names", "explain", "Omar Khalid", "Fatima Zahra"])
    assert result.exit_code == 0
    assert "level: DIFFERENT" in result.output
