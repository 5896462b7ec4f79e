"""Exact pedigree likelihoods at one marker by variable elimination over alleles.

Each person carries two allele variables, the one from the father and the one from the mother.
The joint probability of every allele variable is a product of factors:

- a founder's two alleles: the population frequencies (Hardy-Weinberg; founders never mutate);
- a child's allele c from a parent with alleles (x, y): ``(M[x, c] + M[y, c]) / 2`` with M
  the parent's mutation matrix (the identity without mutation), written as a sum over a
  selector (which of the two alleles is passed on) of two factors, one on (selector, x, c) and
  one on (selector, y, c);
- a typed person's genotype {a, b}: an indicator on (paternal, maternal) in {(a, b), (b, a)}.

The likelihood of the data is the sum over every variable, computed by eliminating variables
one by one in a greedy order (the cheapest of three heuristics, see :func:`_plan`): Elston-Stewart peeling is the special case of
this order for pedigrees without loops, and marriage loops need no special treatment.  A typed
person's variables range over its two alleles only, so only untyped persons cost n values each.

Everything is batched: ``alleles`` has one row per family sharing one pedigree structure and
one set of typed persons, and every factor carries a leading batch axis (of size 1 when it does
not depend on the family).  Untyped persons with no typed descendant are dropped first: the rows
of a mutation matrix sum to 1, so they contribute a factor of exactly 1.
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

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
    next_var = 2 * len(structure.ids)
    for p in persons:
        f, m = structure.father[p], structure.mother[p]
        if f < 0:
            for k in (0, 1):
                factors.append(((2 * p + k,), freqs[domain[2 * p + k]]))
        else:
            for k, parent, mat in ((0, f, m_father), (1, m, m_mother)):
                a, b, c = 2 * parent, 2 * parent + 1, 2 * p + k
                # (M[a, c] + M[b, c]) / 2 = sum over s of A(s, a, c) B(s, b, c), with the
                # selector s (which parental allele is passed on): A = (M[a, c]/2, 1/2) and
                # B = (1, M[b, c]).  Two 3-variable factors instead of one over (a, b, c), so
                # eliminating an untyped parent's allele never couples all its children's
                # alleles with its other allele.
                sel = next_var
                next_var += 1
                domain[sel] = np.arange(2, dtype=np.intp)[None, :]
                dc = domain[c][:, None, :]
                ua = mat[domain[a][:, :, None], dc]
                ub = mat[domain[b][:, :, None], dc]
                fa = np.stack([0.5 * ua, np.full_like(ua, 0.5)], axis=1)
                fb = np.stack([np.ones_like(ub), ub], axis=1)
                factors.append(((sel, a, c), fa))
                factors.append(((sel, b, c), fb))
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
    order = _best_plan(
        tuple((vs, t.shape[0] > 1) for vs, t in factors),
        tuple(sorted(size.items())),
        frozenset(todo),
        batch,
    )
    for v in order:
        touching = [fc for fc in factors if v in fc[0]]
        factors = [fc for fc in factors if v not in fc[0]]
        out_vars = tuple(sorted({u for vs, _ in touching for u in vs} - {v}))
        factors.append((out_vars, _contract(touching, out_vars)))

    if not factors:  # nobody typed and nothing asked: the empty product
        return np.ones(batch)
    result = _contract(factors, tuple(query_vars))
    return np.broadcast_to(result, (batch, *result.shape[1:])).copy()


@lru_cache(maxsize=4096)
def _best_plan(
    shapes: tuple[tuple[tuple[int, ...], bool], ...],
    sizes: tuple[tuple[int, int], ...],
    todo: frozenset[int],
    batch: int,
) -> list[int]:
    """The cheapest of the three greedy orders (cached: pedigree shapes recur)."""
    size = dict(sizes)
    plans = [_plan(list(shapes), size, set(todo), batch, h) for h in range(3)]
    return min(plans, key=lambda plan: plan[1])[0]


def _plan(
    shapes: list[tuple[tuple[int, ...], bool]],
    size: dict[int, int],
    todo: set[int],
    batch: int,
    heuristic: int,
) -> tuple[list[int], int]:
    """A greedy elimination order and its cost (multiply-adds, counting the batch axis).

    Heuristic 0: least growth of the factors' total size; 1: smallest intermediate counting
    the batch axis; 2: smallest intermediate ignoring it.  :func:`joint` runs all three
    (planning is cheap) and keeps the cheapest order.
    """
    factors = list(shapes)
    left = set(todo)
    order: list[int] = []
    total = 0
    while left:
        best: tuple[int, ...] | None = None
        best_v = -1
        for v in sorted(left):
            union: set[int] = set()
            batched = False
            removed = 0
            for vs, b in factors:
                if v in vs:
                    union.update(vs)
                    batched = batched or b
                    removed += int(math.prod([size[u] for u in vs]))
            work = int(math.prod([size[u] for u in union])) * (batch if batched else 1)
            new_size = int(math.prod([size[u] for u in union if u != v]))
            if heuristic == 0:
                key: tuple[int, ...] = (new_size - removed, work)
            elif heuristic == 1:
                key = (work,)
            else:
                key = (work // (batch if batched else 1), work)
            if best is None or key < best:
                best, best_v = key, v
        v = best_v
        left.discard(v)
        order.append(v)
        union = set()
        batched = False
        rest = []
        for vs, b in factors:
            if v in vs:
                union.update(vs)
                batched = batched or b
            else:
                rest.append((vs, b))
        total += int(math.prod([size[u] for u in union])) * (batch if batched else 1)
        union.discard(v)
        factors = [*rest, (tuple(sorted(union)), batched)]
    return order, total


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
    dims: dict[int, int] = {}
    for vs, t in factors:
        dims.update(zip(vs, t.shape[1:], strict=True))
    work = max(t.shape[0] for t in ops) * math.prod(dims.values())
    # small contractions: numpy's single C loop; large ones: pairwise BLAS products (whose
    # path search costs ~0.1 ms, more than a small contraction itself)
    return np.einsum(spec, *ops, optimize="greedy" if work > 200_000 else False)
