"""Benchmark of athar.dna: LR speed per pedigree type, LR distributions of simulated true and
false pairs, and the blind search of many remains against many families.

1. One LR (``missing_person_lr``, the CLI's code path) per pedigree type at the 21 GlobalFiler
   markers with the stepwise model: median microseconds over repeats.
2. Simulation: families and missing persons simulated through each pedigree (stepwise
   mutation in the simulation and in the model) at 21 markers; true pairs (the family's own
   missing person) and false pairs (an unrelated person); quantiles of log10 LR, and the rates
   of true pairs below 10^4 and false pairs above it.
3. Blind search: F families (pedigree types with one to three typed relatives, drawn at
   random), R remains (half of them missing persons of distinct families, half unrelated), 21
   markers; compile (each family's genotype tables) + search (every pair scored, pairs above
   the floor kept, top lists, dvir conclusions), with wall time and peak memory (ru_maxrss).
   Data simulation is timed separately.

``python -m bench dna [-- --families 20000 --remains 5000 --sim 2000 --repeat 20]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import Counter
from typing import Any

import numpy as np

from athar.dna import Case, missing_person_lr
from athar.dna.frequencies import CODIS21, default_table
from athar.dna.mutation import MutationModel
from athar.dna.search import Family, compile_families, score, search
from athar.dna.simulate import (
    PEDIGREE_TYPES,
    simulate_profiles,
    simulate_unrelated_profiles,
)
from bench.common import peak_rss_mb, write_results

MUTATION = MutationModel("stepwise", 0.002, 1e-6, 0.1)
BENCH_TYPES = [
    "father",
    "mother",
    "both parents",
    "full sibling",
    "two full siblings",
    "parents and sibling",
    "half sibling",
    "grandparents",
    "uncle",
    "uncle and mother",
    "child and its mother",
    "two children and their mother",
]


def families_of(kind: str, sims: list[dict[str, Any]], prefix: str) -> tuple[list[Family], list]:
    persons, missing, typed = PEDIGREE_TYPES[kind]
    fams = [
        Family(f"{prefix}{k}", persons, missing, {pid: sim[pid] for pid in typed})
        for k, sim in enumerate(sims)
    ]
    return fams, [sim[missing] for sim in sims]


def lr_speed(table: dict, repeat: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    rows = []
    markers = {m: table[m] for m in CODIS21}
    for kind in PEDIGREE_TYPES:
        persons, missing, typed = PEDIGREE_TYPES[kind]
        sim = simulate_profiles(persons, table, CODIS21, MUTATION, 1, rng)[0]
        genos = {pid: sim[pid] for pid in typed}
        genos["POI"] = sim[missing]
        case = Case(markers, MUTATION, persons, missing, genos)
        missing_person_lr(case)
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            missing_person_lr(case)
            times.append(time.perf_counter() - t0)
        rows.append({"pedigree": kind, "typed": list(typed), "us": statistics.median(times) * 1e6})
        print(f"  LR {kind:<32} {rows[-1]['us']:10.0f} us", flush=True)
    return rows


def simulation(table: dict, n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    rows = []
    for kind in PEDIGREE_TYPES:
        persons, missing, typed = PEDIGREE_TYPES[kind]
        sims = simulate_profiles(persons, table, CODIS21, MUTATION, n, rng)
        fams, truth = families_of(kind, sims, "F")
        unrelated = simulate_unrelated_profiles(table, CODIS21, n, rng)
        c = compile_families(fams, table, MUTATION, CODIS21, truth + unrelated)
        true_rows = c.genotype_rows(truth)
        false_rows = c.genotype_rows(unrelated)
        true_lr = np.array([score(c, true_rows[k : k + 1])[0, k] for k in range(n)])
        false_lr = np.array([score(c, false_rows[k : k + 1])[0, k] for k in range(n)])
        q = [0.01, 0.05, 0.5, 0.95, 0.99]
        row = {
            "pedigree": kind,
            "typed": list(typed),
            "n": n,
            "true_quantiles": dict(zip(map(str, q), np.quantile(true_lr, q).tolist(), strict=True)),
            "false_quantiles": dict(
                zip(map(str, q), np.quantile(false_lr, q).tolist(), strict=True)
            ),
            "true_below_1e4": float(np.mean(true_lr < 4)),
            "false_above_1e4": float(np.mean(false_lr > 4)),
            "true_lr_zero": float(np.mean(np.isneginf(true_lr))),
        }
        rows.append(row)
        print(
            f"  sim {kind:<32} true median {row['true_quantiles']['0.5']:6.2f}  "
            f"true<1e4 {row['true_below_1e4']:.4f}  false>1e4 {row['false_above_1e4']:.5f}",
            flush=True,
        )
    return rows


def blind_search(table: dict, n_fam: int, n_rem: int, rng: np.random.Generator) -> dict[str, Any]:
    t0 = time.perf_counter()
    kinds = rng.choice(len(BENCH_TYPES), size=n_fam)
    families: list[Family] = []
    truth_by_family: list[dict] = []
    for ki, kind in enumerate(BENCH_TYPES):
        count = int((kinds == ki).sum())
        sims = simulate_profiles(PEDIGREE_TYPES[kind][0], table, CODIS21, MUTATION, count, rng)
        fams, truth = families_of(kind, sims, f"{ki}-")
        families += fams
        truth_by_family += truth
    n_true = n_rem // 2
    true_fams = rng.choice(n_fam, size=n_true, replace=False)
    remains = [truth_by_family[j] for j in true_fams]
    remains += simulate_unrelated_profiles(table, CODIS21, n_rem - n_true, rng)
    remains_ids = [f"R{k}" for k in range(n_rem)]
    t_sim = time.perf_counter() - t0
    print(f"  simulated {n_fam} families and {n_rem} remains in {t_sim:.1f} s", flush=True)

    t0 = time.perf_counter()
    compiled = compile_families(families, table, MUTATION, CODIS21, remains)
    t_compile = time.perf_counter() - t0
    print(f"  compiled families in {t_compile:.1f} s", flush=True)
    t0 = time.perf_counter()
    rows = compiled.genotype_rows(remains)
    result = search(compiled, remains_ids, rows)
    t_search = time.perf_counter() - t0
    print(f"  searched {n_rem * n_fam:,} pairs in {t_search:.1f} s", flush=True)

    concl = Counter(c.conclusion for c in result.remains_conclusions)
    right = wrong = 0
    for k, c in enumerate(result.remains_conclusions[:n_true]):
        if c.conclusion in ("undisputed", "probable"):
            if c.match == families[true_fams[k]].id:
                right += 1
            else:
                wrong += 1
    claims = [
        (c.conclusion, BENCH_TYPES[int((c.match or "0-").split("-")[0])])
        for c in result.remains_conclusions[n_true:]
        if c.conclusion in ("undisputed", "probable")
    ]
    false_claims = len(claims)
    wrong_kinds = Counter(
        BENCH_TYPES[int((c.match or "0-").split("-")[0])]
        for k, c in enumerate(result.remains_conclusions[:n_true])
        if c.conclusion in ("undisputed", "probable") and c.match != families[true_fams[k]].id
    )
    true_top1 = float(np.mean(result.top_families[:n_true, 0] == true_fams))
    return {
        "families": n_fam,
        "remains": n_rem,
        "true_remains": n_true,
        "pairs": n_fam * n_rem,
        "simulate_s": t_sim,
        "compile_s": t_compile,
        "search_s": t_search,
        "end_to_end_s": t_compile + t_search,
        "kept_pairs": int(len(result.pair_log10_lr)),
        "floor": result.floor,
        "table_mb": compiled.table.nbytes / 2**20,
        "added_alleles": len(compiled.added),
        "remains_conclusions": dict(concl),
        "family_conclusions": dict(Counter(c.conclusion for c in result.family_conclusions)),
        "true_remains_identified_right": right,
        "true_remains_identified_wrong": wrong,
        "unrelated_remains_claimed": false_claims,
        "unrelated_claims_by_conclusion_and_family_type": {
            f"{a} / {b}": v for (a, b), v in sorted(Counter(claims).items())
        },
        "true_remains_wrong_family_by_family_type": dict(sorted(wrong_kinds.items())),
        "true_family_ranked_first": true_top1,
    }


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="bench dna")
    ap.add_argument("--families", type=int, default=20_000)
    ap.add_argument("--remains", type=int, default=5_000)
    ap.add_argument("--sim", type=int, default=2_000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--seed", type=int, default=17)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    table = default_table()
    command = "python -m bench dna -- " + " ".join(f"--{k} {v}" for k, v in vars(args).items())
    print("one LR per pedigree type", flush=True)
    speed = lr_speed(table, args.repeat, rng)
    print("simulated true and false pairs", flush=True)
    sims = simulation(table, args.sim, rng)
    print("blind search", flush=True)
    load_before = os.getloadavg()
    blind = blind_search(table, args.families, args.remains, rng)
    load_after = os.getloadavg()
    peak = peak_rss_mb()
    blind["peak_rss_mb"] = peak
    blind["loadavg_before"] = load_before
    blind["loadavg_after"] = load_after

    md = [
        f"Command: `{command}` (`make bench BENCH=dna` runs the defaults).",
        "Model: stepwise mutation (rate 0.002, rate2 1e-6, range 0.1) in the simulation and in "
        "the LR; West Asia frequencies; 21 GlobalFiler markers.",
        "",
        "## One LR per pedigree type (missing_person_lr, 21 markers)",
        "",
        "| pedigree | typed | median µs |",
        "|---|---|---:|",
    ]
    md += [f"| {r['pedigree']} | {', '.join(r['typed'])} | {r['us']:.0f} |" for r in speed]
    md += [
        "",
        f"## Simulated pairs ({args.sim} true and {args.sim} false per pedigree type)",
        "",
        "log10 LR quantiles (1%, 5%, 50%, 95%, 99%); rates of true pairs with LR < 10^4 and "
        "false pairs with LR > 10^4.",
        "",
        "| pedigree | true pairs | false pairs | true < 10^4 | false > 10^4 |",
        "|---|---|---|---:|---:|",
    ]
    for r in sims:
        tq = " / ".join(f"{v:.1f}" for v in r["true_quantiles"].values())
        fq = " / ".join(f"{v:.1f}" for v in r["false_quantiles"].values())
        md.append(
            f"| {r['pedigree']} | {tq} | {fq} | {r['true_below_1e4']:.4f} | "
            f"{r['false_above_1e4']:.5f} |"
        )
    b = blind
    md += [
        "",
        f"## Blind search: {b['remains']:,} remains x {b['families']:,} families "
        f"({b['pairs']:,} pairs)",
        "",
        f"- end to end (compile + search): **{b['end_to_end_s']:.1f} s** "
        f"(compile {b['compile_s']:.1f} s, search {b['search_s']:.1f} s); "
        f"simulating the data took {b['simulate_s']:.1f} s more",
        f"- peak memory (ru_maxrss, whole process): **{b['peak_rss_mb']:.0f} MiB**; "
        f"genotype tables {b['table_mb']:.0f} MiB",
        f"- load average before/after: {b['loadavg_before']} / {b['loadavg_after']}",
        f"- pairs kept (LR >= {b['floor']:g}): {b['kept_pairs']:,}",
        f"- remains conclusions: {b['remains_conclusions']}",
        f"- family conclusions: {b['family_conclusions']}",
        f"- of {b['true_remains']:,} true remains: {b['true_remains_identified_right']:,} "
        f"identified (undisputed or probable) with the right family, "
        f"{b['true_remains_identified_wrong']:,} with a wrong one; true family ranked first "
        f"for {b['true_family_ranked_first']:.4f}",
        f"- unrelated remains concluded undisputed or probable: {b['unrelated_remains_claimed']}"
        f" (by conclusion / type of the family they were matched to: "
        f"{b['unrelated_claims_by_conclusion_and_family_type']}); true remains matched to a "
        f"wrong family, by that family's type: {b['true_remains_wrong_family_by_family_type']}",
        "",
        "Each remains is compared with every family, so a false-pair rate that is negligible "
        "for one comparison (the simulation table) still gives some unrelated remains a family "
        "above 10^4 among thousands; the breakdown above gives the types of those families.",
    ]
    write_results(
        "dna",
        {"command": command, "lr_speed": speed, "simulation": sims, "blind_search": blind},
        "\n".join(md),
    )
