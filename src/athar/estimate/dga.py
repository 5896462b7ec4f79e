"""Bayesian model averaging over decomposable graphical models (Madigan & York 1997).

This follows the ``dga`` R package (Johndrow, Lum & Ball).  For every decomposable
graph on the J lists and every candidate number of missing people ``m`` on a grid,
the log posterior is

    sum over cliques C of logML(C) - sum over separators S of logML(S)
    + log multinomial coefficient (N! / (m! prod y!))  + log prior(N),   N = n + m,

where logML(A) is the Dirichlet-multinomial log marginal likelihood of the marginal
table over the lists in A, with the unobserved cell set to ``m`` and a hyper-Dirichlet
prior whose cell parameter is ``delta * 2**(J - |A|)`` (so every marginal has the same
total prior weight ``delta * 2**J``).  The graphs have equal prior weight; the prior
on N is ``1/N`` by default.  Weights are normalised over graphs x grid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import gammaln

from athar.estimate.graphs import Decomposable, decomposable_graphs
from athar.estimate.table import CaptureTable, EstimateInputError, all_patterns

FloatArray = NDArray[np.float64]

#: most lists for which every decomposable graph is enumerated (18,154 graphs for 6)
MAX_LISTS = 6

#: default grid: the missing count runs over 0 .. GRID_FACTOR * n (see ``default_grid``)
GRID_FACTOR = 10


def default_grid(n_observed: int, factor: int = GRID_FACTOR) -> NDArray[np.int64]:
    """Missing counts 0, 1, ..., ``factor * n``: the support of the posterior on N - n."""
    return np.arange(0, factor * max(n_observed, 1) + 1, dtype=np.int64)


def _marginal_log_ml(
    table: CaptureTable, mask: int, missing: NDArray[np.int64], delta: float
) -> FloatArray:
    """log ML of the marginal over the lists in ``mask``, for each missing count (incl. the
    common normalising term lgamma(2^J delta) - lgamma(N + 2^J delta))."""
    j = table.n_lists
    pat = all_patterns(j)
    lists = [i for i in range(j) if mask >> i & 1]
    size = len(lists)
    d = delta * 2.0 ** (j - size)
    # marginal cell index of every full cell
    sub = np.zeros(len(pat), dtype=np.int64)
    for b, i in enumerate(lists):
        sub |= pat[:, i] << b
    marg = np.bincount(sub, weights=table.counts.astype(float), minlength=2**size)
    m = missing.astype(float)
    n = float(table.n_observed)
    total_prior = delta * 2.0**j
    out = gammaln(m + marg[0] + d) + gammaln(marg[1:] + d).sum() - (2**size) * gammaln(d)
    out += gammaln(total_prior) - gammaln(m + n + total_prior)
    return np.asarray(out, dtype=float)


@dataclass
class DgaResult:
    """Posterior over N on a grid, overall and by graph."""

    n_observed: int
    delta: float
    grid: NDArray[np.int64]  # missing counts
    graphs: tuple[Decomposable, ...]
    posterior: FloatArray  # posterior probability of each N on the grid (sums to 1)
    model_weights: FloatArray  # posterior probability of each graph (sums to 1)

    @property
    def n_values(self) -> NDArray[np.int64]:
        return self.grid + self.n_observed

    def quantile(self, q: float) -> float:
        """Smallest N on the grid whose posterior CDF reaches ``q``."""
        cdf = np.cumsum(self.posterior)
        i = int(np.searchsorted(cdf, q * cdf[-1]))
        return float(self.n_values[min(i, len(cdf) - 1)])

    @property
    def mean(self) -> float:
        return float((self.posterior * self.n_values).sum() / self.posterior.sum())

    def tail_mass(self) -> float:
        """Posterior mass in the top 1% of the grid: large means the grid cuts the posterior off."""
        k = max(1, len(self.grid) // 100)
        return float(self.posterior[-k:].sum())

    def sample(self, size: int, rng: np.random.Generator) -> NDArray[np.int64]:
        """Draws of N from the (gridded) posterior, for summing across strata."""
        p = self.posterior / self.posterior.sum()
        return np.asarray(rng.choice(self.n_values, size=size, p=p), dtype=np.int64)

    def summary(self, top: int = 5) -> dict[str, object]:
        order = np.argsort(-self.model_weights)[:top]
        warn = []
        if self.tail_mass() > 1e-3:
            warn.append(
                f"posterior mass {self.tail_mass():.3g} in the top 1% of the grid "
                f"(N <= {int(self.n_values[-1])}): the grid truncates the posterior"
            )
        return {
            "estimate": self.quantile(0.5),
            "lower": self.quantile(0.025),
            "upper": self.quantile(0.975),
            "mean": self.mean,
            "median": self.quantile(0.5),
            "delta": self.delta,
            "prior": "1/N",
            "grid": [int(self.n_values[0]), int(self.n_values[-1])],
            "n_graphs": len(self.graphs),
            "top_models": [
                {"model": self.graphs[i].name(), "weight": float(self.model_weights[i])}
                for i in order
            ],
            "warnings": warn,
        }


def estimate(
    table: CaptureTable,
    delta: float | None = None,
    grid: Sequence[int] | NDArray[np.int64] | None = None,
    log_prior: Callable[[NDArray[np.int64]], FloatArray] | None = None,
    graphs: Sequence[Decomposable] | None = None,
) -> DgaResult:
    """Model-averaged posterior of N over all decomposable graphs on the table's lists.

    ``delta`` defaults to ``2**-J``; ``grid`` (the candidate missing counts) to
    :func:`default_grid`; ``log_prior`` (a function of N) to ``-log N``.
    """
    j = table.n_lists
    if table.n_observed == 0:
        raise EstimateInputError("the table is empty")
    d = 2.0**-j if delta is None else float(delta)
    if d <= 0:
        raise EstimateInputError("delta must be positive")
    miss = default_grid(table.n_observed) if grid is None else np.asarray(grid, dtype=np.int64)
    if miss.ndim != 1 or len(miss) == 0 or (miss < 0).any():
        raise EstimateInputError("the grid of missing counts must be non-negative integers")
    if graphs is None and j > MAX_LISTS:
        raise EstimateInputError(
            f"dga averages over every decomposable graph; {j} lists is more than the "
            f"{MAX_LISTS} it can enumerate"
        )
    gs = tuple(graphs) if graphs is not None else decomposable_graphs(j)
    n = table.n_observed
    big_n = miss + n
    cache: dict[int, FloatArray] = {}

    def comp(mask: int) -> FloatArray:
        if mask not in cache:
            cache[mask] = _marginal_log_ml(table, mask, miss, d)
        return cache[mask]

    multinom = gammaln(big_n + 1.0) - gammaln(table.counts[1:] + 1.0).sum() - gammaln(miss + 1.0)
    prior = -np.log(big_n.astype(float)) if log_prior is None else np.asarray(log_prior(big_n))
    base = multinom + prior
    # graphs x grid can be large (18,154 graphs for J=6): accumulate in chunks with a
    # running maximum instead of holding the whole matrix
    post = np.zeros(len(miss))
    graph_log = np.empty(len(gs))
    top = -np.inf
    chunk = max(1, 2_000_000 // max(1, len(miss)))
    for start in range(0, len(gs), chunk):
        block = gs[start : start + chunk]
        logw = np.empty((len(block), len(miss)))
        for gi, g in enumerate(block):
            row = base.copy()
            for c in g.cliques:
                row += comp(c)
            for s in g.separators:
                if s:  # the empty separator contributes exactly 0
                    row -= comp(s)
            logw[gi] = row
        m = float(logw.max())
        if m > top:
            post *= np.exp(top - m) if np.isfinite(top) else 0.0
            top = m
        w = np.exp(logw - top)
        post += w.sum(axis=0)
        with np.errstate(divide="ignore"):
            graph_log[start : start + len(block)] = np.log(w.sum(axis=1)) + top
    total = post.sum()
    model_w = np.exp(graph_log - top)
    return DgaResult(n, d, miss, gs, post / total, model_w / model_w.sum())
