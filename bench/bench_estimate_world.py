"""Benchmark: estimation on a synthetic world against its known total.

A world is generated (``athar synth``), its lists are imported into a fresh SQLite store
and linked with the real linker (``athar link``'s service).  The capture-pattern counts
are then built twice from the same records, under the same rules for a person's facts:

* from the **linked** persons (``athar estimate`` on the store: the service, exactly as
  an administrator runs it, recorded as an audit event in the throw-away store);
* from the **true** persons (the generator's ``truth.csv``), so that linkage error and
  estimation error can be told apart.

Each method is run without strata and stratified by year of arrest, and compared with
the true total in ``persons.csv`` (people on no list included).

``python -m bench estimate_world [-- --persons N --seed S --quick]``.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from athar.estimate import (
    LcmcrSettings,
    Options,
    captures,
    compare_with_truth,
    estimate_strata,
    run,
)
from athar.linkage import EngineConfig
from athar.services.actor import Actor
from athar.services.figures import statistics
from athar.services.linking import runs as linking
from athar.services.registry.importer import ImportOptions, import_file
from athar.store.engine import make_engine
from athar.store.migrate import upgrade
from bench.common import peak_rss_mb, write_results

SOURCES = ["ngo_ar", "ngo_en", "family", "registry", "released", "morgue"]


def _arg(argv: list[str], name: str, default: int) -> int:
    return int(argv[argv.index(name) + 1]) if name in argv else default


def _fmt(v: float | None) -> str:
    return "?" if v is None else f"{v:,.0f}"


def _row(linkage: str, strata: str, method: str, r: dict[str, Any], truth: int) -> str:
    est, lo, up = r["estimate"], r.get("lower"), r.get("upper")
    err = 100 * (est - truth) / truth
    covers = "yes" if lo is not None and up is not None and lo <= truth <= up else "no"
    return (
        f"| {linkage} | {strata} | {method} | {_fmt(est)} | {_fmt(lo)}–{_fmt(up)} "
        f"| {err:+.1f}% | {covers} |"
    )


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    n_persons = _arg(argv, "--persons", 600 if quick else 3000)
    seed = _arg(argv, "--seed", 7)
    lc = (
        LcmcrSettings(burnin=1000, samples=1000, thinning=10, chains=2, seed=seed)
        if quick
        else LcmcrSettings(burnin=10_000, samples=4000, thinning=100, chains=4, seed=seed)
    )
    opts = Options(lcmcr=lc, loglinear_forward=True)
    load: dict[str, Any] = {"start": os.getloadavg()}
    data: dict[str, Any] = {"quick": quick, "persons": n_persons, "seed": seed}
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="athar-bench-world-") as tmp:
        world = Path(tmp) / "world"
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "athar", "synth", str(world), "--persons", str(n_persons),
             "--seed", str(seed), "--quiet"],
            check=True,
        )  # fmt: skip
        timings["synth"] = time.perf_counter() - t0
        info = json.loads((world / "world.json").read_text())
        with open(world / "persons.csv", newline="", encoding="utf-8") as f:
            true_total = sum(1 for _ in csv.DictReader(f))
        engine = make_engine(f"sqlite:///{tmp}/athar.db")
        upgrade(engine)
        t0 = time.perf_counter()
        for s in SOURCES:
            res = import_file(engine, world / f"{s}.csv", ImportOptions(actor=Actor("bench")))
            if res.exit_code not in (0, 1):
                raise SystemExit(f"import of {s} failed: {res.message}")
        timings["import"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        linked = linking.link_store(
            engine, cfg=EngineConfig(memory_limit="2GB", threads=2), actor=Actor("bench")
        )
        timings["link"] = time.perf_counter() - t0

        # linked persons: the store path, as `athar estimate --strata year --sensitivity`
        t0 = time.perf_counter()
        result, report = statistics.estimate_store(
            engine, actor=Actor("bench"), options=opts, strata="year", thresholds=[]
        )
        timings["estimate_store_with_strata_and_sensitivity"] = time.perf_counter() - t0
        lists = result["lists"]

        # true persons: the same records and rules, grouped by the generator's truth
        with open(world / "truth.csv", newline="", encoding="utf-8") as f:
            truth_of = {(r["source"], r["record_id"]): r["person_id"] for r in csv.DictReader(f)}
        with engine.connect() as conn:
            view = statistics.registry_view(conn)
        ids: dict[str, int] = {}
        labels = [ids.setdefault(truth_of[(r.source, r.record_id)], len(ids)) for r in view.records]
        true_people = statistics.with_persons(view.records, labels)
        t0 = time.perf_counter()
        true_table = captures.capture_counts(true_people, lists)
        true_report = run(true_table, options=opts)
        true_strata = estimate_strata(
            captures.stratified_counts(true_people, lists, "year"), options=opts
        )
        timings["estimate_true_linkage_with_strata"] = time.perf_counter() - t0
        linked_tables = captures.stratified_counts(view.people, lists, "year")
        excluded = {
            "linked": sum(linked_tables[k].n_observed for k in result["strata"]["too_sparse"]),
            "true": sum(
                t.n_observed
                for k, t in captures.stratified_counts(true_people, lists, "year").items()
                if k in true_strata.sparse
            ),
        }
        engine.dispose()
    load["end"] = os.getloadavg()

    linked_strata = result["strata"]
    data.update(
        {
            "true_total": true_total,
            "documented_true": info["persons_documented"],
            "records": linked["records"],
            "persons_linked": linked["persons"],
            "link_threshold": linked["threshold"],
            "lists": lists,
            "lcmcr_settings": {
                "K": lc.K,
                "burnin": lc.burnin,
                "samples": lc.samples,
                "thinning": lc.thinning,
                "chains": lc.chains,
            },
            "linked": {
                "unstratified": compare_with_truth(report, true_total),
                "by_year": linked_strata["total"],
                "strata_estimated": sorted(linked_strata["strata"]),
                "too_sparse": linked_strata["too_sparse"],
                "sensitivity": result["sensitivity"]["movement"],
                "sensitivity_persons": {
                    k: v["persons"] for k, v in result["sensitivity"]["at"].items()
                },
                "diagnostics": report.results["lcmcr"].details.get("diagnostics"),
            },
            "true_linkage": {
                "persons": len(true_people),
                "unstratified": compare_with_truth(true_report, true_total),
                "by_year": true_strata.totals,
                "too_sparse": true_strata.sparse,
                "diagnostics": true_report.results["lcmcr"].details.get("diagnostics"),
            },
            "observed_in_sparse_strata": excluded,
            "seconds": timings,
            "load_average": load,
            "peak_rss_mb": peak_rss_mb(),
        }
    )
    methods = list(report.results)
    rows = []

    def plus(t: dict[str, Any], n: int) -> dict[str, Any]:
        return {
            k: (t[k] + n if t.get(k) is not None else None) for k in ("estimate", "lower", "upper")
        }

    for link, unstrat, strat in (
        ("linked", data["linked"]["unstratified"], linked_strata["total"]),
        ("true", data["true_linkage"]["unstratified"], true_strata.totals),
    ):
        for m in methods:
            rows.append(_row(link, "none", m, unstrat[m], true_total))
            rows.append(_row(link, "year", m, strat[m], true_total))
            rows.append(
                _row(link, "year + sparse observed", m, plus(strat[m], excluded[link]), true_total)
            )
    sens_rows = [
        f"| {m} | "
        + " | ".join(_fmt(v) for v in mv["estimates"].values())
        + f" | {mv.get('range_percent_of_min') or 0:.1f}% |"
        for m, mv in result["sensitivity"]["movement"].items()
    ]
    thresholds = list(result["sensitivity"]["at"])
    md = f"""Synthetic world: {n_persons:,} persons, seed {seed}; **true total {true_total:,}**,
