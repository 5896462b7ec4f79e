"""``athar estimate`` on counts files: JSON/text output, plots, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from athar.cli import main

MSE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mse"
FAST = ["--burnin", "200", "--samples", "200", "--thinning", "5", "--chains", "2"]


def invoke(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["estimate", *args])
    # a result is on standard output; progress lines go to standard error
    return result.exit_code, result.stdout if result.exit_code == 0 else result.output


def test_json_has_every_method() -> None:
    code, out = invoke(["--counts", str(MSE / "kosovo.csv"), "--format", "json", *FAST])
    assert code == 0, out
    data = json.loads(out)
    for method in ("loglinear", "dga", "lcmcr"):
        for key in ("estimate", "lower", "upper", "model"):
            assert key in data[method], (method, key)
        assert data[method]["lower"] <= data[method]["estimate"] <= data[method]["upper"]
    assert data["loglinear"]["model"] == "[123,14,34]"
    assert round(data["loglinear"]["estimate"], 1) == 10356.5
    assert data["lcmcr"]["settings"]["K"] == 15
    assert "rhat" in data["lcmcr"]["diagnostics"]
    assert data["dga"]["delta"] == 2**-4
    assert data["n_observed"] == 4400


def test_text_side_by_side_with_disagreement_warning(tmp_path: Path) -> None:
    png = tmp_path / "uk.png"
    code, out = invoke(
        [
            "--counts",
            str(MSE / "uk5.csv"),
            "--methods",
            "loglinear,dga",
            "--model",
            "[12,13,24,25,35,45]",
            "--plot",
            str(png),
        ]
    )
    assert code == 0, out
    assert "loglinear" in out and "dga" in out and "11,313" in out and "22,365" in out
    # 11,313 vs 22,365 differ by far more than 25%
    assert "WARNING: methods disagree" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_svg_plot(tmp_path: Path) -> None:
    svg = tmp_path / "k.svg"
    code, out = invoke(
        ["--counts", str(MSE / "kosovo.csv"), "--format", "json", "--plot", str(svg), *FAST]
    )
    assert code == 0, out
    assert "<svg" in svg.read_text()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("A,B,count\n1,0,5\n0,1,x\n", "row 3, column 'count'"),
        ("A,B,count\n1,0,5\n2,1,3\n", "row 3, column 'A'"),
        ("A,B,count\n1,0,5\n0,1,-3\n", "row 3, column 'count': negative"),
        ("A,B,count\n1,0,5\n0,0,7\n", "row 3: the pattern on no list"),
        ("A,B,count\n1,0,5\n1,0,7\n", "row 3: pattern 10 already given in row 2"),
        ("A,B,count\n1,0,5\n0,1\n", "row 3: 2 values"),
        ("A,B,total\n1,0,5\n", "row 1: the header needs exactly one 'count' column"),
        ("A,count\n1,5\n", "need at least two list columns"),
        ("", "empty file"),
    ],
)
def test_bad_counts_files_name_file_row_column(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    code, out = invoke(["--counts", str(path), "--methods", "loglinear"])
    assert code != 0
    assert str(path) in out
    assert expected in out, out


def test_bad_options(tmp_path: Path) -> None:
    code, out = invoke(["--counts", str(MSE / "kosovo.csv"), "--methods", "loglinear,magic"])
    assert code != 0 and "magic" in out
    code, out = invoke(["--counts", str(MSE / "kosovo.csv"), "--plot", str(tmp_path / "x.pdf")])
    assert code != 0 and ".png or .svg" in out
    code, out = invoke(["--counts", str(tmp_path / "missing.csv")])
    assert code != 0 and "missing.csv" in out
    code, out = invoke(
        ["--counts", str(MSE / "kosovo.csv"), "--methods", "loglinear", "--model", "[15]"]
    )
    assert code != 0 and "outside 1..4" in out


def test_each_method_that_can_run_reports_and_one_that_cannot_says_why(tmp_path: Path) -> None:
    """Issue 14: 7 lists are more than dga can enumerate; log-linear must still report."""
    lists = [f"l{i}" for i in range(1, 8)]
    rows = [",".join([*lists, "count"])]
    for k in range(1, 2**7):
        pattern = [(k >> i) & 1 for i in range(7)]
        rows.append(",".join([*(str(v) for v in pattern), str(3 + sum(pattern))]))
    counts = tmp_path / "seven.csv"
    counts.write_text("\n".join(rows) + "\n", encoding="utf-8")
    model = "[" + ",".join(str(i) for i in range(1, 8)) + "]"
    args = ["--counts", str(counts), "--methods", "loglinear,dga", "--model", model]
    code, out = invoke([*args, "--format", "json"])
    assert code == 0, out
    data = json.loads(out)
    assert data["loglinear"]["estimate"] > data["n_observed"]
    assert "dga" not in data and "more than the 6 it can enumerate" in data["not_run"]["dga"]
    code, out = invoke(args)
    assert code == 0, out
    assert "loglinear" in out and "dga" in out and "not run" in out
    # when no method can run, the command fails and says why for each
    code, out = invoke(["--counts", str(counts), "--methods", "dga"])
    assert code != 0 and "more than the 6 it can enumerate" in out
