"""Which relative to sample next: exclusion power and expected LR, now and if a relative
were typed.

Per marker, with D the relatives' genotypes and P1(g) = P(MP = g | D):

- exclusion power ``EP_m`` = the probability that an unrelated person is excluded: the sum of
  HW(g) over the genotypes g with P1(g) = 0 (forrel ``missingPersonEP``, exact method);
  ``EP = 1 - prod_m (1 - EP_m)`` and the expected number of excluding markers is ``sum_m EP_m``;
- expected LR of the true missing person, ``E[LR_m] = sum_g P1(g)^2 / HW(g)``, and
  ``E[log10 LR_m] = sum_g P1(g) log10(P1(g) / HW(g))`` (what forrel's simulation-based
  ``missingPersonIP`` estimates, computed exactly); totals are the product and the sum.

As forrel does by default (``disableMutations = NA``), the mutation model is dropped at every
marker where D is consistent without it (otherwise nothing is ever excluded); where D needs a
mutation, the model is kept.  A marker where D is impossible even with mutation has EP 1.

For an untyped relative R, "if R were typed" is an exact expectation over R's genotype r drawn
from P(R = r | D): with J(r, g) = P(D, R = r, MP = g), the LR of a POI g once R = r is known is
``J(r, g) / (P(D, R = r) HW(g))``; the expected log10 LR of the true missing person is the
average of its log10 under J / P(D), and the expected EP averages ``EP_m(D + r)`` over r.
Markers are independent, so ``1 - prod_m (1 - E[EP_m])`` is the exact expected EP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from athar.dna.case import Case
from athar.dna.engine import FloatArray, joint
from athar.dna.lr import case_structure, hw_vector, marker_inputs, transmission_matrix
from athar.dna.mutation import MutationModel


@dataclass(frozen=True)
class Power:
    ep: float
    ep_markers: dict[str, float]
    expected_mismatches: float
    expected_lr: float
    expected_lr_markers: dict[str, float]
    expected_log10_lr: float
    expected_log10_lr_markers: dict[str, float]
    #: markers where the mutation model was dropped (the data are consistent without it)
    mutation_disabled: list[str]


@dataclass(frozen=True)
class Candidate:
    """The expected figures if an untyped relative were typed."""

    person: str
    ep: float
    expected_log10_lr: float
    expected_lr: float


def _unordered_pairs(q: FloatArray, n: int) -> FloatArray:
    """Fold ordered allele pairs on the last two axes into unordered genotypes."""
    i, j = np.triu_indices(n)
    order = np.argsort(j * (j + 1) // 2 + i, kind="stable")
    i, j = i[order], j[order]
    return np.where(i == j, q[..., i, j], q[..., i, j] + q[..., j, i])


def _model_for(case: Case, marker: str) -> tuple[MutationModel, bool]:
    """The model used at a marker for EP / expected LR, and whether it was dropped."""
    if case.mutation.is_none:
        return case.mutation, False
    structure = case_structure(case)
    alleles, freqs, typed, arr = marker_inputs(case, marker, structure)
    ident = np.eye(len(alleles))
    if joint(structure, typed, arr, freqs, ident, ident)[0] > 0:
        return MutationModel(), True
    return case.mutation, False


def exclusion_and_expected_lr(case: Case) -> Power:
    """EP and the exact expected LR of the true missing person, per marker and total."""
    structure = case_structure(case)
    mp = structure.index(case.missing)
    ep: dict[str, float] = {}
    elr: dict[str, float] = {}
    elog: dict[str, float] = {}
    disabled: list[str] = []
    for marker in case.markers:
        model, dropped = _model_for(case, marker)
        if dropped:
            disabled.append(marker)
        alleles, freqs, typed, arr = marker_inputs(case, marker, structure)
        m = transmission_matrix(model, tuple(alleles))
        q = joint(structure, typed, arr, freqs, m, m, query=[mp])[0]
        p1 = _unordered_pairs(q, len(alleles))
        total = p1.sum()
        hw = hw_vector(freqs)
        if not total > 0:
            ep[marker], elr[marker], elog[marker] = 1.0, math.nan, math.nan
            continue
        p1 = p1 / total
        ep[marker] = float(hw[p1 == 0].sum())
        elr[marker] = float((p1**2 / hw).sum())
        pos = p1 > 0
        elog[marker] = float((p1[pos] * np.log10(p1[pos] / hw[pos])).sum())
    return Power(
        ep=1.0 - math.prod(1.0 - v for v in ep.values()),
        ep_markers=ep,
        expected_mismatches=sum(ep.values()),
        expected_lr=math.prod(elr.values()),
        expected_lr_markers=elr,
        expected_log10_lr=sum(elog.values()),
        expected_log10_lr_markers=elog,
        mutation_disabled=disabled,
    )


def candidates(case: Case) -> list[Candidate]:
    """For every relative with no genotype at all (other than the missing person): the exact
    expected EP and expected log10 LR of the true missing person if that relative were typed
    at every marker of the case, best first."""
    structure = case_structure(case)
    mp = structure.index(case.missing)
    typed_ids = {p for p, prof in case.relatives().items() if prof}
    out: list[Candidate] = []
    for person in case.pedigree:
        if person.id == case.missing or person.id in typed_ids:
            continue
        r = structure.index(person.id)
        one_minus_ep = 1.0
        elog = 0.0
        elr = 1.0
        for marker in case.markers:
            model, _ = _model_for(case, marker)
            alleles, freqs, typed, arr = marker_inputs(case, marker, structure)
            n = len(alleles)
            m = transmission_matrix(model, tuple(alleles))
            q = joint(structure, typed, arr, freqs, m, m, query=[r, mp])[0]
            # q axes: (R pat, R mat, MP pat, MP mat); fold MP's pair, then R's: j[r, g]
            j = _unordered_pairs(np.moveaxis(_unordered_pairs(q, n), -1, 0), n).T
            p_d = j.sum()
            hw = hw_vector(freqs)
            if not p_d > 0:
                one_minus_ep = 0.0
                elog, elr = math.nan, math.nan
                continue
            p_r = j.sum(axis=1)  # P(D, R = r)
            ep_r = np.array([hw[row == 0].sum() for row in j])
            with np.errstate(divide="ignore", invalid="ignore"):
                lr = j / (p_r[:, None] * hw[None, :])
            w = j / p_d
            pos = w > 0
            one_minus_ep *= 1.0 - float((p_r / p_d * ep_r).sum())
            elog += float((w[pos] * np.log10(lr[pos])).sum())
            elr *= float((w[pos] * lr[pos]).sum())
        out.append(Candidate(person.id, 1.0 - one_minus_ep, elog, elr))
    out.sort(
        key=lambda c: (
            -c.expected_log10_lr if math.isfinite(c.expected_log10_lr) else math.inf,
            c.person,
        )
    )
    return out
