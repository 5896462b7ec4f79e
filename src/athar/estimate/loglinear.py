"""Log-linear capture-recapture models (Fienberg 1972; as in Rcapture's ``closedp.t``).

The ``2**J - 1`` observed capture-pattern counts are fitted by a Poisson GLM whose
design has an intercept, a main effect per list and the interaction columns of a
*hierarchical* model, all coded 0/1.  The intercept is then the log of the expected
count in the unobserved all-zero cell, so ``N = n + exp(intercept)``.

Models are written as Rcapture writes them: the maximal interaction terms in square
brackets, lists numbered from 1, e.g. ``[123,14,34]``.  Main effects are always in.

The confidence interval is Rcapture's ``closedpCI.t`` profile likelihood interval:
the multinomial profile log-likelihood of N is the Poisson deviance of the model
fitted to all ``2**J`` cells with ``N - n`` put in the unobserved cell, corrected by
Cormack's (1992) term, and the 95% interval is where it lies within
``qchisq(0.95, 1) / 2`` of its maximum.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import statsmodels.api as sm
from numpy.typing import NDArray
from scipy import optimize, stats

from athar.estimate.table import CaptureTable, EstimateInputError, all_patterns

FloatArray = NDArray[np.float64]
Term = frozenset[int]


@dataclass(frozen=True)
class HierarchicalModel:
    """A hierarchical log-linear model on ``n_lists`` lists, given by its generators.

    ``generators`` are the maximal interaction terms (sets of 0-based list indices of
    size >= 2); every main effect is always included.
    """

    n_lists: int
    generators: tuple[Term, ...]

    def __post_init__(self) -> None:
        gens: list[Term] = []
        for g in self.generators:
            g = frozenset(g)
            if any(i < 0 or i >= self.n_lists for i in g):
                raise EstimateInputError(
                    f"model term {_term_name(g)} names a list outside 1..{self.n_lists}"
                )
            if len(g) >= 2:
                gens.append(g)
        maximal = {g for g in gens if not any(g < h for h in gens)}
        if any(len(g) == self.n_lists for g in maximal):
            raise EstimateInputError(
                "the J-way interaction is not identifiable (it is the unobserved cell)"
            )
        ordered = tuple(sorted(maximal, key=lambda t: (-len(t), sorted(t))))
        object.__setattr__(self, "generators", ordered)

    @property
    def terms(self) -> list[Term]:
        """Every interaction term (size >= 2) implied by the generators, in design order."""
        out: set[Term] = set()
        for g in self.generators:
            for r in range(2, len(g) + 1):
                out.update(frozenset(c) for c in itertools.combinations(sorted(g), r))
        return sorted(out, key=lambda t: (len(t), sorted(t)))

    @property
    def n_params(self) -> int:
        return 1 + self.n_lists + len(self.terms)

    def name(self) -> str:
        """Rcapture-style name, e.g. ``[123,14,34]``; lists in no interaction appear alone."""
        covered = set().union(*self.generators) if self.generators else set()
        parts = [_term_name(g) for g in self.generators]
        parts += [str(i + 1) for i in range(self.n_lists) if i not in covered]
        return "[" + ",".join(parts) + "]"

    def design(self, patterns: NDArray[np.int64]) -> FloatArray:
        """0/1 design matrix (intercept, main effects, interactions) for ``patterns``."""
        cols = [np.ones(len(patterns))]
        cols += [patterns[:, j].astype(float) for j in range(self.n_lists)]
        for t in self.terms:
            cols.append(np.prod(patterns[:, sorted(t)], axis=1).astype(float))
        return np.column_stack(cols)

    def __str__(self) -> str:
        return self.name()


def _term_name(term: Term) -> str:
    idx = sorted(i + 1 for i in term)
    sep = "" if all(i < 10 for i in idx) else "."
    return sep.join(str(i) for i in idx)


def parse_model(text: str, n_lists: int) -> HierarchicalModel:
    """Parse ``"[123,14,34]"`` (1-based list numbers) into a model on ``n_lists`` lists.

    Generators are separated by commas; within a generator each digit is a list.
    With 10 or more lists write list numbers separated by dots: ``[1.10.11,2.3]``.
    ``[]`` or ``[1,2,3]`` is the independence model.
    """
    body = text.strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1]
    elif "[" in body or "]" in body:
        raise EstimateInputError(f"cannot parse model {text!r}: unbalanced brackets")
    gens: list[Term] = []
    for raw in body.split(","):
        part = raw.strip().replace(" ", "")
        if not part:
            continue
        pieces = part.split(".") if "." in part else list(part)
        try:
            idx = [int(p) - 1 for p in pieces]
        except ValueError:
            raise EstimateInputError(
                f"cannot parse model {text!r}: term {part!r} is not list numbers"
            ) from None
        if len(set(idx)) != len(idx):
            raise EstimateInputError(f"cannot parse model {text!r}: term {part!r} repeats a list")
        if any(i < 0 or i >= n_lists for i in idx):
            raise EstimateInputError(
                f"cannot parse model {text!r}: term {part!r} names a list outside 1..{n_lists}"
            )
        gens.append(frozenset(idx))
    return HierarchicalModel(n_lists, tuple(gens))


def all_hierarchical_models(n_lists: int, max_order: int | None = None) -> list[HierarchicalModel]:
    """Every hierarchical model with all main effects and terms of order <= ``max_order``.

    ``max_order`` defaults to ``J - 1`` (Rcapture ``closedpMS.t``'s default).  This is
    the set of antichains of interaction terms; for J=5 there are a few thousand.
    """
    top = n_lists - 1 if max_order is None else max_order
    if not 1 <= top <= n_lists - 1:
        raise EstimateInputError(f"max_order must be between 1 and {n_lists - 1}")
    if (n_lists == 6 and top >= 3) or (n_lists >= 7 and top >= 2):
        # Rcapture closedpMS.t's "stopiflong" rule: millions of models
        raise EstimateInputError(
            f"searching every hierarchical model on {n_lists} lists up to order {top} "
            "would fit too many models: state a model, or a lower max_order "
            f"({'2' if n_lists == 6 else '1'} at most)"
        )
    cands: list[Term] = [
        frozenset(c) for r in range(top, 1, -1) for c in itertools.combinations(range(n_lists), r)
    ]
    out: list[HierarchicalModel] = []

    def rec(i: int, chosen: list[Term]) -> None:
        if i == len(cands):
            out.append(HierarchicalModel(n_lists, tuple(chosen)))
            return
        rec(i + 1, chosen)
        c = cands[i]
        # candidates come in non-increasing size, so c can only be inside a chosen term
        if not any(c < g for g in chosen):
            chosen.append(c)
            rec(i + 1, chosen)
            chosen.pop()

    rec(0, [])
    return out


@dataclass
class LoglinearFit:
    """A fitted log-linear model."""

    model: HierarchicalModel
    n_observed: int
    coef: FloatArray
    deviance: float
    df: int
    aic: float
    bic: float
    estimate: float  # n + exp(intercept), Rcapture's Poisson "abundance"
    stderr: float
    warnings: list[str] = field(default_factory=list)


@dataclass
class ProfileInterval:
    """Rcapture ``closedpCI.t``'s multinomial profile-likelihood interval for N."""

    n_max: float  # N maximising the multinomial profile likelihood
    lower: float
    upper: float | None  # None when beyond ``max_factor * estimate``
    level: float
    warnings: list[str] = field(default_factory=list)


def _glm(y: FloatArray, x: FloatArray, start: FloatArray | None = None) -> tuple[Any, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = sm.GLM(y, x, family=sm.families.Poisson()).fit(start_params=start, maxiter=100)
    msgs = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    return res, msgs


def fit_model(table: CaptureTable, model: HierarchicalModel | str) -> LoglinearFit:
    """Fit one hierarchical model to ``table`` (Poisson GLM on the 2**J - 1 observed cells)."""
    if isinstance(model, str):
        model = parse_model(model, table.n_lists)
    if model.n_lists != table.n_lists:
        raise EstimateInputError(
            f"model {model} is for {model.n_lists} lists, table has {table.n_lists}"
        )
    pat = table.patterns()[1:]
    y = table.counts[1:].astype(float)
    x = model.design(pat)
    n = table.n_observed
    if n == 0:
        raise EstimateInputError("the table is empty")
    res, msgs = _glm(y, x)
    coef = np.asarray(res.params, dtype=np.float64)
    rank = int(np.linalg.matrix_rank(x))
    if rank < x.shape[1]:
        msgs.append("design matrix not of full rank")
    mu = np.asarray(res.fittedvalues, dtype=np.float64)
    loglik = float(stats.poisson.logpmf(y, mu).sum())
    aic = -2.0 * loglik + 2.0 * rank
    bic = aic + (math.log(n) - 2.0) * rank  # Rcapture: log(n), n = people observed
    cov = np.asarray(res.cov_params(), dtype=np.float64)
    e0 = math.exp(coef[0])
    stderr = math.sqrt(e0 + e0 * e0 * cov[0, 0])
    return LoglinearFit(
        model=model,
        n_observed=n,
        coef=coef,
        deviance=float(res.deviance),
        df=len(y) - rank,
        aic=aic,
        bic=bic,
        estimate=n + e0,
        stderr=stderr,
        warnings=msgs,
    )


def _cormack(n0: float, total: float) -> float:
    """Cormack's (1992) correction term, as in Rcapture."""
    if total > 100:
        if n0 == 0 or n0 == 1:
            return -total + 0.5 * math.log(2 * math.pi * total)
        return n0 - total - 0.5 * math.log(n0 / total)
    # exact form for small tables: log(n0^n0 * total! / (total^total * n0!))
    return (
        (n0 * math.log(n0) if n0 > 0 else 0.0)
        + math.lgamma(total + 1)
        - total * math.log(total)
        - math.lgamma(n0 + 1)
    )


def profile_loglik_fn(
    table: CaptureTable, model: HierarchicalModel
) -> tuple[Callable[[float], float], list[str]]:
    """The multinomial profile log-likelihood of N, as a function (plus fit warnings)."""
    pat = all_patterns(table.n_lists)
    x = model.design(pat)
    x[0, :] = 0.0
    x[0, 0] = 1.0
    y_obs = table.counts.astype(float)
    n = table.n_observed
    state: dict[str, FloatArray | None] = {"start": None}
    notes: list[str] = []

    def loglik(big_n: float) -> float:
        n0 = float(big_n) - n
        y = y_obs.copy()
        y[0] = n0
        res, msgs = _glm(y, x, state["start"])
        notes.extend(m for m in msgs if m not in notes)
        state["start"] = np.asarray(res.params, dtype=np.float64)
        ct = _cormack(n0, float(y.sum()))
        return -(float(res.deviance) - 2.0 * ct) / 2.0

    return loglik, notes


def profile_interval(
    table: CaptureTable,
    fit: LoglinearFit,
    level: float = 0.95,
    max_factor: float = 3.0,
) -> ProfileInterval:
    """Profile-likelihood interval for N (Rcapture ``closedpCI.t``, ``fmaxSupCL=3``)."""
    n = table.n_observed
    loglik, notes = profile_loglik_fn(table, fit.model)
    f = loglik
    big = fit.estimate
    opt = optimize.minimize_scalar(
        lambda v: -f(v),
        bounds=(n, 1.5 * big),
        method="bounded",
        options={"xatol": 1e-4},
    )
    n_max = float(opt.x)
    lmax = -float(opt.fun)
    target = lmax - stats.chi2.ppf(level, 1) / 2.0
    warn: list[str] = []

    def g(v: float) -> float:
        return f(v) - target

    lower: float = float(n)
    if g(n) < 0:
        try:
            lower = float(optimize.brentq(g, n, n_max, xtol=1e-4))
        except ValueError:
            warn.append("the CI lower bound could not be found; set to the sample size n")
    else:
        warn.append("the CI lower bound is set to the sample size n")
    upper: float | None = None
    if g(max_factor * big) < 0:
        try:
            upper = float(optimize.brentq(g, n_max, max_factor * big, xtol=1e-4))
        except ValueError:
            warn.append("the CI upper bound could not be found")
    else:
        warn.append(f"the CI upper bound is larger than {max_factor} x the estimate")
    return ProfileInterval(n_max, lower, upper, level, warn + notes)


@dataclass
class LoglinearResult:
    """The answer for one table: the chosen model, its estimate and interval, the ranking."""

    fit: LoglinearFit
    interval: ProfileInterval
    criterion: str  # "AIC", "BIC" or "given"
    ranking: list[LoglinearFit]  # best first (empty when the model was given)

    def summary(self) -> dict[str, object]:
        return {
            "estimate": self.fit.estimate,
            "lower": self.interval.lower,
            "upper": self.interval.upper,
            "model": self.fit.model.name(),
            "selected_by": self.criterion,
            "stderr": self.fit.stderr,
            "deviance": self.fit.deviance,
            "df": self.fit.df,
            "aic": self.fit.aic,
            "bic": self.fit.bic,
            "profile_mle": self.interval.n_max,
            "interval": "profile likelihood (multinomial, Cormack-corrected), Rcapture closedpCI.t",
            "warnings": self.fit.warnings + self.interval.warnings,
            "top_models": [
                {"model": r.model.name(), "estimate": r.estimate, "aic": r.aic, "bic": r.bic}
                for r in self.ranking[:5]
            ],
        }


def search(
    table: CaptureTable,
    criterion: str = "BIC",
    max_order: int | None = None,
    models: Sequence[HierarchicalModel] | None = None,
) -> list[LoglinearFit]:
    """Fit every candidate model; return the fits sorted by ``criterion`` (best first).

    Fits whose GLM did not converge, or whose design is rank-deficient, are ranked
    after all others (Rcapture flags them the same way).
    """
    crit = criterion.upper()
    if crit not in ("AIC", "BIC"):
        raise EstimateInputError(f"criterion must be AIC or BIC, not {criterion!r}")
    cands = (
        list(models) if models is not None else all_hierarchical_models(table.n_lists, max_order)
    )
    fits = [fit_model(table, m) for m in cands]

    def key(f: LoglinearFit) -> tuple[bool, float]:
        bad = any("rank" in w or "converge" in w.lower() for w in f.warnings)
        return (bad, f.aic if crit == "AIC" else f.bic)

    return sorted(fits, key=key)


def _rank_key(crit: str) -> Callable[[LoglinearFit], tuple[bool, float]]:
    def key(f: LoglinearFit) -> tuple[bool, float]:
        bad = any("rank" in w or "converge" in w.lower() for w in f.warnings)
        return (bad, f.aic if crit == "AIC" else f.bic)

    return key


def stepwise(table: CaptureTable, criterion: str = "BIC") -> list[LoglinearFit]:
    """Forward selection over two-way interactions, for tables with too many lists for
    the full search: start from independence, add the two-way term that lowers the
    criterion most, stop when none does.  Returns every fit tried, best first."""
    crit = criterion.upper()
    if crit not in ("AIC", "BIC"):
        raise EstimateInputError(f"criterion must be AIC or BIC, not {criterion!r}")
    key = _rank_key(crit)
    j = table.n_lists
    pairs = [frozenset(c) for c in itertools.combinations(range(j), 2)]
    chosen: list[Term] = []
    current = fit_model(table, HierarchicalModel(j, ()))
    tried = [current]
    while True:
        cands = [
            fit_model(table, HierarchicalModel(j, (*chosen, p))) for p in pairs if p not in chosen
        ]
        tried += cands
        if not cands:
            break
        best = min(cands, key=key)
        if key(best) >= key(current):
            break
        current = best
        chosen = list(best.model.generators)
    return sorted(tried, key=key)


def estimate(
    table: CaptureTable,
    model: HierarchicalModel | str | None = None,
    criterion: str = "BIC",
    max_order: int | None = None,
    level: float = 0.95,
    forward: bool = False,
) -> LoglinearResult:
    """Log-linear estimate of N: the stated ``model``, or the best by ``criterion`` (over
    every hierarchical model, or by forward selection of two-way terms with ``forward``)."""
    if model is not None:
        fit = fit_model(table, model)
        return LoglinearResult(fit, profile_interval(table, fit, level), "given", [])
    ranking = stepwise(table, criterion) if forward else search(table, criterion, max_order)
    best = ranking[0]
    how = criterion.upper() + (" (forward selection of two-way terms)" if forward else "")
    return LoglinearResult(best, profile_interval(table, best, level), how, ranking)
