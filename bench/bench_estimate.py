"""Benchmark: multiple systems estimation speed and reference figures.

* log-linear: stated-model fit + profile interval, and the full BIC search;
* dga: model averaging over all decomposable graphs on the default grid;
* LCMCR at HRDAG's settings (K=15, 10,000 burn-in, 10,000 draws at thinning 500):
  one chain exactly as the C++ package runs it, and Athar's default (the same 10,000
  draws split over 4 chains, 2 threads); target: no slower than the C++ package's
  2-5 minutes;
* a simulated population with known N (heterogeneous capture, two strata), each
  method against the truth, with and without stratification.

``python -m bench estimate`` (or ``-- --quick`` for a short smoke run).
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from athar.estimate import (
    CaptureTable,
    LcmcrSettings,
    Options,
    capture_table,
    compare_with_truth,
    dga,
    estimate_strata,
    lcmcr,
    loglinear,
    run,
)
from bench.common import peak_rss_mb, timed, write_results

MSE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mse"

REFERENCE = {
    "kosovo": {
        "loglinear": {"model": "[123,14,34]", "estimate": 10356.5, "lower": 8994, "upper": 12110},
        "dga": {"mean": 12749, "median": 12595, "lower": 9827, "upper": 16544},
        "lcmcr": {"mean": 10670, "median": 10467, "lower": 9085, "upper": 13528},
    },
    "uk5": {
        "loglinear": {
            "model": "[12,13,24,25,35,45]",
            "estimate": 11313,
            "lower": 9889,
            "upper": 13063,
        },
        "dga": {"mean": 20228, "median": 22365, "lower": 10343, "upper": 29446},
        "lcmcr": {"mean": 21890, "median": 21244, "lower": 14056, "upper": 33752},
    },
}


def load(name: str) -> CaptureTable:
    with open(MSE / f"{name}.csv", newline="") as f:
        rows = list(csv.reader(f))
    return CaptureTable.from_rows(
        rows[0][:-1], [([int(v) for v in r[:-1]], int(r[-1])) for r in rows[1:]]
    )


def pct(value: float, ref: float) -> str:
    return f"{100 * (value - ref) / ref:+.1f}%"


def simulate(n_total: int, seed: int) -> tuple[CaptureTable, int]:
    """Four lists, two latent groups with different capture probabilities (heterogeneity)."""
    rng = np.random.default_rng(seed)
    easy = rng.random(n_total) < 0.4
    p = np.where(easy[:, None], [0.45, 0.35, 0.5, 0.3], [0.12, 0.08, 0.15, 0.1])
    caught = rng.random((n_total, 4)) < p
    members = {
        i: [n for n, c in zip("ABCD", row, strict=True) if c] for i, row in enumerate(caught)
    }
    return capture_table(members, lists=list("ABCD")), n_total


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    hrdag = LcmcrSettings()  # K=15, a=b=0.25, 10,000 burn-in, 10,000 draws, thinning 500
    if quick:
        hrdag = LcmcrSettings(burnin=1000, samples=1000, thinning=20)
    one_chain = LcmcrSettings(
        burnin=hrdag.burnin, samples=hrdag.samples, thinning=hrdag.thinning, chains=1, threads=1
    )
    # compile the sampler once, outside the timings
    lcmcr.estimate(load("kosovo"), LcmcrSettings(burnin=5, samples=2, thinning=1, chains=2))

    data: dict[str, Any] = {"quick": quick, "datasets": {}}
    md: list[str] = []
    rows: list[str] = []
    for name in ("kosovo", "uk5"):
        table = load(name)
        ref = REFERENCE[name]
        out: dict[str, Any] = {"n_observed": table.n_observed, "lists": table.n_lists}
        # log-linear: stated model + profile CI, then the BIC search
        sec, _, ll = timed(lambda t=table, m=ref["loglinear"]["model"]: loglinear.estimate(t, m), 3)
        out["loglinear_stated"] = {
            "seconds": sec,
            "estimate": ll.fit.estimate,
            "lower": ll.interval.lower,
            "upper": ll.interval.upper,
            "model": ll.fit.model.name(),
        }
        sec_s, _, best = timed(lambda t=table: loglinear.estimate(t), 1)
        out["loglinear_bic_search"] = {
            "seconds": sec_s,
            "models_fitted": len(best.ranking),
            "best": best.fit.model.name(),
            "estimate": best.fit.estimate,
            "lower": best.interval.lower,
            "upper": best.interval.upper,
        }
        sec_d, _, dg = timed(lambda t=table: dga.estimate(t), 3)
        out["dga"] = {
            "seconds": sec_d,
            "graphs": len(dg.graphs),
            "grid": len(dg.grid),
            "mean": dg.mean,
            "median": dg.quantile(0.5),
            "lower": dg.quantile(0.025),
            "upper": dg.quantile(0.975),
        }
        cpu0 = time.process_time()
        sec_l, _, lc = timed(lambda t=table: lcmcr.estimate(t, hrdag), 1)
        cpu_l = time.process_time() - cpu0
        out["lcmcr_default"] = {
            "seconds": sec_l,
            "sweeps": hrdag.sweeps,
            "cpu_seconds": cpu_l,
            "us_per_sweep_cpu": 1e6 * cpu_l / hrdag.sweeps,
            "mean": lc.mean,
            "median": lc.quantile(0.5),
            "lower": lc.quantile(0.025),
            "upper": lc.quantile(0.975),
            "rhat": lc.rhat,
            "ess": lc.ess,
        }
        if name == "uk5":
            cpu0 = time.process_time()
            sec_1, _, lc1 = timed(lambda t=table: lcmcr.estimate(t, one_chain), 1)
            cpu_1 = time.process_time() - cpu0
            out["lcmcr_one_chain"] = {
                "seconds": sec_1,
                "sweeps": one_chain.sweeps,
                "cpu_seconds": cpu_1,
                "us_per_sweep_cpu": 1e6 * cpu_1 / one_chain.sweeps,
                "mean": lc1.mean,
                "median": lc1.quantile(0.5),
                "lower": lc1.quantile(0.025),
                "upper": lc1.quantile(0.975),
                "ess": lc1.ess,
            }
        data["datasets"][name] = out

        r = ref
        s = out["loglinear_stated"]
        rows.append(
            f"| {name} | log-linear {s['model']} | {s['estimate']:,.1f} [{s['lower']:,.0f}-{s['upper']:,.0f}] "
            f"| {r['loglinear']['estimate']:,} [{r['loglinear']['lower']:,}-{r['loglinear']['upper']:,}] "
            f"| {pct(s['estimate'], r['loglinear']['estimate'])} / {pct(s['lower'], r['loglinear']['lower'])} / {pct(s['upper'], r['loglinear']['upper'])} |"
        )
        b = out["loglinear_bic_search"]
        rows.append(
            f"| {name} | log-linear BIC-best {b['best']} | {b['estimate']:,.1f} [{b['lower']:,.0f}-{b['upper']:,.0f}] | | |"
        )
        for key, label in (("dga", "dga"), ("lcmcr_default", "LCMCR (4 chains)")):
            o, rr = out[key], r["dga" if key == "dga" else "lcmcr"]
            rows.append(
                f"| {name} | {label} | mean {o['mean']:,.0f}, median {o['median']:,.0f} [{o['lower']:,.0f}-{o['upper']:,.0f}] "
                f"| mean {rr['mean']:,}, median {rr['median']:,} [{rr['lower']:,}-{rr['upper']:,}] "
                f"| {pct(o['median'], rr['median'])} / {pct(o['lower'], rr['lower'])} / {pct(o['upper'], rr['upper'])} |"
            )
        if "lcmcr_one_chain" in out:
            o, rr = out["lcmcr_one_chain"], r["lcmcr"]
            rows.append(
                f"| {name} | LCMCR (1 chain, as C++) | mean {o['mean']:,.0f}, median {o['median']:,.0f} [{o['lower']:,.0f}-{o['upper']:,.0f}] "
                f"| mean {rr['mean']:,}, median {rr['median']:,} [{rr['lower']:,}-{rr['upper']:,}] "
                f"| {pct(o['median'], rr['median'])} / {pct(o['lower'], rr['lower'])} / {pct(o['upper'], rr['upper'])} |"
            )

    # known-truth simulation, with and without strata
    (t1, n1), (t2, n2) = simulate(6000, 1), simulate(4000, 2)
    pooled = CaptureTable(t1.lists, t1.counts + t2.counts)
    sim_opts = Options(
        lcmcr=hrdag if quick else LcmcrSettings(burnin=2000, samples=4000, thinning=50)
    )
    sec_p, _, rep = timed(lambda: run(pooled, options=sim_opts), 1)
    truth = compare_with_truth(rep, n1 + n2)
    sec_st, _, st = timed(
        lambda: estimate_strata({"s1": t1, "s2": t2}, options=sim_opts, bootstrap=200), 1
    )
    data["simulation"] = {
        "truth": n1 + n2,
        "pooled": truth,
        "pooled_seconds": sec_p,
        "stratified": st.totals,
        "stratified_seconds": sec_st,
    }

    timing = ["| step | kosovo (4 lists) | uk5 (5 lists) |", "|---|---|---|"]
    k, u = data["datasets"]["kosovo"], data["datasets"]["uk5"]
    timing.append(
        f"| log-linear: stated model + profile CI (median of 3) | {k['loglinear_stated']['seconds']:.3f} s | {u['loglinear_stated']['seconds']:.3f} s |"
    )
    timing.append(
        f"| log-linear: BIC search + profile CI | {k['loglinear_bic_search']['seconds']:.1f} s ({k['loglinear_bic_search']['models_fitted']} models) "
        f"| {u['loglinear_bic_search']['seconds']:.1f} s ({u['loglinear_bic_search']['models_fitted']} models) |"
    )
    timing.append(
        f"| dga: all decomposable graphs x grid (median of 3) | {k['dga']['seconds']:.2f} s ({k['dga']['graphs']} graphs x {k['dga']['grid']:,}) "
        f"| {u['dga']['seconds']:.2f} s ({u['dga']['graphs']} graphs x {u['dga']['grid']:,}) |"
    )
    timing.append(
        f"| LCMCR default: 4 chains x (10,500 + 2,500 x 500) sweeps, 2 threads: wall (CPU) "
        f"| {k['lcmcr_default']['seconds']:.1f} s ({k['lcmcr_default']['cpu_seconds']:.1f} s CPU, {k['lcmcr_default']['us_per_sweep_cpu']:.1f} us/sweep) "
        f"| {u['lcmcr_default']['seconds']:.1f} s ({u['lcmcr_default']['cpu_seconds']:.1f} s CPU, {u['lcmcr_default']['us_per_sweep_cpu']:.1f} us/sweep) |"
    )
    if "lcmcr_one_chain" in u:
        timing.append(
            f"| LCMCR 1 chain exactly as HRDAG/C++: {u['lcmcr_one_chain']['sweeps']:,} sweeps | | "
            f"{u['lcmcr_one_chain']['seconds']:.1f} s ({u['lcmcr_one_chain']['cpu_seconds']:.1f} s CPU, {u['lcmcr_one_chain']['us_per_sweep_cpu']:.1f} us/sweep) |"
        )
    md.append(
        "## Speed\n\nTarget for LCMCR at HRDAG settings on 5 lists: <= 2-5 minutes "
        "(the C++ R package). Shared 2-core machine: timings are noisy.\n"
    )
    md.extend(timing)
    md.append("\n## Estimates vs the reference figures\n")
    md.append("| data | method | Athar | reference | diff (point / lower / upper) |")
    md.append("|---|---|---|---|---|")
    md.extend(rows)
    md.append(
        f"\nLCMCR diagnostics: kosovo R-hat {k['lcmcr_default']['rhat']:.3f}, ESS {k['lcmcr_default']['ess']:.0f}; "
        f"uk5 R-hat {u['lcmcr_default']['rhat']:.3f}, ESS {u['lcmcr_default']['ess']:.0f}."
    )
    md.append(
        f"\n## Simulated population, known N = {n1 + n2:,} (two strata, heterogeneous capture)\n"
    )
    md.append("| method | pooled estimate [95%] | stratified total [95%] |")
    md.append("|---|---|---|")
    for m, v in truth.items():
        sv = st.totals[m]
        md.append(
            f"| {m} | {v['estimate']:,.0f} [{v['lower']:,.0f}-{v['upper'] or float('inf'):,.0f}] ({100 * v['relative_error']:+.1f}%) "
            f"| {sv['estimate']:,.0f} [{sv['lower']:,.0f}-{sv['upper']:,.0f}] ({100 * (sv['estimate'] / (n1 + n2) - 1):+.1f}%) |"
        )
    md.append(f"\nPeak RSS {peak_rss_mb():.0f} MiB. Command: `.venv/bin/python -m bench estimate`.")
    data["peak_rss_mb"] = peak_rss_mb()
    write_results("estimate" if not quick else "estimate_quick", data, "\n".join(md))


if __name__ == "__main__":
    main(sys.argv[1:])
