"""The Bayesian non-parametric latent-class capture-recapture model (LCMCR).

Manrique-Vallier, D. (2016) "Bayesian population size estimation using Dirichlet
process mixtures", Biometrics 72(4).  People fall in latent classes; within a class
the J lists capture independently (class k is on list j with probability
``lambda[j, k]``, prior Beta(1, 1)).  Class weights ``pi`` follow a truncated
stick-breaking prior with K classes and concentration ``alpha ~ Gamma(a, b)``
(shape a, rate b; a = b = 0.25 as in HRDAG's use).  The prior on N is ``1/N``.

The Gibbs sampler works on capture-pattern *counts*, never on individuals:

1. each observed pattern's count is split across classes with one multinomial draw;
2. ``lambda[j, k] ~ Beta(1 + on, 1 + off)`` from the class-by-list counts, where
   "off" includes the augmented unobserved people (all-zero pattern);
3. stick-breaking weights ``V_k ~ Beta(1 + n_k, alpha + sum_{l>k} n_l)``;
4. the unobserved count ``n0 ~ NegBinomial(n, 1 - p0)``, with ``p0`` the probability
   of the all-zero pattern (this is the exact conditional under the 1/N prior);
   draws above ``20 n`` are rejected, as the package has done since 0.4.11 (0.4 to
   0.4.3 drew without the bound);
5. the ``n0`` unobserved people are split across classes by a multinomial draw;
6. ``alpha ~ Gamma(a + K - 1, b - log pi_K)``.

These are the steps, priors and order of the CRAN package LCMCR 0.4.14
(``src/NPLCM_CR_Basic_Freq.cpp``): ``Update()`` lines 79-90 (the order above);
``sam_countzIK`` 131-159 (step 1); ``sam_lambda``/``tabulate_elements`` 109-128 and
264-296 (step 2: Beta(1 + on, 1 + off), the unobserved counted as "off" on every
list); ``sam_nu`` 183-202 (step 3; the last weight takes the rest, no stick of its
own); ``compute_probs_miss``/``sam_n0`` 212-238 (step 4: GSL's negative binomial,
failures before n successes of probability 1 - p0, redrawn while above 20 n);
``sam_z0x0`` 241-261 (step 5); ``sam_alpha`` 206-209 (step 6: GSL's gamma takes a
*scale*, 1 / (b - log pi_K), so b is a rate).  ``Initializes`` 300-360 holds alpha at
0.3 / K for 500 warm-up sweeps and then sorts the classes by weight, as here.  The
R defaults (``R/Lcm_CR_fn.R`` 72 and 84) are ``lcmCR(K = 5, a_alpha = 0.25,
b_alpha = 0.25, thinning = 10, seed = 'auto')`` (clock-seeded) and
``lcmCR_PostSampl(burnin = 10000, samples = 1000, thinning = 10)``; R drops observed
all-zero rows with a warning (lines 42-46), where :class:`CaptureTable` refuses them.
The only differences are the starting point (the package starts the class weights
from a Beta(1, 1) stick-breaking draw and lambda unclamped), the random numbers, and
that step 4 here gives up after 10,000 draws above 20 n (taking 20 n) where the
package loops on: none changes the posterior.

Step 1b (Athar's addition, ``collapsed_moves`` per sweep; 0 turns it off and leaves
exactly the C++ package's sampler) is a partially collapsed Metropolis move: the
number of unobserved people in one class moves by a random-walk step with lambda and
the stick-breaking weights integrated out, and steps 2-3 then redraw them from their
full conditionals, so the joint posterior is unchanged.  Without it the plain Gibbs
sampler mixes slowly in N on sparse tables: on the UK 2013 data, runs of HRDAG's
length (10,000 draws at thinning 500) gave lower 95% bounds from 12,252 to 14,388
depending on the seed and effective sample sizes of 144-664, while both a 20-million
sweep plain Gibbs run and the collapsed sampler settle at median ~22,300
[~15,700-~34,400] with R-hat 1.00.

Each iteration costs O(cells x K x J) arithmetic in a numba-compiled loop.  Several
chains run from independent seeds; the split R-hat and effective sample size of N
(Vehtari et al. 2021) are reported so that non-convergence is visible.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import numba
import numpy as np
from numpy.typing import NDArray

from athar.estimate.table import CaptureTable, EstimateInputError
from athar.progress import SILENT, Progress

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


# --------------------------------------------------------------------------- sampler


@numba.njit(cache=True, nogil=True)
def _log_gamma_draw(shape: float) -> float:
    """log of a Gamma(shape, 1) draw, accurate for tiny shapes (no underflow to -inf)."""
    if shape >= 1.0:
        return math.log(np.random.gamma(shape, 1.0))
    # G(a) = G(a + 1) * U^(1/a)
    u = np.random.random()
    while u <= 0.0:
        u = np.random.random()
    return math.log(np.random.gamma(shape + 1.0, 1.0)) + math.log(u) / shape


@numba.njit(cache=True, nogil=True)
def _log_sum_exp2(a: float, b: float) -> float:
    m = a if a > b else b
    return m + math.log(math.exp(a - m) + math.exp(b - m))


@numba.njit(cache=True, nogil=True)
def _multinomial(n: int, w: FloatArray, out: IntArray) -> None:
    """Split ``n`` across ``len(w)`` categories with (unnormalised) weights ``w``."""
    kk = w.shape[0]
    for k in range(kk):
        out[k] = 0
    if n == 0:
        return
    total = 0.0
    for k in range(kk):
        total += w[k]
    if n == 1:
        u = np.random.random() * total
        acc = 0.0
        for k in range(kk):
            acc += w[k]
            if u < acc:
                out[k] = 1
                return
        out[kk - 1] = 1
        return
    left = n
    rest = total
    for k in range(kk - 1):
        if left == 0:
            return
        if w[k] <= 0.0:
            continue
        p = w[k] / rest
        if p >= 1.0:
            out[k] = left
            return
        c = np.random.binomial(left, p)
        out[k] = c
        left -= c
        rest -= w[k]
        if rest <= 0.0:
            out[k] += left
            return
    out[kk - 1] = left


@numba.njit(cache=True, nogil=True)
def _lbeta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


@numba.njit(cache=True, nogil=True)
def _collapsed_log_ratio(
    k: int,
    d: int,
    n0: int,
    n: int,
    kk: int,
    alpha: float,
    obs_k: IntArray,
    count0_k: IntArray,
    on_jk: IntArray,
) -> float:
    """log p(count0') - log p(count0) when class k gains ``d`` unobserved people, where

        p(count0 | observed allocations, alpha) is proportional to
        (N - 1)! / prod_k count0_k!                        (multinomial x 1/N prior)
        x prod_{k<K} B(1 + n_k, alpha + sum_{l>k} n_l)     (stick-breaking weights integrated)
        x prod_{j,k} B(1 + on_jk, 1 + off_jk)              (lambda integrated, Beta(1,1) prior)

    with N = n + n0, n_k the class sizes and off_jk counting the unobserved people."""
    lg = math.lgamma
    c0 = count0_k[k]
    out = lg(n + n0 + d) - lg(n + n0) - lg(c0 + d + 1.0) + lg(c0 + 1.0)
    # stick-breaking: classes l < k see the change in their "rest" count, class k in its own
    if k < kk - 1:
        rest = 0
        for q in range(kk - 1, k, -1):
            rest += obs_k[q] + count0_k[q]
        nk = obs_k[k] + c0
        out += lg(1.0 + nk + d) - lg(1.0 + nk) - lg(1.0 + nk + d + alpha + rest)
        out += lg(1.0 + nk + alpha + rest)
        rest += nk
    else:
        rest = obs_k[k] + c0
    for q in range(min(k, kk - 1) - 1, -1, -1):
        nl = obs_k[q] + count0_k[q]
        out += lg(alpha + rest + d) - lg(alpha + rest)
        out += lg(1.0 + nl + alpha + rest) - lg(1.0 + nl + alpha + rest + d)
        rest += nl
    # lambda: every list sees class k's "off" count change
    t = obs_k[k] + c0
    jj = on_jk.shape[0]
    for j in range(jj):
        off = obs_k[k] - on_jk[j, k] + c0
        out += lg(1.0 + off + d) - lg(1.0 + off)
    out += jj * (lg(2.0 + t) - lg(2.0 + t + d))
    return out


@numba.njit(cache=True, nogil=True)
def _collapsed_moves(
    x: IntArray,
    count_mk: IntArray,
    count0_k: IntArray,
    n: int,
    n0: int,
    kk: int,
    alpha: float,
    moves: int,
    max_n0: int,
    obs_k: IntArray,
    on_jk: IntArray,
) -> int:
    """Metropolis moves on one class's unobserved count, with lambda and the weights
    integrated out (a partially collapsed step; lambda and the weights are then redrawn
    from their full conditionals).  Random-walk steps on three fixed scales (n/200,
    n/20, n/2), so the proposal is symmetric.  Returns the new total unobserved count."""
    m_cells, jj = x.shape
    for k in range(kk):
        t = 0
        for m in range(m_cells):
            t += count_mk[m, k]
        obs_k[k] = t
        for j in range(jj):
            o = 0
            for m in range(m_cells):
                if x[m, j] == 1:
                    o += count_mk[m, k]
            on_jk[j, k] = o
    for _ in range(moves):
        k = np.random.randint(0, kk)
        u = np.random.random()
        scale = n // 200 if u < 1.0 / 3.0 else (n // 20 if u < 2.0 / 3.0 else n // 2)
        if scale < 1:
            scale = 1
        d = np.random.randint(1, scale + 1)
        if np.random.random() < 0.5:
            d = -d
        new = count0_k[k] + d
        new_n0 = n0 + d
        if new < 0 or new_n0 > max_n0:
            continue
        log_r = _collapsed_log_ratio(k, d, n0, n, kk, alpha, obs_k, count0_k, on_jk)
        if log_r >= 0.0 or np.random.random() < math.exp(log_r):
            count0_k[k] = new
            n0 = new_n0
    return n0


@numba.njit(cache=True, nogil=True)
def _sweep(
    x: IntArray,
    freq: IntArray,
    n: int,
    kk: int,
    log_lam: FloatArray,
    log_nu: FloatArray,
    alpha: float,
    n0: int,
    count_mk: IntArray,
    count0_k: IntArray,
    w: FloatArray,
    a_alpha: float,
    b_alpha: float,
    update_alpha: bool,
    max_n0: int,
    moves: int,
    obs_k: IntArray,
    on_jk: IntArray,
) -> tuple[float, int]:
    """One sweep; updates arrays in place; returns (alpha, n0)."""
    m_cells, jj = x.shape
    # 1. allocate each observed pattern's count to classes
    for m in range(m_cells):
        lg = -np.inf
        for k in range(kk):
            lp = log_nu[k]
            for j in range(jj):
                lp += log_lam[j, k, x[m, j]]
            w[k] = lp
            if lp > lg:
                lg = lp
        for k in range(kk):
            w[k] = math.exp(w[k] - lg)
        _multinomial(freq[m], w, count_mk[m])
    # 1b. (optional) collapsed moves on the unobserved people's classes
    if moves > 0:
        n0 = _collapsed_moves(x, count_mk, count0_k, n, n0, kk, alpha, moves, max_n0, obs_k, on_jk)
    # 2. list-capture probabilities
    for k in range(kk):
        nk = count0_k[k]
        for m in range(m_cells):
            nk += count_mk[m, k]
        for j in range(jj):
            on = 0
            for m in range(m_cells):
                if x[m, j] == 1:
                    on += count_mk[m, k]
            ga = _log_gamma_draw(1.0 + on)
            gb = _log_gamma_draw(1.0 + (nk - on))
            s = _log_sum_exp2(ga, gb)
            log_lam[j, k, 1] = ga - s
            log_lam[j, k, 0] = gb - s
    # 3. stick-breaking weights
    total = n + n0
    acc = 0
    l_rest = 0.0
    for k in range(kk - 1):
        nk = count0_k[k]
        for m in range(m_cells):
            nk += count_mk[m, k]
        acc += nk
        g1 = _log_gamma_draw(1.0 + nk)
        g2 = _log_gamma_draw(alpha + (total - acc))
        s = _log_sum_exp2(g1, g2)
        log_nu[k] = g1 - s + l_rest
        l_rest += g2 - s
    log_nu[kk - 1] = l_rest
    # 4. the unobserved count
    p0 = 0.0
    for k in range(kk):
        lp = log_nu[k]
        for j in range(jj):
            lp += log_lam[j, k, 0]
        w[k] = math.exp(lp)
        p0 += w[k]
    if p0 > 1.0:
        p0 = 1.0
    new_n0 = max_n0 + 1
    tries = 0
    while new_n0 > max_n0 and tries < 10000:
        if p0 <= 0.0:
            new_n0 = 0
        else:
            new_n0 = np.random.negative_binomial(n, 1.0 - p0)
        tries += 1
    if new_n0 > max_n0:
        new_n0 = max_n0
    # 5. classes of the unobserved
    _multinomial(new_n0, w, count0_k)
    # 6. concentration
    if update_alpha:
        alpha = np.random.gamma(a_alpha + kk - 1.0, 1.0 / (b_alpha - log_nu[kk - 1]))
    return alpha, new_n0


@numba.njit(cache=True, nogil=True)
def _run_chain(
    x: IntArray,
    freq: IntArray,
    kk: int,
    a_alpha: float,
    b_alpha: float,
    burnin: int,
    samples: int,
    thinning: int,
    seed: int,
    moves: int,
    out_n: IntArray,
    out_alpha: FloatArray,
    out_kstar: IntArray,
    done: IntArray,
) -> None:
    np.random.seed(seed)
    m_cells, jj = x.shape
    n = 0
    for m in range(m_cells):
        n += freq[m]
    max_n0 = 20 * n
    log_lam = np.empty((jj, kk, 2))
    for j in range(jj):
        on = 0
        for m in range(m_cells):
            if x[m, j] == 1:
                on += freq[m]
        p = on / n
        p = min(max(p, 1e-3), 1.0 - 1e-3)
        for k in range(kk):
            log_lam[j, k, 1] = math.log(p)
            log_lam[j, k, 0] = math.log1p(-p)
    # start with most weight on the first few classes, a small concentration
    log_nu = np.empty(kk)
    start = min(4, kk)
    for k in range(kk):
        log_nu[k] = (
            math.log(0.9 / start) if k < start or kk == start else math.log(0.1 / (kk - start))
        )
    alpha = 0.3 / kk
    n0 = 0
    count_mk = np.zeros((m_cells, kk), dtype=np.int64)
    count0_k = np.zeros(kk, dtype=np.int64)
    w = np.empty(kk)
    obs_k = np.zeros(kk, dtype=np.int64)
    on_jk = np.zeros((jj, kk), dtype=np.int64)
    # warm-up with alpha held fixed, then relabel classes by decreasing weight
    for warm in range(500):
        done[0] = warm
        alpha, n0 = _sweep(
            x,
            freq,
            n,
            kk,
            log_lam,
            log_nu,
            alpha,
            n0,
            count_mk,
            count0_k,
            w,
            a_alpha,
            b_alpha,
            False,
            max_n0,
            moves,
            obs_k,
            on_jk,
        )
    order = np.argsort(-log_nu)
    log_nu[:] = log_nu[order]
    log_lam[:, :, :] = log_lam[:, order, :]
    count0_k[:] = count0_k[order]
    # one sweep sequence: burn-in, then a draw kept after every `thinning` sweeps
    for step in range(burnin + samples * thinning):
        # sweeps done so far, read by the caller's thread to report progress
        done[0] = 500 + step
        alpha, n0 = _sweep(
            x,
            freq,
            n,
            kk,
            log_lam,
            log_nu,
            alpha,
            n0,
            count_mk,
            count0_k,
            w,
            a_alpha,
            b_alpha,
            True,
            max_n0,
            moves,
            obs_k,
            on_jk,
        )
        if step < burnin or (step - burnin + 1) % thinning != 0:
            continue
        s = (step - burnin) // thinning
        out_n[s] = n + n0
        out_alpha[s] = alpha
        kstar = 0
        for k in range(kk):
            nk = count0_k[k]
            for m in range(m_cells):
                nk += count_mk[m, k]
            if nk > 0:
                kstar += 1
        out_kstar[s] = kstar
    done[0] = 500 + burnin + samples * thinning


# --------------------------------------------------------------------------- diagnostics


def _autocov_fft(x: FloatArray) -> FloatArray:
    n = len(x)
    xc = x - x.mean()
    f = np.fft.rfft(xc, n=2 * n)
    ac = np.fft.irfft(f * np.conj(f))[:n]
    return np.asarray(ac / n, dtype=float)


def split_rhat(chains: FloatArray) -> float:
    """Rank-normalised split R-hat (Vehtari, Gelman, Simpson, Carpenter & Burkner 2021).

    ``chains`` is (n_chains, n_draws).  The maximum of the bulk and folded (tail) R-hat.
    """
    from scipy.stats import norm, rankdata

    c = np.asarray(chains, dtype=float)
    half = c.shape[1] // 2
    if half < 2:
        return float("nan")
    split = np.concatenate([c[:, :half], c[:, -half:]], axis=0)

    def rhat(z: FloatArray) -> float:
        m, n = z.shape
        means = z.mean(axis=1)
        b = n * means.var(ddof=1)
        wv = z.var(axis=1, ddof=1).mean()
        if wv == 0:
            return float("nan") if b > 0 else 1.0
        var = (n - 1) / n * wv + b / n
        return float(np.sqrt(var / wv))

    def rank_norm(z: FloatArray) -> FloatArray:
        r = rankdata(z, method="average").reshape(z.shape)
        return np.asarray(norm.ppf((r - 0.375) / (z.size + 0.25)), dtype=float)

    bulk = rhat(rank_norm(split))
    tail = rhat(rank_norm(np.abs(split - np.median(split))))
    return float(max(bulk, tail))


def effective_sample_size(chains: FloatArray) -> float:
    """Bulk effective sample size (Geyer's initial monotone sequence, Stan's estimator)."""
    from scipy.stats import norm, rankdata

    c = np.asarray(chains, dtype=float)
    m, n = c.shape
    if n < 4:
        return float("nan")
    r = rankdata(c, method="average").reshape(c.shape)
    z = norm.ppf((r - 0.375) / (c.size + 0.25))
    acov = np.array([_autocov_fft(z[i]) for i in range(m)])
    chain_var = acov[:, 0] * n / (n - 1)
    mean_var = chain_var.mean()
    var_plus = mean_var * (n - 1) / n
    if m > 1:
        var_plus += z.mean(axis=1).var(ddof=1)
    if var_plus <= 0:
        return float(m * n)
    rho = 1.0 - (mean_var - acov.mean(axis=0)) / var_plus
    rho[0] = 1.0
    # Geyer: sum pairs while positive, enforce monotone decrease
    t = 0
    pair_sums: list[float] = []
    while t + 1 < n:
        p = rho[t] + rho[t + 1]
        if p < 0:
            break
        if pair_sums and p > pair_sums[-1]:
            p = pair_sums[-1]
        pair_sums.append(p)
        t += 2
    tau = -1.0 + 2.0 * sum(pair_sums)
    tau = max(tau, 1.0 / math.log10(m * n)) if m * n > 1 else tau
    return float(m * n / tau)


# --------------------------------------------------------------------------- API


@dataclass(frozen=True)
class LcmcrSettings:
    """Sampler settings.  The defaults are HRDAG's: K=15, a=b=0.25, 10,000 burn-in,
    10,000 kept draws at thinning 500 (about 5 million sweeps), split over ``chains``."""

    K: int = 15
    a_alpha: float = 0.25
    b_alpha: float = 0.25
    burnin: int = 10_000
    samples: int = 10_000  # kept draws in total, over all chains
    thinning: int = 500
    chains: int = 4
    seed: int = 20160101
    threads: int = 2  # chains run in parallel threads (numba releases the GIL)
    #: Metropolis moves per sweep on the unobserved people's classes with lambda and the
    #: weights integrated out; 0 = exactly the plain Gibbs sampler of the C++ package,
    #: which can stay for a long time in a low-N region (see the module docstring)
    collapsed_moves: int = 16

    def __post_init__(self) -> None:
        for name in ("K", "burnin", "samples", "thinning", "chains", "threads", "collapsed_moves"):
            v = getattr(self, name)
            low = 0 if name in ("burnin", "collapsed_moves") else 1
            if not isinstance(v, int) or v < low:
                raise EstimateInputError(f"LCMCR setting {name} must be an integer >= {low}")
        if self.K < 2:
            raise EstimateInputError("LCMCR setting K must be at least 2")
        if self.a_alpha <= 0 or self.b_alpha <= 0:
            raise EstimateInputError("LCMCR settings a_alpha and b_alpha must be positive")
        if self.samples < self.chains:
            raise EstimateInputError("LCMCR needs at least one kept draw per chain")

    @property
    def draws_per_chain(self) -> int:
        return math.ceil(self.samples / self.chains)

    @property
    def sweeps(self) -> int:
        """Gibbs sweeps over all chains (including the 500-sweep warm-up of each chain)."""
        return self.chains * (500 + self.burnin + self.draws_per_chain * self.thinning)


@dataclass
class LcmcrResult:
    """Posterior draws of N from every chain, with diagnostics."""

    n_observed: int
    settings: LcmcrSettings
    draws: IntArray  # chains x draws
    alpha: FloatArray
    kstar: IntArray
    rhat: float
    ess: float
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def n_draws(self) -> IntArray:
        return np.asarray(self.draws.reshape(-1), dtype=np.int64)

    def quantile(self, q: float) -> float:
        return float(np.quantile(self.n_draws, q))

    @property
    def mean(self) -> float:
        return float(self.n_draws.mean())

    def sample(self, size: int, rng: np.random.Generator) -> IntArray:
        return np.asarray(rng.choice(self.n_draws, size=size, replace=True), dtype=np.int64)

    def summary(self) -> dict[str, object]:
        s = self.settings
        return {
            "estimate": self.quantile(0.5),
            "lower": self.quantile(0.025),
            "upper": self.quantile(0.975),
            "mean": self.mean,
            "median": self.quantile(0.5),
            "settings": {
                "K": s.K,
                "a_alpha": s.a_alpha,
                "b_alpha": s.b_alpha,
                "burnin": s.burnin,
                "samples": s.samples,
                "thinning": s.thinning,
                "chains": s.chains,
                "seed": s.seed,
                "collapsed_moves": s.collapsed_moves,
            },
            "diagnostics": {
                "rhat": self.rhat,
                "ess": self.ess,
                "mean_occupied_classes": float(self.kstar.mean()),
                "max_occupied_classes": int(self.kstar.max()),
                "seconds": self.seconds,
            },
            "warnings": self.warnings,
        }


def _cells(table: CaptureTable) -> tuple[IntArray, IntArray]:
    pat, cnt = table.observed_cells()
    return np.ascontiguousarray(pat, dtype=np.int64), np.ascontiguousarray(cnt, dtype=np.int64)


def estimate(
    table: CaptureTable,
    settings: LcmcrSettings | None = None,
    progress: Progress = SILENT,
) -> LcmcrResult:
    """Run the LCMCR Gibbs sampler (several chains) on ``table``.

    ``progress`` hears the sweeps done over all chains (the total is ``settings.sweeps``),
    read every half second from the chains' own counters."""
    import time

    s = settings or LcmcrSettings()
    if table.n_observed == 0:
        raise EstimateInputError("the table is empty")
    x, freq = _cells(table)
    per = s.draws_per_chain
    out_n = np.zeros((s.chains, per), dtype=np.int64)
    out_a = np.zeros((s.chains, per))
    out_k = np.zeros((s.chains, per), dtype=np.int64)
    seeds = np.random.SeedSequence(s.seed).generate_state(s.chains, dtype=np.uint32)
    done = np.zeros(s.chains, dtype=np.int64)

    def one(c: int) -> None:
        _run_chain(
            x,
            freq,
            s.K,
            s.a_alpha,
            s.b_alpha,
            s.burnin,
            per,
            s.thinning,
            int(seeds[c]),
            s.collapsed_moves,
            out_n[c],
            out_a[c],
            out_k[c],
            done[c : c + 1],
        )

    t0 = time.perf_counter()
    progress.phase(f"LCMCR: {s.chains} chains of Gibbs sweeps", s.sweeps, "sweeps")
    # the chains run in worker threads (numba releases the GIL); this thread reports
    workers = min(s.threads, s.chains) if s.threads > 1 else 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(one, c) for c in range(s.chains)]
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=0.5)
            progress.update(int(done.sum()))
        for f in futures:
            f.result()
    seconds = time.perf_counter() - t0
    rhat = split_rhat(out_n.astype(float)) if s.chains > 1 or per >= 4 else float("nan")
    ess = effective_sample_size(out_n.astype(float))
    warn: list[str] = []
    if not rhat < 1.05:
        warn.append(f"split R-hat of N is {rhat:.3f} (>= 1.05): chains have not converged")
    if not ess >= 100 * min(s.chains, 4) / 4:
        warn.append(f"effective sample size of N is only {ess:.0f}")
    if (out_n >= 21 * table.n_observed).any():
        warn.append("some draws hit the 20 x n cap on the unobserved count")
    return LcmcrResult(table.n_observed, s, out_n, out_a, out_k, rhat, ess, seconds, warn)
