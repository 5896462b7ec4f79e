"""Exclusion power and expected LR against forrel (tests/fixtures/dna/forrel/power/), and the
expected figures when a relative would be typed."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from athar.dna import parse_case
from athar.dna.power import candidates, exclusion_and_expected_lr

POWER = Path(__file__).resolve().parent / "fixtures" / "dna" / "forrel" / "power"
CASES = sorted(POWER.glob("*.case.json"))


def test_power_fixtures_are_there():
    assert len(CASES) >= 10


def close(got: float, want: float, rel: float = 1e-6) -> bool:
    if want == 0:
        return abs(got) <= 1e-15
    return abs(got - want) <= rel * abs(want)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name.removesuffix(".case.json"))
def test_ep_and_expected_lr_match_forrel(path: Path):
    want = json.loads(path.with_name(path.name.replace(".case.", ".expected.")).read_text())
    got = exclusion_and_expected_lr(parse_case(json.loads(path.read_text())))
    for m, v in want["ep"]["markers"].items():
        assert close(got.ep_markers[m], v), (m, got.ep_markers[m], v)
    assert close(got.ep, want["ep"]["total"])
    assert close(got.expected_mismatches, want["ep"]["expected_mismatches"])
    assert sorted(got.mutation_disabled) == sorted(want["ep"]["mutation_disabled_markers"])
    for m, v in want["expected_lr"]["markers"].items():
        assert close(got.expected_lr_markers[m], v), (m, got.expected_lr_markers[m], v)
    assert close(got.expected_lr, want["expected_lr"]["total"])
    for m, v in want["expected_log10_lr"]["markers"].items():
        assert abs(got.expected_log10_lr_markers[m] - v) <= 1e-9 + 1e-6 * abs(v), m
    assert close(got.expected_log10_lr, want["expected_log10_lr"]["total"])


def person(pid, father=None, mother=None, sex="M"):
    return {"id": pid, "father": father, "mother": mother, "sex": sex}


def test_typing_the_second_parent_is_worth_more_than_a_grandparent():
    freqs = {
        str(a): f for a, f in zip(range(10, 16), [0.1, 0.2, 0.3, 0.15, 0.15, 0.1], strict=True)
    }
    case = parse_case(
        {
            "markers": {"M1": freqs, "M2": freqs},
            "pedigree": [
                person("GF"),
                person("GM", sex="F"),
                person("FA", "GF", "GM"),
                person("MO", sex="F"),
                person("MP", "FA", "MO"),
            ],
            "missing": "MP",
            "genotypes": {"FA": {"M1": ["10", "11"], "M2": ["12", "13"]}},
        }
    )
    now = exclusion_and_expected_lr(case)
    cands = {c.person: c for c in candidates(case)}
    assert set(cands) == {"GF", "GM", "MO"}
    mo, gf = cands["MO"], cands["GF"]
    assert mo.expected_log10_lr > now.expected_log10_lr > 0
    assert mo.ep > now.ep and mo.expected_log10_lr > gf.expected_log10_lr
    # typing GF adds nothing once FA is typed (FA separates GF from MP)
    assert gf.expected_log10_lr == pytest.approx(now.expected_log10_lr, abs=1e-12)
    assert gf.ep == pytest.approx(now.ep, abs=1e-12)
    assert candidates(case)[0].person == "MO"


def test_expected_log10_lr_for_a_typed_parent_by_enumeration():
    # one marker, only MO untyped; with MO typed, E[log10 LR] = sum over (mo, mp) genotypes
    p = np.array([0.2, 0.3, 0.5])
    freqs = {"1": 0.2, "2": 0.3, "3": 0.5}
    case = parse_case(
        {
            "markers": {"M": freqs},
            "pedigree": [person("FA"), person("MO", sex="F"), person("MP", "FA", "MO")],
            "missing": "MP",
            "genotypes": {"FA": {"M": ["1", "2"]}},
        }
    )
    (mo,) = candidates(case)
    pairs = [(a, b) for b in range(3) for a in range(b + 1)]
    hw = {g: (1 if g[0] == g[1] else 2) * p[g[0]] * p[g[1]] for g in pairs}

    def child(fa, mo_g, g):  # P(child = g | parents), no mutation
        def t(par, a):
            return (par[0] == a) / 2 + (par[1] == a) / 2

        a, b = g
        pr = t(fa, a) * t(mo_g, b)
        if a != b:
            pr += t(fa, b) * t(mo_g, a)
        return pr

    expected = 0.0
    for m in pairs:
        for g in pairs:
            w = hw[m] * child((0, 1), m, g)
            if w > 0:
                expected += w * math.log10(child((0, 1), m, g) / hw[g])
    assert mo.expected_log10_lr == pytest.approx(expected, rel=1e-12)
