"""Run the three estimators on one table and compare them.

:func:`run` is the one entry point used by the CLI, the web app and benchmarks:
it returns a :class:`Report` holding one :class:`MethodEstimate` per method, each
with a point estimate, a 95% interval, the model or settings used and diagnostics,
plus the posterior (grid or draws) for plotting and for summing strata.

Two methods *disagree* (:func:`disagreements`) when their 95% intervals do not
overlap, or when their point estimates differ by more than 25% of the smaller one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from athar.estimate import dga, lcmcr, loglinear
from athar.estimate.table import CaptureTable, EstimateInputError
from athar.progress import SILENT, Progress

METHODS: tuple[str, ...] = ("loglinear", "dga", "lcmcr")
#: point estimates further apart than this fraction of the smaller one disagree
DISAGREE_RATIO = 0.25


@dataclass(frozen=True)
class Options:
    """Settings for every method (defaults: BIC search, delta = 2^-J, 1/N prior, HRDAG LCMCR)."""

    loglinear_model: str | None = None  # e.g. "[123,14,34]"; None = search
    criterion: str = "BIC"
    max_order: int | None = None
    #: forward selection of two-way terms instead of the full search (many lists)
    loglinear_forward: bool = False
    delta: float | None = None
    grid_factor: int = dga.GRID_FACTOR
    lcmcr: lcmcr.LcmcrSettings = field(default_factory=lcmcr.LcmcrSettings)
    #: who hears how far each method has got (the command line's reporter; default silent)
    progress: Progress = field(default=SILENT, compare=False, repr=False)


@dataclass
class MethodEstimate:
    """One method's answer.  ``estimate`` is the MLE (log-linear) or posterior median."""

    method: str
    estimate: float
    lower: float
    upper: float | None
    model: str
    details: dict[str, Any]
    # posterior on a grid (dga) or posterior draws (lcmcr), for plots and strata sums
    grid: NDArray[np.int64] | None = None
    density: NDArray[np.float64] | None = None
    draws: NDArray[np.int64] | None = None
    raw: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": self.estimate,
            "lower": self.lower,
            "upper": self.upper,
            "model": self.model,
            **{k: v for k, v in self.details.items() if k not in ("estimate", "lower", "upper")},
        }


def run_loglinear(table: CaptureTable, opt: Options) -> MethodEstimate:
    res = loglinear.estimate(
        table,
        opt.loglinear_model,
        opt.criterion,
        opt.max_order,
        forward=opt.loglinear_forward,
    )
    d = res.summary()
    return MethodEstimate(
        "loglinear",
        res.fit.estimate,
        res.interval.lower,
        res.interval.upper,
        res.fit.model.name(),
        d,
        raw=res,
    )


def run_dga(table: CaptureTable, opt: Options) -> MethodEstimate:
    res = dga.estimate(
        table, delta=opt.delta, grid=dga.default_grid(table.n_observed, opt.grid_factor)
    )
    d = res.summary()
    return MethodEstimate(
        "dga",
        res.quantile(0.5),
        res.quantile(0.025),
        res.quantile(0.975),
        "average over all decomposable graphs",
        d,
        grid=res.n_values,
        density=res.posterior,
        raw=res,
    )


def run_lcmcr(table: CaptureTable, opt: Options) -> MethodEstimate:
    res = lcmcr.estimate(table, opt.lcmcr, opt.progress)
    d = res.summary()
    s = opt.lcmcr
    return MethodEstimate(
        "lcmcr",
        res.quantile(0.5),
        res.quantile(0.025),
        res.quantile(0.975),
        f"LCMCR K={s.K}, a=b={s.a_alpha:g}"
        if s.a_alpha == s.b_alpha
        else f"LCMCR K={s.K}, a={s.a_alpha:g}, b={s.b_alpha:g}",
        d,
        draws=res.n_draws,
        raw=res,
    )


RUNNERS = {"loglinear": run_loglinear, "dga": run_dga, "lcmcr": run_lcmcr}


def parse_methods(text: str | Sequence[str]) -> tuple[str, ...]:
    items = [m.strip().lower() for m in (text.split(",") if isinstance(text, str) else text)]
    items = [m for m in items if m]
    bad = [m for m in items if m not in METHODS]
    if bad or not items:
        raise EstimateInputError(
            f"unknown method(s) {bad or items}; choose from {', '.join(METHODS)}"
        )
    return tuple(dict.fromkeys(items))


