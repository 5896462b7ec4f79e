"""The likelihood engine against closed forms and a brute-force enumeration."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

from athar.dna import CaseError, missing_person_lr, parse_case
from athar.dna.engine import Structure, joint
from athar.dna.frequencies import default_table, parse_table, with_minimum
from athar.dna.mutation import equal_matrix, stepwise_matrix

P = {"a": 0.1, "b": 0.2, "c": 0.3, "d": 0.4}


def person(pid: str, father: str | None = None, mother: str | None = None, sex: str = "M"):
    return {"id": pid, "father": father, "mother": mother, "sex": sex}


TRIO = [person("FA"), person("MO", sex="F"), person("MP", "FA", "MO")]


def lr(pedigree: list[dict[str, Any]], genotypes: dict[str, list[str]], mutation=None, freqs=P):
    case = {
        "markers": {"M": dict(freqs)},
        "mutation": mutation or {"model": "none"},
        "pedigree": pedigree,
        "missing": "MP",
        "genotypes": {pid: {"M": g} for pid, g in genotypes.items()},
    }
    return missing_person_lr(parse_case(case)).lr


pa, pb, pc, pd = P["a"], P["b"], P["c"], P["d"]


def test_one_parent():
    assert lr(TRIO, {"POI": ["a", "b"], "FA": ["a", "c"]}) == pytest.approx(1 / (4 * pa))
    assert lr(TRIO, {"POI": ["a", "b"], "MO": ["a", "b"]}) == pytest.approx(
        (pa + pb) / (4 * pa * pb)
    )
    assert lr(TRIO, {"POI": ["a", "a"], "FA": ["a", "b"]}) == pytest.approx(1 / (2 * pa))
    assert lr(TRIO, {"POI": ["a", "a"], "FA": ["a", "a"]}) == pytest.approx(1 / pa)


def test_both_parents():
    g = {"POI": ["a", "b"], "FA": ["a", "c"], "MO": ["b", "d"]}
    assert lr(TRIO, g) == pytest.approx(1 / (8 * pa * pb))
    g = {"POI": ["a", "b"], "FA": ["a", "b"], "MO": ["a", "b"]}
    assert lr(TRIO, g) == pytest.approx(0.5 / (2 * pa * pb))


SIBS = TRIO + [person("S", "FA", "MO")]
HALF = [person("FA"), person("M1", sex="F"), person("M2", sex="F")] + [
    person("MP", "FA", "M1"),
    person("S", "FA", "M2"),
]


def test_full_sibling():
    expected = (1 + pa + pb + 2 * pa * pb) / (8 * pa * pb)
    assert lr(SIBS, {"POI": ["a", "b"], "S": ["a", "b"]}) == pytest.approx(expected)
    # unrelated-looking sibling: k0 = 1/4 only
    assert lr(SIBS, {"POI": ["a", "b"], "S": ["c", "d"]}) == pytest.approx(0.25)


def test_half_sibling_grandparent_uncle():
    assert lr(HALF, {"POI": ["a", "b"], "S": ["a", "c"]}) == pytest.approx(0.5 + 1 / (8 * pa))
    grand = [
        person("GF"),
        person("GM", sex="F"),
        person("FA", "GF", "GM"),
        person("MO", sex="F"),
        person("MP", "FA", "MO"),
    ]
    assert lr(grand, {"POI": ["a", "b"], "GF": ["a", "c"]}) == pytest.approx(0.5 + 1 / (8 * pa))
    uncle = grand + [person("UN", "GF", "GM")]
    assert lr(uncle, {"POI": ["a", "b"], "UN": ["a", "c"]}) == pytest.approx(0.5 + 1 / (8 * pa))


def test_own_child_with_and_without_other_parent():
    ped = [person("MP"), person("W", sex="F"), person("CH", "MP", "W")]
    assert lr(ped, {"POI": ["a", "d"], "CH": ["a", "b"], "W": ["b", "c"]}) == pytest.approx(
        1 / (2 * pa)
    )
    # other parent untyped: same as one parent
    assert lr(ped, {"POI": ["a", "d"], "CH": ["a", "c"]}) == pytest.approx(1 / (4 * pa))


def test_impossible_without_mutation_is_exactly_zero_and_small_with_mutation():
    g = {"POI": ["a", "b"], "FA": ["c", "c"]}
    assert lr(TRIO, g) == 0.0
    res = missing_person_lr(
        parse_case(
            {
                "markers": {"M": P, "N": P},
                "pedigree": TRIO,
                "missing": "MP",
                "genotypes": {"POI": {"M": ["a", "b"], "N": ["a", "b"]}, "FA": {"M": ["c", "c"]}},
            }
        )
    )
    assert res.lr == 0.0 and res.log10_lr is None and res.markers["N"] == 1.0
    with_mut = lr(TRIO, g, {"model": "equal", "rate": 0.005})
    assert 0.0 < with_mut < 0.05
    # P(D, MP=a/b) = pc^2 * m * [q_b + q_a], m = r/(n-1) (equal model) and q = p M the
    # allele the untyped mother passes on (through the mutation matrix)
    m = 0.005 / 3
    q = np.array(list(P.values())) @ equal_matrix(4, 0.005)
    expected = pc**2 * m * (q[1] + q[0]) / (pc**2 * 2 * pa * pb)
    assert with_mut == pytest.approx(expected, rel=1e-12)


def test_founders_never_mutate():
    mut = {"model": "equal", "rate": 0.05}
    # MP a founder with no typed relative: HW under both hypotheses, LR exactly 1 (up to fp)
    ped = [person("MP"), person("W", sex="F"), person("CH", "MP", "W")]
    assert lr(ped, {"POI": ["a", "b"]}, mut) == pytest.approx(1.0, abs=1e-14)
    # MP a child of untyped founders: its alleles are p M (one transmission), so LR off 1;
    # were founders mutated too, they would be p M M
    mat = equal_matrix(4, 0.05)
    p = np.array(list(P.values()))
    p1 = p @ mat
    expected = (2 * p1[0] * p1[1]) / (2 * pa * pb)
    got = lr(TRIO, {"POI": ["a", "b"]}, mut)
    assert got == pytest.approx(expected, rel=1e-12)
    p2 = p1 @ mat
    assert abs(got - (2 * p2[0] * p2[1]) / (2 * pa * pb)) > 1e-4
    assert abs(got - 1.0) > 1e-3


def test_mutation_matrices_rows_sum_to_one():
    als = ["9", "9.3", "10", "11", "12", "12.2", "13.3", "14"]
    for m in (equal_matrix(len(als), 0.01), stepwise_matrix(als, 0.002, 1e-6, 0.1)):
        assert np.allclose(m.sum(axis=1), 1.0, rtol=0, atol=1e-15)
        assert (m >= 0).all()
    m = stepwise_matrix(als, 0.002, 1e-6, 0.1)
    ints = [0, 2, 3, 4, 7]
    # integer allele 11 (index 3): mutation within the integers has total rate, across rate2
    assert m[3, ints].sum() - m[3, 3] == pytest.approx(0.002)
    assert m[3, [1, 5, 6]].sum() == pytest.approx(1e-6)
    assert m[3, 2] == pytest.approx(m[3, 4])  # one step down == one step up
    assert m[3, 2] / m[3, 0] == pytest.approx(10.0)  # one step vs two steps: range 0.1
    # 9.3 and 13.3 share the .3 group; 12.2 is alone in its group: diagonal 1 - rate2
    assert m[5, 5] == pytest.approx(1 - 1e-6)
    assert m[1, 1] == pytest.approx(1 - 0.002 - 1e-6)
    assert m[1, 6] == pytest.approx(0.002)


def _brute_force(parents, typed, freqs, mat, mp, poi):
    """P(D, MP=poi) and P(D) by enumerating every ordered genotype of every person."""
    n = len(freqs)
    k = len(parents)
    h1 = h0 = 0.0
    for gs in itertools.product(itertools.product(range(n), repeat=2), repeat=k):
        pr = 1.0
        for i, (f, m) in enumerate(parents):
            a, b = gs[i]
            if f is None:
                pr *= freqs[a] * freqs[b]
            else:
                fa, mo = gs[f], gs[m]
                pr *= 0.5 * (mat[fa[0], a] + mat[fa[1], a]) * 0.5 * (mat[mo[0], b] + mat[mo[1], b])
            if pr == 0.0:
                break
        if pr == 0.0:
            continue
        if any(sorted(gs[i]) != sorted(g) for i, g in typed.items()):
            continue
        h0 += pr
        if sorted(gs[mp]) == sorted(poi):
            h1 += pr
    return h1, h0


@pytest.mark.parametrize("rate", [0.0, 0.05])
def test_loop_pedigree_matches_brute_force(rate):
    # first cousins' child: a marriage loop
    ids = ["GF", "GM", "A", "B", "X", "Y", "C1", "C2", "MP"]
    parents = [
        (None, None),
        (None, None),
        (0, 1),
        (0, 1),
        (None, None),
        (None, None),
        (2, 4),
        (5, 3),
        (6, 7),
    ]
    # keep the enumeration small: persons X, Y are founders; 9 persons x 4 ordered genotypes
    freqs = np.array([0.3, 0.7])
    mat = equal_matrix(2, rate) if rate else np.eye(2)
    typed = {0: (0, 1), 6: (0, 0), 3: (1, 1)}
    poi = (0, 1)
    h1, h0 = _brute_force(parents, typed, freqs, mat, 8, poi)
    s = Structure(
        tuple(ids),
        tuple(-1 if f is None else f for f, _ in parents),
        tuple(-1 if m is None else m for _, m in parents),
    )
    typed_idx = list(typed)
    al = np.array([[list(typed[i]) for i in typed_idx]])
    q = joint(s, typed_idx, al, freqs, mat, mat, query=[8])[0]
    assert q.sum() == pytest.approx(h0, rel=1e-12)
    assert q[0, 1] + q[1, 0] == pytest.approx(h1, rel=1e-12)
    assert joint(s, typed_idx, al, freqs, mat, mat)[0] == pytest.approx(h0, rel=1e-12)


def test_batch_equals_single():
    s = Structure.from_parents(
        ["FA", "MO", "MP", "S"], [(None, None), (None, None), ("FA", "MO"), ("FA", "MO")]
    )
    freqs = np.array([0.1, 0.2, 0.3, 0.4])
    mat = equal_matrix(4, 0.01)
    rng = np.random.default_rng(1)
    al = rng.integers(0, 4, size=(7, 2, 2))
    batch = joint(s, [0, 3], al, freqs, mat, mat, query=[2])
    for b in range(7):
        single = joint(s, [0, 3], al[b : b + 1], freqs, mat, mat, query=[2])
        assert np.allclose(batch[b], single[0], rtol=1e-13, atol=0)


def test_case_errors_are_all_reported():
    bad = {
        "markers": {"M": {"a": 0.5, "b": 1.5}},
        "mutation": {"model": "equal"},
        "pedigree": [
            person("FA", sex="F"),
            person("MO", sex="F"),
            person("MP", "FA", "MO"),
            person("S", "NOBODY", "MO"),
        ],
        "missing": "MP",
        "genotypes": {"POI": {"M": ["a"]}, "Z": {"M": ["a", "b"]}, "FA": {"Q": ["a", "a"]}},
    }
    with pytest.raises(CaseError) as err:
        parse_case(bad)
    fields = {f for f, _ in err.value.problems}
    assert {
        "markers.M.b",
        "mutation.rate",
        "pedigree[2].father",
        "pedigree[3].father",
        "genotypes.POI.M",
        "genotypes.Z",
        "genotypes.FA.Q",
    } <= fields


def test_cycle_is_reported():
    ped = [person("A", "B", "C"), person("B", "A", "C"), person("C", sex="F")]
    with pytest.raises(CaseError) as err:
        parse_case({"markers": {"M": P}, "pedigree": ped, "missing": "A", "genotypes": {}})
    assert any("cycle" in m for _, m in err.value.problems)


def test_default_table_and_minimum_frequency():
    table = default_table()
    assert len(table) == 50 and "Penta D" in table and table["D3S1358"]
    for freqs in table.values():
        assert math.isclose(sum(freqs.values()), 1.0, abs_tol=1e-9)
    new, added = with_minimum(table, {"D3S1358": ["13.3", "15"], "TPOX": ["8"]})
    assert [(a.marker, a.allele) for a in added] == [("D3S1358", "13.3")]
    assert new["D3S1358"]["13.3"] == 0.001
    assert math.isclose(sum(new["D3S1358"].values()), 1.0, abs_tol=1e-12)
    assert new["TPOX"] == table["TPOX"]
    with pytest.raises(ValueError):
        parse_table("marker\tallele\tfrequency\nX\t1\t1.5\nX\tfoo\t0.1\n")
