"""Likelihood ratios for a missing person, as forrel's ``missingPersonLR`` defines them.

H1: the person of interest (POI) is the missing person MP of the pedigree.
H2: the POI is unrelated to the family (the pedigree keeps MP, untyped).

At one marker, with D the relatives' genotypes and g the POI's,
``LR = P(D, MP = g) / (P(D) * HW(g))``.  Both come from one elimination that keeps MP's two
alleles (:func:`family_lr_table`), which gives the LR a POI of every possible genotype would
get: the blind search reuses it, so each set of remains costs only look-ups.  A marker where
the POI is untyped has LR 1.  The total LR is the product over markers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from athar.dna.case import Case, CaseError
from athar.dna.engine import FloatArray, IntArray, Structure, joint
from athar.dna.mutation import MutationModel

__all__ = [
    "LRResult",
    "missing_person_lr",
    "family_lr_table",
    "genotype_index",
    "hw_vector",
    "case_structure",
]


@dataclass(frozen=True)
class LRResult:
    lr: float
    #: None where the LR is 0
    log10_lr: float | None
    markers: dict[str, float]

    def as_dict(self) -> dict[str, object]:
        return {"lr": self.lr, "log10_lr": self.log10_lr, "markers": dict(self.markers)}


def genotype_index(i: int, j: int) -> int:
    """Index of the unordered genotype {i, j} (allele indices) in a marker's genotype vector:
    pairs i <= j ordered by j, then i (0/0, 0/1, 1/1, 0/2, 1/2, 2/2, ...)."""
    if i > j:
        i, j = j, i
    return j * (j + 1) // 2 + i


def _triangle(n: int) -> tuple[IntArray, IntArray]:
    jj, ii = [], []
    for j in range(n):
        for i in range(j + 1):
            ii.append(i)
            jj.append(j)
    return np.array(ii, dtype=np.intp), np.array(jj, dtype=np.intp)


def hw_vector(freqs: FloatArray) -> FloatArray:
    """Hardy-Weinberg probability of every unordered genotype, in :func:`genotype_index` order."""
    i, j = _triangle(len(freqs))
    return np.where(i == j, 1.0, 2.0) * freqs[i] * freqs[j]


def unordered(q: FloatArray) -> FloatArray:
    """Fold (B, n, n) ordered-allele probabilities into (B, G) unordered genotypes."""
    i, j = _triangle(q.shape[-1])
    return np.where(i == j, q[:, i, j], q[:, i, j] + q[:, j, i])


def family_lr_table(
    structure: Structure,
    typed: list[int],
    alleles: IntArray,
    freqs: FloatArray,
    m_father: FloatArray,
    m_mother: FloatArray,
    missing: int,
) -> tuple[FloatArray, FloatArray]:
    """For a batch of families: (LR for every POI genotype (B, G), P(D) (B,)).

    The LR of genotype g is ``P(D, MP = g) / (P(D) HW(g))``; rows where P(D) = 0 (relatives
    inconsistent with the pedigree) are NaN.
    """
    q = joint(structure, typed, alleles, freqs, m_father, m_mother, query=[missing])
    p_data = q.sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        lr = unordered(q) / (p_data[:, None] * hw_vector(freqs)[None, :])
    lr[p_data <= 0] = np.nan
    return lr, p_data


def case_structure(case: Case) -> Structure:
    return Structure.from_parents(
        [p.id for p in case.pedigree], [(p.father, p.mother) for p in case.pedigree]
    )


@lru_cache(maxsize=512)
def transmission_matrix(model: MutationModel, alleles: tuple[str, ...]) -> FloatArray:
    """The model's matrix for these alleles (cached: the same markers recur case after case)."""
    m = model.matrix(alleles)
    m.setflags(write=False)
    return m


def marker_inputs(
    case: Case, marker: str, structure: Structure | None = None
) -> tuple[list[str], FloatArray, list[int], IntArray]:
    """Alleles, frequencies, typed relatives (indices) and their allele indices at a marker."""
    structure = structure or case_structure(case)
    alleles = list(case.markers[marker])
    freqs = np.array([case.markers[marker][a] for a in alleles])
    index = {a: k for k, a in enumerate(alleles)}
    typed: list[int] = []
    geno: list[list[int]] = []
    for pid, profile in case.relatives().items():
        if marker in profile:
            typed.append(structure.index(pid))
            geno.append([index[profile[marker][0]], index[profile[marker][1]]])
    arr: npt.NDArray[np.intp] = np.array(geno, dtype=np.intp).reshape(1, len(typed), 2)
    return alleles, freqs, typed, arr


def missing_person_lr(case: Case, method: str = "direct") -> LRResult:
    """The LR of H1 (POI = missing person) against H2 (POI unrelated), per marker and total.

    ``method="direct"`` computes P(D, MP = g) with the missing person typed as the POI, and
    P(D); ``method="table"`` goes through :func:`family_lr_table` (every genotype of MP at
    once, as the blind search does).  Both are exact and agree to rounding.

    Raises :class:`CaseError` if the relatives are inconsistent with the pedigree at a marker
    (P(D) = 0 without mutation), where the LR is undefined.
    """
    if method not in ("direct", "table"):
        raise ValueError(f"unknown method {method!r}")
    structure = case_structure(case)
    mp = structure.index(case.missing)
    poi = case.poi_genotypes()
    per_marker: dict[str, float] = {}
    problems: list[tuple[str, str]] = []
    for marker in case.markers:
        if marker not in poi:
            per_marker[marker] = 1.0
            continue
        alleles, freqs, typed, arr = marker_inputs(case, marker, structure)
        m = transmission_matrix(case.mutation, tuple(alleles))
        a, b = alleles.index(poi[marker][0]), alleles.index(poi[marker][1])
        if method == "table":
            table, p_data = family_lr_table(structure, typed, arr, freqs, m, m, mp)
            p_d = float(p_data[0])
            value = float(table[0, genotype_index(a, b)]) if p_d > 0 else math.nan
        else:
            p_d = float(joint(structure, typed, arr, freqs, m, m)[0])
            with_mp = np.concatenate([arr, np.array([[[a, b]]], dtype=np.intp)], axis=1)
            h1 = float(joint(structure, [*typed, mp], with_mp, freqs, m, m)[0])
            hw = freqs[a] * freqs[b] * (1.0 if a == b else 2.0)
            value = h1 / (p_d * hw) if p_d > 0 else math.nan
        if not p_d > 0:
            problems.append(
                (
                    f"genotypes.*.{marker}",
                    "the relatives' genotypes are impossible in this pedigree "
                    f"under mutation model {case.mutation.kind!r}; the LR is undefined",
                )
            )
            continue
        per_marker[marker] = value
    if problems:
        raise CaseError(problems)
    total = math.prod(per_marker.values())
    if any(v == 0.0 for v in per_marker.values()):
        return LRResult(0.0, None, per_marker)
    log10 = sum(math.log10(v) for v in per_marker.values())
    return LRResult(total, log10, per_marker)
