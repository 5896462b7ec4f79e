"""Stratified estimation: one table per stratum (year, region, facility ...), then totals.

**Too sparse to estimate.**  Within a stratum, lists with nobody on them are dropped.
The stratum is reported as too sparse, and not estimated, when

* fewer than two lists remain, or
* fewer than ``min_observed`` people (default 20) are observed, or
* fewer than ``min_overlap`` people (default 5) are on two or more lists: without
  overlaps nothing in the data speaks to the unobserved cell;

and a stratum whose fit fails (a degenerate table) is reported with the error, likewise
left out of the totals.

**Totals.**  For the Bayesian methods the posterior of the total is the distribution
of the sum of independent per-stratum posteriors: per-stratum draws (LCMCR draws,
resampled; or draws from the dga grid posterior) are shuffled independently and
added draw by draw.  For the log-linear model the total is the sum of the per-stratum
MLEs, and its 95% interval is a *parametric bootstrap* percentile interval (replicates
whose refit does not converge are left out, and the number kept is reported): for each
stratum, counts are redrawn as independent Poisson variables with the fitted means
of its chosen model (unobserved cell included), the same model is refitted, and the
bootstrap totals n* + exp(intercept*) are added across strata.
Sparse strata are left out of every total, and the total says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from athar.estimate import loglinear
from athar.estimate.report import METHODS, Options, Report, parse_methods, run
from athar.estimate.table import CaptureTable, EstimateInputError

MIN_OBSERVED = 20
MIN_OVERLAP = 5


def sparsity(
    table: CaptureTable, min_observed: int = MIN_OBSERVED, min_overlap: int = MIN_OVERLAP
) -> str | None:
    """Why ``table`` is too sparse to estimate, or None if it is usable (after dropping empty lists)."""
    if table.n_observed < min_observed:
        return f"only {table.n_observed} people observed (< {min_observed})"
    present = [name for name, v in table.list_totals().items() if v > 0]
    if len(present) < 2:
        return f"only {len(present)} list(s) with anyone on them"
    multi = int(table.counts[table.patterns().sum(axis=1) >= 2].sum())
    if multi < min_overlap:
        return f"only {multi} people on two or more lists (< {min_overlap})"
    return None


def drop_empty_lists(table: CaptureTable) -> CaptureTable:
    """The same table without the lists nobody is on."""
    totals = table.list_totals()
    keep = [j for j, name in enumerate(table.lists) if totals[name] > 0]
    if len(keep) == table.n_lists:
        return table
    pat = table.patterns()
    rows = [
        (tuple(int(pat[k, j]) for j in keep), int(table.counts[k]))
        for k in range(1, len(pat))
        if table.counts[k] > 0
    ]
    return CaptureTable.from_rows([table.lists[j] for j in keep], rows)


@dataclass
class StratifiedReport:
    """Per-stratum reports, the strata that were too sparse, and the totals."""

    reports: dict[str, Report]
    sparse: dict[str, str]
    totals: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "strata": {k: r.to_dict() for k, r in self.reports.items()},
            "too_sparse": dict(self.sparse),
            "total": self.totals,
        }


def _summ(draws: NDArray[np.int64], how: str, strata: int) -> dict[str, Any]:
    return {
        "estimate": float(np.median(draws)),
        "lower": float(np.quantile(draws, 0.025)),
        "upper": float(np.quantile(draws, 0.975)),
        "mean": float(draws.mean()),
        "strata": strata,
        "how": how,
    }


def _loglinear_bootstrap(
    table: CaptureTable, res: loglinear.LoglinearResult, size: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    fit = res.fit
    model = fit.model
    pat = table.patterns()[1:]
    x = model.design(pat)
    mu = np.exp(x @ fit.coef)
    out = np.empty(size)
    for b in range(size):
        y = rng.poisson(mu)
        star = CaptureTable(table.lists, np.concatenate([[0], y]).astype(np.int64))
        try:
            f = loglinear.fit_model(star, model)
        except (EstimateInputError, ValueError, np.linalg.LinAlgError):
            out[b] = np.nan
            continue
        # a replicate whose fit did not converge (a zero cell the model leans on sends the
        # unobserved cell towards infinity) is left out, and the count of kept ones reported
        failed = any("converge" in w.lower() or "rank" in w for w in f.warnings)
        out[b] = np.nan if failed else f.estimate
    return out


def estimate_strata(
    strata: Mapping[str, CaptureTable],
    methods: Sequence[str] = METHODS,
    options: Options | None = None,
    min_observed: int = MIN_OBSERVED,
    min_overlap: int = MIN_OVERLAP,
    total_draws: int = 4000,
    bootstrap: int = 400,
    seed: int = 0,
) -> StratifiedReport:
    """Estimate each stratum, report sparse ones, and combine the rest into totals."""
    ms = parse_methods(list(methods))
    opt = options or Options()
    rng = np.random.default_rng(seed)
    reports: dict[str, Report] = {}
    sparse: dict[str, str] = {}
    for name, table in strata.items():
        why = sparsity(table, min_observed, min_overlap)
        if why is not None:
            sparse[name] = why
            continue
        try:
            reports[name] = run(drop_empty_lists(table), ms, opt)
        except (EstimateInputError, ValueError, np.linalg.LinAlgError) as e:
            # a degenerate table (a fit that cannot be computed) is reported, not fatal
            sparse[name] = f"could not be estimated: {e}"
    totals: dict[str, dict[str, Any]] = {}
    if reports:
        k = len(reports)
        for m in ms:
            if m == "lcmcr":
                acc = np.zeros(total_draws, dtype=np.int64)
                for r in reports.values():
                    d = r.results[m].draws
                    assert d is not None
                    acc += rng.choice(d, size=total_draws, replace=True)
                totals[m] = _summ(acc, "sum of independent per-stratum posterior draws", k)
            elif m == "dga":
                acc = np.zeros(total_draws, dtype=np.int64)
                for r in reports.values():
                    res = r.results[m].raw
                    acc += res.sample(total_draws, rng)
                totals[m] = _summ(acc, "sum of independent per-stratum posterior draws", k)
            else:
                point = sum(r.results[m].estimate for r in reports.values())
                boot = np.zeros(bootstrap)
                for r in reports.values():
                    boot += _loglinear_bootstrap(r.table, r.results[m].raw, bootstrap, rng)
                ok = boot[np.isfinite(boot)]
                totals[m] = {
                    "estimate": float(point),
                    "lower": float(np.quantile(ok, 0.025)) if len(ok) else None,
                    "upper": float(np.quantile(ok, 0.975)) if len(ok) else None,
                    "strata": k,
                    "how": "sum of per-stratum MLEs; parametric (Poisson) bootstrap "
                    f"percentile interval, {len(ok)} replicates",
                    "models": {s: r.results[m].model for s, r in reports.items()},
                }
        if sparse:
            for t in totals.values():
                t["excluded_sparse_strata"] = sorted(sparse)
    return StratifiedReport(reports, sparse, totals)
