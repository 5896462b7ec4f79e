"""Where linkage loses recall: never compared (blocking) or scored below the threshold.

    .venv/bin/python -m bench.link_diagnose WORLD_DIR [--spec interchange] [--out FILE.json]

Runs the real path (``prepare_features`` + unsupervised training + prediction) on a
synthetic world written by ``athar synth``, scores *every* blocked pair (no
probability cut), and sets them against the world's ``truth.csv``:

* true pairs never blocked vs blocked but scored below the threshold vs linked,
  split by named/unnamed records and by source pair;
* the match-weight distribution of true and false blocked pairs;
* the model's own expected precision and recall above a weight cut (from the
  scored probabilities alone, no truth), next to the true precision/recall.

This is a diagnostic, not the benchmark: use a world with another seed than the
benchmark's (``bench_link`` uses seed 7) when choosing settings from its output.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SOURCES = ["ngo_ar", "ngo_en", "family", "registry", "released", "morgue"]


def read_world(w: Path) -> tuple[pd.DataFrame, np.ndarray]:
    raw = pd.concat(
        [pd.read_csv(w / f"{s}.csv", dtype=str, keep_default_na=False) for s in SOURCES],
        ignore_index=True,
    )
    truth = pd.read_csv(w / "truth.csv", dtype=str)
    pid = raw[["source", "record_id"]].merge(truth, on=["source", "record_id"], how="left")
    return raw, pid["person_id"].to_numpy()


def true_pairs(pid: np.ndarray) -> set[tuple[int, int]]:
    groups = pd.Series(np.arange(len(pid))).groupby(pid).agg(list)
    out: set[tuple[int, int]] = set()
    for members in groups:
        if len(members) > 1:
            out.update((a, b) for a, b in combinations(sorted(members), 2))
    return out


def descriptor_candidates(feats: pd.DataFrame, pid: np.ndarray) -> dict[str, Any]:
    """Could unnamed released records be linked on descriptors?  Their candidates.

    For each released record with no name and no detainee number but a facility and
    an age range: the named records with the same facility, a compatible sex and a
    birth year (or age range) overlapping.  Many candidates per record, few of them
    true, means descriptor blocking would only produce false merges.
    """
    f = feats.assign(pid=pid)
    un = f[
        f["name_bag"].isna()
        & (f["source"] == "released")
        & f["detainee_no"].isna()
        & f["facility"].notna()
        & f["age_lo"].notna()
    ]
    named = f[f["name_bag"].notna() & f["facility"].notna()]
    named = named.assign(
        lo=named["birth_y"].fillna(named["age_lo"]), hi=named["birth_y"].fillna(named["age_hi"])
    ).dropna(subset=["lo"])
    j = un[["unique_id", "facility", "sex", "age_lo", "age_hi", "pid"]].merge(
        named[["facility", "sex", "lo", "hi", "pid"]], on="facility", suffixes=("", "_n")
    )
    sex_ok = (j["sex"] == j["sex_n"]) | j["sex"].isna() | j["sex_n"].isna()
    j = j[(j["lo"] <= j["age_hi"]) & (j["age_lo"] <= j["hi"]) & sex_ok.fillna(True)]
    j = j.assign(true=(j["pid"] == j["pid_n"]).astype(int))
    c = j.groupby("unique_id").agg(cands=("true", "size"), true=("true", "sum"))
    return {
        "records": len(un),
        "median_candidates": float(c["cands"].median()) if len(c) else 0.0,
        "mean_candidates": float(c["cands"].mean()) if len(c) else 0.0,
        "records_with_one_candidate": int((c["cands"] == 1).sum()),
        "of_which_true": int(((c["cands"] == 1) & (c["true"] == 1)).sum()),
        "true_share_of_candidate_pairs": float(c["true"].sum() / c["cands"].sum())
        if len(c)
        else 0.0,
    }


def diagnose(world: Path, spec_name: str) -> dict[str, Any]:
    from athar.linkage import load_spec, prepare_features, runner, spec_from_yaml

    path = Path(spec_name)
    spec = (
        spec_from_yaml(path.read_text(encoding="utf-8"), str(path))
        if path.suffix == ".yaml"
        else load_spec(spec_name)
    )
    raw, pid = read_world(world)
    t0 = time.perf_counter()
    feats = prepare_features(raw, spec)
    cfg = runner.EngineConfig(memory_limit="6GB", threads=2)
    db_api = runner.make_db_api(cfg)
    linker = runner.build_linker(db_api, feats, spec)
    runner.train(linker, spec)
    model = runner.saved_model(linker)
    linker = runner.build_linker(db_api, feats, spec, model=model)
    df = linker.inference.predict(warning_mode="never").as_pandas_dataframe()
    elapsed = time.perf_counter() - t0
    left = df["unique_id_l"].to_numpy(np.int64)
    right = df["unique_id_r"].to_numpy(np.int64)
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    weight = df["match_weight"].to_numpy(np.float64)
    prob = df["match_probability"].to_numpy(np.float64)
    is_true = pid[lo] == pid[hi]

    named = (
        (raw["full_name"] != "") | (raw["given_name"] != "") | (raw["family_name"] != "")
    ).to_numpy()
    src = raw["source"].to_numpy()
    truth = true_pairs(pid)
    scored = dict(zip(zip(lo.tolist(), hi.tolist(), strict=True), prob.tolist(), strict=True))
    thr = spec.threshold

    rows = []
    for a, b in truth:
        p = scored.get((a, b))
        kind = (
            "both named"
            if named[a] and named[b]
            else ("both unnamed" if not (named[a] or named[b]) else "one unnamed")
        )
        sp = " / ".join(sorted((src[a], src[b])))
        state = "never compared" if p is None else ("linked" if p >= thr else "below threshold")
        rows.append((kind, sp, state))
    tp = pd.DataFrame(rows, columns=["names", "sources", "state"])
    by_names = pd.crosstab(tp["names"], tp["state"], margins=True)
    by_sources = pd.crosstab(tp["sources"], tp["state"], margins=True)

    bins = [-np.inf, -10, -5, 0, 2, 4, 6, 8, 10, 12, 15, 20, np.inf]
    hist = (
        pd.DataFrame({"bin": pd.cut(weight, bins), "true": is_true})
        .groupby("bin", observed=False)["true"]
        .agg(true_pairs="sum", blocked_pairs="size")
    )
    hist["false_pairs"] = hist["blocked_pairs"] - hist["true_pairs"]

    # the model's own view: expected precision above a cut = mean probability there;
    # expected matches overall = sum of probabilities (blocked pairs only)
    order = np.argsort(-weight)
    cum_p = np.cumsum(prob[order])
    cum_true = np.cumsum(is_true[order])
    n = np.arange(1, len(order) + 1)
    cuts = []
    for w_cut in (0, 2, 4, 5, 6, 7, 8, 10, 12):
        k = int((weight >= w_cut).sum())
        if k == 0:
            continue
        cuts.append(
            {
                "weight_cut": w_cut,
                "pairs": k,
                "model_expected_precision": float(cum_p[k - 1] / n[k - 1]),
                "model_expected_recall_of_blocked": float(cum_p[k - 1] / cum_p[-1]),
                "true_precision": float(cum_true[k - 1] / n[k - 1]),
                "true_recall_of_all": float(cum_true[k - 1] / len(truth)),
            }
        )
    return {
        "world": str(world),
        "records": len(raw),
        "unnamed_records": int((~named).sum()),
        "true_pairs": len(truth),
        "blocked_pairs": len(df),
        "threshold_probability": thr,
        "seconds": elapsed,
        "by_names": by_names.to_dict(),
        "by_sources": by_sources.to_dict(),
        "weight_histogram": {str(k): v for k, v in hist.to_dict(orient="index").items()},
        "cuts": cuts,
        "unnamed_released_descriptor_candidates": descriptor_candidates(feats, pid),
        "_tables": (by_names, by_sources, hist, pd.DataFrame(cuts)),
    }


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="bench.link_diagnose")
    ap.add_argument("world", type=Path)
    ap.add_argument("--spec", default="interchange", help="a packaged name or a .yaml path")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    res = diagnose(args.world, args.spec)
    by_names, by_sources, hist, cuts = res.pop("_tables")
    pd.set_option("display.width", 200)
    print(
        f"{res['records']} records ({res['unnamed_records']} unnamed), "
        f"{res['true_pairs']} true pairs, {res['blocked_pairs']} blocked pairs, "
        f"{res['seconds']:.0f} s"
    )
    print(by_names.to_string(), "\n")
    print(by_sources.to_string(), "\n")
    print(hist.to_string(), "\n")
    print(cuts.to_string(index=False))
    print("\nunnamed released records without a detainee number, candidates on descriptors:")
    print(json.dumps(res["unnamed_released_descriptor_candidates"], indent=1))
    if args.out:
        args.out.write_text(json.dumps(res, indent=1, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
