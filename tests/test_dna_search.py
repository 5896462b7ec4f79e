"""Blind search: its look-up LRs equal the exact LR, dvir's conclusions, the simulator."""

from __future__ import annotations

import math

import numpy as np
import pytest

from athar.dna import Case, missing_person_lr
from athar.dna.engine import Structure
from athar.dna.frequencies import CODIS21, default_table
from athar.dna.mutation import MutationModel
from athar.dna.search import CompiledFamilies, Family, compile_families, score, search
from athar.dna.simulate import (
    PEDIGREE_TYPES,
    simulate_alleles,
    simulate_profiles,
    simulate_unrelated_profiles,
)

TABLE = default_table()
MUT = MutationModel("stepwise", 0.002, 1e-6, 0.1)
MARKERS = CODIS21[:8]


def test_lookup_lr_equals_exact_lr_for_every_pedigree_type():
    rng = np.random.default_rng(5)
    families, remains, cases = [], [], []
    for kind, (persons, missing, typed) in PEDIGREE_TYPES.items():
        sims = simulate_profiles(persons, TABLE, MARKERS, MUT, 2, rng)
        unrelated = simulate_unrelated_profiles(TABLE, MARKERS, 1, rng)[0]
        for k, sim in enumerate(sims):
            genos = {pid: sim[pid] for pid in typed}
            families.append(Family(f"{kind}{k}", persons, missing, genos))
            poi = sim[missing] if k == 0 else unrelated
            remains.append(poi)
            cases.append(
                Case({m: TABLE[m] for m in MARKERS}, MUT, persons, missing, {**genos, "POI": poi})
            )
    compiled = compile_families(families, TABLE, MUT, MARKERS, remains)
    s = score(compiled, compiled.genotype_rows(remains))
    for k, case in enumerate(cases):
        exact = missing_person_lr(case).log10_lr
        assert exact is not None
        assert s[k, k] == pytest.approx(exact, abs=1e-4 + 1e-6 * abs(exact)), families[k].id


def hand_made(matrix: list[list[float]]) -> tuple[CompiledFamilies, np.ndarray]:
    """A one-marker 'table' whose genotype i is remains i: score[i, f] = matrix[i][f]."""
    m = np.array(matrix, dtype=np.float32)
    n_r, n_f = m.shape
    table = np.vstack([m, np.zeros((1, n_f), dtype=np.float32)])
    compiled = CompiledFamilies(
        [f"F{j}" for j in range(n_f)], ("M",), {"M": []}, np.array([0, n_r + 1]), table
    )
    return compiled, np.arange(n_r).reshape(-1, 1)


N = -30.0  # log10 LR of a clear non-match


def test_dvir_conclusions_on_a_hand_made_lr_matrix():
    matrix = [
        # F0 F1  F2  F3  F4  F5  F6   F7
        [6, 1, N, N, N, N, N, N],  # R0: undisputed F0 (6 >= 4 + 1)
        [N, N, 6, 3, N, N, N, N],  # R1: F2 only 10^3 ahead of F3: probable, not undisputed
        [N, N, N, N, 5, 5, N, N],  # R2: two families above 10^4: disputed
        [N, N, N, N, N, N, 10, N],  # R3: undisputed F6 (10 >= 4 + 5)
        [N, N, N, N, N, N, 5, 5.5],  # R4: F7 undisputed once R3-F6 is removed (2nd round)
        [N, N, N, N, N, N, N, 1],  # R5: nothing above 10^4: no match
    ]
    compiled, rows = hand_made(matrix)
    res = search(compiled, [f"R{i}" for i in range(6)], rows, top=3)
    got = {c.subject: (c.conclusion, c.match) for c in res.remains_conclusions}
    assert got == {
        "R0": ("undisputed", "F0"),
        "R1": ("probable", "F2"),
        "R2": ("disputed", "F4"),
        "R3": ("undisputed", "F6"),
        "R4": ("undisputed", "F7"),
        "R5": ("no match", None),
    }
    fam = {c.subject: (c.conclusion, c.match) for c in res.family_conclusions}
    assert fam["F0"] == ("undisputed", "R0") and fam["F7"] == ("undisputed", "R4")
    assert fam["F2"] == ("probable", "R1") and fam["F3"] == ("no match", None)
    assert fam["F4"] == ("probable", "R2") and fam["F1"] == ("no match", None)
    # strict: every other LR involving the pair must be <= 1; R0 has F1 at LR 10
    strict = search(compiled, [f"R{i}" for i in range(6)], rows, top=3, strict=True)
    assert strict.remains_conclusions[0].conclusion == "probable"
    assert strict.remains_conclusions[3].conclusion == "probable"  # F6 also has R4 at 10^5
    clean, clean_rows = hand_made([[6, -1], [0, 7]])
    assert [
        c.conclusion for c in search(clean, ["A", "B"], clean_rows, strict=True).remains_conclusions
    ] == ["undisputed", "undisputed"]
    # kept pairs: LR >= floor (10^3 by default)
    kept = {(int(r), int(f)) for r, f in zip(res.pair_remains, res.pair_family, strict=True)}
    assert kept == {(0, 0), (1, 2), (1, 3), (2, 4), (2, 5), (3, 6), (4, 6), (4, 7)}
    assert res.top_families[4].tolist()[:2] == [7, 6]
    assert res.top_remains[6].tolist()[:2] == [3, 4]