def disagreements(results: dict[str, MethodEstimate]) -> list[str]:
    """Pairs of methods whose answers disagree (see module docstring for the rule)."""
    out: list[str] = []
    names = list(results)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ra, rb = results[a], results[b]
            ua = ra.upper if ra.upper is not None else float("inf")
            ub = rb.upper if rb.upper is not None else float("inf")
            lo, hi = sorted((ra.estimate, rb.estimate))
            if ua < rb.lower or ub < ra.lower:
                out.append(f"{a} and {b}: 95% intervals do not overlap")
            elif hi > (1 + DISAGREE_RATIO) * lo:
                out.append(
                    f"{a} and {b}: estimates differ by {100 * (hi / lo - 1):.0f}% "
                    f"(> {100 * DISAGREE_RATIO:.0f}%)"
                )
    return out


@dataclass
class Report:
    """Every method's answer for one table."""

    table: CaptureTable
    results: dict[str, MethodEstimate]
    #: methods that could not run on this table, and why (``run(..., partial=True)``)
    not_run: dict[str, str] = field(default_factory=dict)

    @property
    def warnings(self) -> list[str]:
        return disagreements(self.results)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "lists": list(self.table.lists),
            "n_observed": self.table.n_observed,
        }
        out.update({name: r.to_dict() for name, r in self.results.items()})
        out["disagreements"] = self.warnings
        if self.not_run:
            out["not_run"] = dict(self.not_run)
        return out


def run(
    table: CaptureTable,
    methods: Sequence[str] = METHODS,
    options: Options | None = None,
    *,
    partial: bool = False,
) -> Report:
    """Run ``methods`` on ``table``.

    A method that cannot run on the table raises, unless ``partial``: then each method that
    can run reports, and one that cannot is named in :attr:`Report.not_run` with the reason
    (for example dga on more lists than it can enumerate).  If none can run, the error says
    why for each.
    """
    opt = options or Options()
    ms = parse_methods(list(methods))

    def one(m: str) -> MethodEstimate:
        if m != "lcmcr":  # LCMCR names its own step, with a count of sweeps
            opt.progress.phase(f"{m}: {table.n_observed:,} people on {len(table.lists)} lists")
        return RUNNERS[m](table, opt)

    if not partial:
        return Report(table, {m: one(m) for m in ms})
    results: dict[str, MethodEstimate] = {}
    not_run: dict[str, str] = {}
    for m in ms:
        try:
            results[m] = one(m)
        except (EstimateInputError, ValueError, np.linalg.LinAlgError) as e:
            not_run[m] = str(e) or type(e).__name__
    if not results:
        raise EstimateInputError("; ".join(f"{m}: {why}" for m, why in not_run.items()))
    return Report(table, results, not_run)


def compare_with_truth(report: Report, true_total: int) -> dict[str, dict[str, Any]]:
    """Each method's estimate against a known total (synthetic worlds): error and coverage."""
    out: dict[str, dict[str, Any]] = {}
    for name, r in report.results.items():
        upper = r.upper if r.upper is not None else float("inf")
        out[name] = {
            "estimate": r.estimate,
            "lower": r.lower,
            "upper": r.upper,
            "truth": true_total,
            "relative_error": (r.estimate - true_total) / true_total,
            "covers": bool(r.lower <= true_total <= upper),
        }
    return out


def json_safe(obj: Any) -> Any:
    """``obj`` with non-finite floats as None and numpy scalars as Python numbers."""
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj


#: points kept per posterior curve when it is stored for plotting
CURVE_POINTS = 160


def posterior_curves(report: Report) -> dict[str, Any]:
    """A compact form of every method's posterior for plotting later: the dga grid
    posterior resampled, the LCMCR draws as a histogram (density per unit of N), and for
    every method the estimate and interval.  Small enough to store with the run."""
    out: dict[str, dict[str, Any]] = {}
    for name, r in report.results.items():
        c: dict[str, Any] = {"estimate": r.estimate, "lower": r.lower, "upper": r.upper}
        if r.grid is not None and r.density is not None:
            cdf = np.cumsum(r.density)
            lo = int(np.searchsorted(cdf, 0.0005 * cdf[-1]))
            hi = int(np.searchsorted(cdf, 0.9995 * cdf[-1]))
            idx = np.unique(np.linspace(lo, max(hi, lo + 1), CURVE_POINTS).round().astype(int))
            idx = idx[idx < r.grid.size]
            c["x"] = [int(v) for v in r.grid[idx]]
            c["density"] = [float(v) for v in r.density[idx]]
            c["kind"] = "grid"
        elif r.draws is not None and r.draws.size:
            lo_q, hi_q = np.quantile(r.draws, [0.001, 0.999])
            step = max(1, int((hi_q - lo_q) / 80))
            bins = np.arange(int(lo_q), int(hi_q) + step + 1, step)
            dens, edges = np.histogram(r.draws, bins=bins, density=True)
            c["edges"] = [int(v) for v in edges]
            c["density"] = [float(v) for v in dens]
            c["kind"] = "histogram"
        out[name] = c
    return {"n_observed": report.table.n_observed, "methods": out}
