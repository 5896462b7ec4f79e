"""Simulate STR profiles through a pedigree (founders Hardy-Weinberg, transmissions through
the mutation matrix).  Pure: the caller passes a seeded :class:`numpy.random.Generator`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from athar.dna.case import Genotype
from athar.dna.engine import FloatArray, IntArray, Structure
from athar.dna.mutation import MutationModel
from athar.dna.pedigree import Person, topological_order


def simulate_alleles(
    structure: Structure,
    freqs: FloatArray,
    m_father: FloatArray,
    m_mother: FloatArray,
    n: int,
    rng: np.random.Generator,
) -> IntArray:
    """``n`` independent draws of every person's ordered alleles at one marker: an int array
    (n, persons, 2) of allele indices (paternal, maternal).  Persons must be listed parents
    first (as :class:`Structure` requires)."""
    k = len(freqs)
    cum_f = np.cumsum(freqs / freqs.sum())
    cum_mf = np.cumsum(m_father, axis=1)
    cum_mm = np.cumsum(m_mother, axis=1)
    out = np.empty((n, len(structure.ids), 2), dtype=np.intp)
    rows = np.arange(n)

    def draw(cum: FloatArray) -> IntArray:
        return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), k - 1)

    def transmit(parent: int, cum_m: FloatArray, is_identity: bool) -> IntArray:
        passed = out[rows, parent, rng.integers(0, 2, n)]
        if is_identity:
            return passed
        u = rng.random(n)
        return np.minimum((cum_m[passed] <= u[:, None]).sum(axis=1), k - 1)

    ident_f = bool(np.array_equal(m_father, np.eye(k)))
    ident_m = bool(np.array_equal(m_mother, np.eye(k)))
    for p in range(len(structure.ids)):
        f, m = structure.father[p], structure.mother[p]
        if f < 0:
            out[:, p, 0] = draw(cum_f)
            out[:, p, 1] = draw(cum_f)
        else:
            out[:, p, 0] = transmit(f, cum_mf, ident_f)
            out[:, p, 1] = transmit(m, cum_mm, ident_m)
    return out


def simulate_unrelated(freqs: FloatArray, n: int, rng: np.random.Generator) -> IntArray:
    """``n`` Hardy-Weinberg genotypes (n, 2) of unrelated persons."""
    cum = np.cumsum(freqs / freqs.sum())
    return np.minimum(np.searchsorted(cum, rng.random((n, 2)), side="right"), len(freqs) - 1)


# --- whole profiles over many markers ---------------------------------------------------------


def _P(pid: str, father: str | None, mother: str | None, sex: str) -> Person:
    return Person(pid, father, mother, sex)


_TRIO = (_P("FA", None, None, "M"), _P("MO", None, None, "F"), _P("MP", "FA", "MO", "M"))
_GRAND = (
    _P("GF", None, None, "M"),
    _P("GM", None, None, "F"),
    _P("FA", "GF", "GM", "M"),
    _P("UN", "GF", "GM", "M"),
    _P("MO", None, None, "F"),
    _P("MP", "FA", "MO", "M"),
)
_SIBS = (*_TRIO, _P("S1", "FA", "MO", "F"), _P("S2", "FA", "MO", "M"))
_HALF = (*_TRIO, _P("MO2", None, None, "F"), _P("HS", "FA", "MO2", "M"))
_KIDS = (
    _P("MP", None, None, "M"),
    _P("SP", None, None, "F"),
    _P("CH1", "MP", "SP", "F"),
    _P("CH2", "MP", "SP", "M"),
)

#: Pedigree types for simulations and benchmarks: name -> (persons, missing, typed relatives)
PEDIGREE_TYPES: dict[str, tuple[tuple[Person, ...], str, tuple[str, ...]]] = {
    "father": (_TRIO, "MP", ("FA",)),
    "mother": (_TRIO, "MP", ("MO",)),
    "both parents": (_TRIO, "MP", ("FA", "MO")),
    "full sibling": (_SIBS, "MP", ("S1",)),
    "two full siblings": (_SIBS, "MP", ("S1", "S2")),
    "parents and sibling": (_SIBS, "MP", ("FA", "MO", "S1")),
    "half sibling": (_HALF, "MP", ("HS",)),
    "grandparents": (_GRAND, "MP", ("GF", "GM")),
    "uncle": (_GRAND, "MP", ("UN",)),
    "uncle and mother": (_GRAND, "MP", ("UN", "MO")),
    "child": (_KIDS, "MP", ("CH1",)),
    "child and its mother": (_KIDS, "MP", ("CH1", "SP")),
    "two children and their mother": (_KIDS, "MP", ("CH1", "CH2", "SP")),
}


def simulate_profiles(
    pedigree: Sequence[Person],
    table: Mapping[str, Mapping[str, float]],
    markers: Sequence[str],
    mutation: MutationModel,
    n: int,
    rng: np.random.Generator,
) -> list[dict[str, dict[str, Genotype]]]:
    """``n`` simulated families: for each, person id -> marker -> genotype for EVERY person
    of the pedigree (callers keep the typed ones and the missing person's)."""
    order = topological_order(pedigree)
    s = Structure.from_parents([p.id for p in order], [(p.father, p.mother) for p in order])
    out: list[dict[str, dict[str, Genotype]]] = [{p.id: {} for p in order} for _ in range(n)]
    for m in markers:
        als = list(table[m])
        freqs = np.array([table[m][a] for a in als])
        mat = mutation.matrix(als)
        sim = simulate_alleles(s, freqs, mat, mat, n, rng)
        for k in range(n):
            fam = out[k]
            row = sim[k]
            for pi, p in enumerate(order):
                fam[p.id][m] = (als[row[pi, 0]], als[row[pi, 1]])
    return out


def simulate_unrelated_profiles(
    table: Mapping[str, Mapping[str, float]],
    markers: Sequence[str],
    n: int,
    rng: np.random.Generator,
) -> list[dict[str, Genotype]]:
    """``n`` profiles of persons unrelated to anyone (Hardy-Weinberg at every marker)."""
    out: list[dict[str, Genotype]] = [{} for _ in range(n)]
    for m in markers:
        als = list(table[m])
        g = simulate_unrelated(np.array([table[m][a] for a in als]), n, rng)
        for k in range(n):
            out[k][m] = (als[g[k, 0]], als[g[k, 1]])
    return out