def test_search_streams_in_chunks_with_the_same_answer():
    compiled, rows = hand_made([[float(i * j % 7) for j in range(9)] for i in range(11)])
    ids = [f"R{i}" for i in range(11)]
    a = search(compiled, ids, rows, chunk=2, top=4)
    b = search(compiled, ids, rows, chunk=100, top=4)
    assert np.array_equal(a.top_families_log10, b.top_families_log10)
    assert np.array_equal(a.top_remains_log10, b.top_remains_log10)
    assert [c.conclusion for c in a.family_conclusions] == [
        c.conclusion for c in b.family_conclusions
    ]


def test_simulated_true_and_false_pairs_both_parents_21_markers():
    rng = np.random.default_rng(11)
    persons, missing, typed = PEDIGREE_TYPES["both parents"]
    n = 1000
    sims = simulate_profiles(persons, TABLE, CODIS21, MUT, n, rng)
    fams = [Family(f"F{k}", persons, missing, {p: s[p] for p in typed}) for k, s in enumerate(sims)]
    truth = [s[missing] for s in sims]
    unrelated = simulate_unrelated_profiles(TABLE, CODIS21, n, rng)
    c = compile_families(fams, TABLE, MUT, CODIS21, truth + unrelated)
    true_rows, false_rows = c.genotype_rows(truth), c.genotype_rows(unrelated)
    true_lr = np.array([score(c, true_rows[k : k + 1])[0, k] for k in range(n)])
    false_lr = np.array([score(c, false_rows[k : k + 1])[0, k] for k in range(n)])
    assert np.median(true_lr) > 4
    assert np.mean(false_lr > 4) < 1e-3
    assert np.mean(true_lr < 4) < 0.01
    # mutations were simulated: some true pairs carry an inconsistency, but none is 0
    assert np.isfinite(true_lr).all()


def test_simulator_frequencies_and_mutation_rate():
    rng = np.random.default_rng(3)
    s = Structure.from_parents(["FA", "MO", "CH"], [(None, None), (None, None), ("FA", "MO")])
    freqs = np.array([0.1, 0.2, 0.3, 0.4])
    mat = MutationModel("equal", 0.05).matrix(["1", "2", "3", "4"])
    n = 200_000
    sim = simulate_alleles(s, freqs, mat, np.eye(4), n, rng)
    founder = np.bincount(sim[:, 0, :].ravel(), minlength=4) / (2 * n)
    assert np.allclose(founder, freqs, atol=0.003)
    from_father = sim[:, 2, 0]
    mutated = (from_father != sim[:, 0, 0]) & (from_father != sim[:, 0, 1])
    # a mutation to the father's other allele is invisible: rate * (1 - P(other allele hit))
    assert 0.03 < mutated.mean() < 0.05
    from_mother = sim[:, 2, 1]
    assert ((from_mother == sim[:, 1, 0]) | (from_mother == sim[:, 1, 1])).all()


def test_unseen_alleles_are_added_and_reported():
    persons, missing, typed = PEDIGREE_TYPES["father"]
    fam = Family("F", persons, missing, {"FA": {"D3S1358": ("13.3", "15")}})
    c = compile_families([fam], TABLE, MUT, ["D3S1358"], [{"D3S1358": ("13.3", "16")}])
    assert [(a.marker, a.allele) for a in c.added] == [("D3S1358", "13.3")]
    lr = 10 ** float(score(c, c.genotype_rows([{"D3S1358": ("13.3", "16")}]))[0, 0])
    assert math.isfinite(lr) and lr > 1