of whom {info["persons_documented"]:,} are on at least one list. {linked["records"]:,} records
on {len(lists)} lists ({", ".join(lists)}), linked by the real linker into
**{linked["persons"]:,} persons** (threshold {linked["threshold"]:g}).
Log-linear: forward selection of two-way terms by BIC; dga: all decomposable graphs;
LCMCR: K={lc.K}, {lc.burnin:,} burn-in, {lc.samples:,} draws at thinning {lc.thinning}, {lc.chains} chains.
Strata: year of arrest (a person's earliest claimed year; "unknown" is a stratum).

| linkage | strata | method | estimate | 95% interval | error vs truth | covers truth |
|---|---|---|---:|---|---:|---|
{chr(10).join(rows)}

True linkage: {len(true_people):,} persons. Strata too sparse to estimate (left out of the
stratified totals): linked {", ".join(sorted(linked_strata["too_sparse"])) or "none"}
({excluded["linked"]:,} persons observed in them); true
{", ".join(sorted(true_strata.sparse)) or "none"} ({excluded["true"]:,} observed).
"year + sparse observed" adds those observed persons (with no estimate of their unobserved)
to the stratified total.

Sensitivity to the linkage threshold (stored pair scores re-clustered; persons
{", ".join(f"{k}: {v:,}" for k, v in data["linked"]["sensitivity_persons"].items())}):

| method | {" | ".join(thresholds)} | range |
|---|{"---:|" * len(thresholds)}---:|
{chr(10).join(sens_rows)}

Seconds: {", ".join(f"{k} {v:.1f}" for k, v in timings.items())}.
Load average (1/5/15 min) at start {tuple(round(x, 2) for x in load["start"])}, at end
{tuple(round(x, 2) for x in load["end"])} (2 cores shared with other work).
Peak RSS {data["peak_rss_mb"]:.0f} MiB.
"""
    write_results("estimate_world", data, md)


if __name__ == "__main__":
    main(sys.argv[1:])
