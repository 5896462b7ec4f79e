"""Oracle: every recorded forrel ``missingPersonLR`` case (tests/fixtures/dna/forrel/).

Each ``<name>.case.json`` is the input of ``athar dna lr``; ``<name>.expected.json`` holds
forrel's total and per-marker LRs.  Every LR must be within 1e-6 relative of forrel's, and
exactly 0 where forrel's is 0; the CLI's JSON output must say the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from athar.cli import main
from athar.dna import missing_person_lr, parse_case

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "dna" / "forrel"
CASES = sorted(FIXTURES.glob("*.case.json"))
REL = 1e-6


def expected(case_path: Path) -> dict:
    return json.loads(
        case_path.with_name(case_path.name.replace(".case.", ".expected.")).read_text()
    )


def close(got: float, want: float) -> bool:
    if want == 0.0:
        return got == 0.0
    return abs(got - want) <= REL * abs(want)


def test_fixtures_are_there():
    assert len(CASES) >= 50, f"only {len(CASES)} forrel cases in {FIXTURES}"


@pytest.mark.parametrize("method", ["direct", "table"])
@pytest.mark.parametrize("case_path", CASES, ids=lambda p: p.name.removesuffix(".case.json"))
def test_matches_forrel(case_path: Path, method: str):
    """Both code paths: MP typed as the POI ("direct", the CLI's) and every MP genotype at
    once ("table", the blind search's)."""
    want = expected(case_path)
    got = missing_person_lr(parse_case(json.loads(case_path.read_text())), method=method)
    assert set(got.markers) == set(want["markers"])
    bad = {
        m: (got.markers[m], w) for m, w in want["markers"].items() if not close(got.markers[m], w)
    }
    assert not bad, f"per-marker LR differs from forrel: {bad}"
    assert close(got.lr, want["lr"]), (got.lr, want["lr"])
    if want["log10_lr"] is None:
        assert got.log10_lr is None
    else:
        assert got.log10_lr == pytest.approx(want["log10_lr"], rel=REL, abs=1e-9)


@pytest.mark.parametrize("case_path", CASES, ids=lambda p: p.name.removesuffix(".case.json"))
def test_cli_matches_forrel(case_path: Path):
    res = CliRunner().invoke(main, ["dna", "lr", str(case_path), "--format", "json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    want = expected(case_path)
    assert close(got["lr"], want["lr"])
    assert (got["log10_lr"] is None) == (want["log10_lr"] is None)
    assert all(close(got["markers"][m], w) for m, w in want["markers"].items())
