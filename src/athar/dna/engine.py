"""Exact pedigree likelihoods at one marker by variable elimination over alleles.

Each person carries two allele variables, the one from the father and the one from the mother.
The joint probability of every allele variable is a product of factors:

- a founder's two alleles: the population frequencies (Hardy-Weinberg; founders never mutate);
- a child's allele from a parent with alleles (x, y): ``(M[x, c] + M[y, c]) / 2`` with M the
  parent's mutation matrix (the identity without mutation);
- a typed person's genotype {a, b}: an indicator on (paternal, maternal) in {(a, b), (b, a)}.

The likelihood of the data is the sum over every variable, computed by eliminating variables
one by one (greedy smallest intermediate first): Elston-Stewart peeling is the special case of
this order for pedigrees without loops, and marriage loops need no special treatment.  A typed
person's variables range over its two alleles only, so only untyped persons cost n values each.

Everything is batched: ``alleles`` has one row per family sharing one pedigree structure and
one set of typed persons, and every factor carries a leading batch axis (of size 1 when it does
not depend on the family).  Untyped persons with no typed descendant are dropped first: the rows
of a mutation matrix sum to 1, so they contribute a factor of exactly 1.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

_LETTERS = string.ascii_letters


@dataclass(frozen=True)
class Structure:
    """A pedigree as parent indices (-1 for a founder's parents), parents before children."""

    ids: tuple[str, ...]
    father: tuple[int, ...]
    mother: tuple[int, ...]

    @classmethod
    def from_parents(
        cls, ids: Sequence[str], parents: Sequence[tuple[str | None, str | None]]
    ) -> Structure:
        index = {pid: i for i, pid in enumerate(ids)}
        fa = tuple(-1 if f is None else index[f] for f, _ in parents)
        mo = tuple(-1 if m is None else index[m] for _, m in parents)
        for i, (f, m) in enumerate(zip(fa, mo, strict=True)):
            if (f >= i) or (m >= i):
                raise ValueError("persons must be listed with parents before children")
        return cls(tuple(ids), fa, mo)

    def index(self, pid: str) -> int:
        return self.ids.index(pid)


def _needed(structure: Structure, keep: set[int]) -> set[int]:
    """Persons that matter: ``keep`` (typed or queried) and all their ancestors."""
    need: set[int] = set()
    stack = list(keep)
    while stack:
        i = stack.pop()
        if i in need:
            continue
        need.add(i)
        for p in (structure.father[i], structure.mother[i]):
            if p >= 0:
                stack.append(p)
    return need


def joint(
    structure: Structure,
    typed: Sequence[int],
    alleles: IntArray,
    freqs: FloatArray,
    m_father: FloatArray,
    m_mother: FloatArray,
    query: Sequence[int] = (),
) -> FloatArray:
    """P(typed genotypes, query persons' ordered alleles), for a batch of families.

    ``typed``: indices of the typed persons; ``alleles``: int array (B, len(typed), 2) of allele
    indices into ``freqs``; ``query``: indices of untyped persons whose (paternal, maternal)
    alleles are kept.  Returns an array (B, n, n, ...) with two axes per query person, or (B,)
    with no query: the likelihood of the typed genotypes.
    """
    alleles = np.asarray(alleles, dtype=np.intp)
    if alleles.ndim != 3 or alleles.shape[1:] != (len(typed), 2):
        raise ValueError(f"alleles must have shape (B, {len(typed)}, 2), not {alleles.shape}")
    if set(typed) & set(query):
        raise ValueError("a query person cannot be typed")
    batch = alleles.shape[0]
    n = len(freqs)
    full: IntArray = np.arange(n, dtype=np.intp)[None, :]
    slot = {p: t for t, p in enumerate(typed)}
    persons = sorted(_needed(structure, set(typed) | set(query)))

    domain: dict[int, IntArray] = {}
    for p in persons:
        for k in (0, 1):
            domain[2 * p + k] = alleles[:, slot[p], :] if p in slot else full

    factors: list[tuple[tuple[int, ...], FloatArray]] = []
    for p in persons:
        f, m = structure.father[p], structure.mother[p]
        if f < 0:
            for k in (0, 1):
                factors.append(((2 * p + k,), freqs[domain[2 * p + k]]))
        else:
            for k, parent, mat in ((0, f, m_father), (1, m, m_mother)):
                a, b, c = 2 * parent, 2 * parent + 1, 2 * p + k
                dc = domain[c][:, None, :]
                u0 = mat[domain[a][:, :, None], dc]
                u1 = mat[domain[b][:, :, None], dc]
                factors.append(((a, b, c), 0.5 * (u0[:, :, None, :] + u1[:, None, :, :])))
        if p in slot:
            g = alleles[:, slot[p], :]
            hom = (g[:, 0] == g[:, 1])[:, None, None]
            factors.append(
                (
                    (2 * p, 2 * p + 1),
                    np.where(hom, [[1.0, 0.0], [0.0, 0.0]], [[0.0, 1.0], [1.0, 0.0]]),
                )
            )

    query_vars = [2 * q + k for q in query for k in (0, 1)]
    size = {v: domain[v].shape[1] for v in domain}
    todo = set(domain) - set(query_vars)
    while todo:
        best_v, best_cost = -1, 0
        for v in todo:
            union: set[int] = set()
            for vs, _ in factors:
                if v in vs:
                    union.update(vs)
            cost = int(np.prod([size[u] for u in union]))
            if best_v < 0 or cost < best_cost or (cost == best_cost and v < best_v):
                best_v, best_cost = v, cost
        v = best_v
        todo.discard(v)
        touching = [fc for fc in factors if v in fc[0]]
        factors = [fc for fc in factors if v not in fc[0]]
        out_vars = tuple(sorted({u for vs, _ in touching for u in vs} - {v}))
        factors.append((out_vars, _contract(touching, out_vars)))

    result = _contract(factors, tuple(query_vars))
    return np.broadcast_to(result, (batch, *result.shape[1:])).copy()


def _contract(
    factors: list[tuple[tuple[int, ...], FloatArray]], out_vars: tuple[int, ...]
) -> FloatArray:
    letters: dict[int, str] = {}
    for vs, _ in factors:
        for v in vs:
            letters.setdefault(v, _LETTERS[len(letters)])
    for v in out_vars:
        letters.setdefault(v, _LETTERS[len(letters)])
    subs = ",".join("..." + "".join(letters[v] for v in vs) for vs, _ in factors)
    spec = f"{subs}->...{''.join(letters[v] for v in out_vars)}"
    ops = [t for _, t in factors]
    if len(ops) == 1:
        return np.einsum(spec, *ops)
    return np.einsum(spec, *ops, optimize="greedy")
