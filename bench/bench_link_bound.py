"""How far can linkage go on the synthetic world?  The same model, told the truth.

    .venv/bin/python -m bench link_bound                          # 10k, 100k, 1M
    .venv/bin/python -m bench link_bound -- --sizes 10000          # one size

``bench link`` scores Athar's unsupervised linkage.  This benchmark asks what the same
features, comparisons, blocking, split check and clustering could reach if training were
perfect, by giving the model what no real run has: the true identities of the
benchmark world (``athar synth --records N --seed 7``, the world ``bench link`` scores).

Three variants, each in its own process, each swept over clustering thresholds:

* ``unsupervised``: Athar as it runs (prior from a near-certain rule, u by random
  sampling, m by EM); the row marked "run's cut" is the threshold the run picks itself;
* ``truth_m``: the same, but m estimated from the true identities (Splink's
  ``estimate_m_from_label_column``) and the prior set to the true share of matching
  pairs: the best parameters these comparisons can have;
* ``truth_m_all_pairs``: ``truth_m``, and every true pair is also compared (an extra
  blocking rule on the true identity): no pair is lost to blocking;
* ``supervised``: no Fellegi-Sunter model at all.  Gradient-boosted trees (scikit-learn)
  learn the match from the truth, on every comparison level and Bayes factor of the
  ``truth_m`` pairs (term-frequency adjustments included), so they can use interactions
  between fields that Fellegi-Sunter's independence assumption cannot.  The pairs are
  cross-fitted in two folds by person: a pair is scored by the trees that did not see it.
  The split check scores pairs inside a would-be person with the same trees.  Athar's
  blocking only (see ``_supervised_edges`` for why not the extra rule).

``truth_m_all_pairs`` is optimistic: the extra rule adds the true pairs the blocking
missed but not the false pairs that look like them, so its precision is too high.  Each
variant is still an upper bound for its setting only in the sense that its parameters come
from the answer; the thresholds, too, are swept against the truth.

With the information ceiling (the share of true pairs whose two records both carry a
name or a detainee number) this separates what training, blocking and the records
themselves cost.  It is a diagnostic of the world and the model, not a method: the
thresholds are swept against the truth.
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

import numpy as np
import pandas as pd

from bench.bench_link import MEMORY_LIMIT, read_world, recall_ceiling, world
from bench.common import WORK, peak_rss_mb, write_results

VARIANTS = ("unsupervised", "truth_m", "truth_m_all_pairs", "supervised")
THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
LOW = 0.05  # pairs below this are not kept for the sweep
#: at 1M the supervised variant keeps the pairs the truth-trained model scores >= this
#: (all blocked pairs with their Bayes factors do not fit in memory); at 100k and below
#: it keeps every blocked pair
SUPERVISED_LOW_1M = 1e-3
FOLDS = 2


def _fold(truth_l: np.ndarray, truth_r: np.ndarray) -> np.ndarray:
    """Cross-fitting fold of a pair: by its lower true identity, hashed."""
    lo = np.minimum(truth_l, truth_r).astype(np.uint64)
    return ((lo * np.uint64(2654435761)) >> np.uint64(7)) % np.uint64(FOLDS)


def _design(df: pd.DataFrame) -> np.ndarray:
    """The classifier's inputs: every comparison level and every Bayes factor (term-frequency
    adjustments included), as Splink computes them for the pair."""
    cols = sorted(c for c in df.columns if c.startswith(("gamma_", "bf_")))
    return df[cols].astype(np.float64).to_numpy()


def _scored_frame(linker: Any, low: float) -> pd.DataFrame:
    res = linker.inference.predict(threshold_match_probability=low or None, warning_mode="never")
    df: pd.DataFrame = res.as_pandas_dataframe()
    res.drop_table_from_database_and_remove_from_cache()
    keep = [c for c in df.columns if c.startswith(("gamma_", "bf_"))]
    out = df[["unique_id_l", "unique_id_r", *keep]].copy()
    out["unique_id_l"] = out["unique_id_l"].astype(np.int64)
    out["unique_id_r"] = out["unique_id_r"].astype(np.int64)
    return out


def _supervised_edges(
    db: Any,
    features: pd.DataFrame,
    spec: Any,
    model: dict[str, Any],
    low: float,
) -> tuple[pd.DataFrame, list[Any]]:
    """Every blocked pair scored by gradient-boosted trees trained on the truth,
    cross-fitted: a pair is scored by the trees that did not see its fold.

    Athar's own blocking rules only: with the extra rule on the true identity, a pair of
    two unnamed records would be in the candidate set only because it is true, and the
    trees learn that (recall 0.99 against a ceiling of 0.86 at 10k)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from athar.linkage import runner

    linker = runner.build_linker(db, features, spec, model=model, keep_intermediate=True)
    df = _scored_frame(linker, low)
    x = _design(df)
    truth = features["truth_id"].to_numpy()
    tl, tr = truth[df["unique_id_l"].to_numpy()], truth[df["unique_id_r"].to_numpy()]
    y = (tl == tr).astype(np.int64)
    fold = _fold(tl, tr)
    prob = np.zeros(len(df))
    models = []
    for k in range(FOLDS):
        clf = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.1, random_state=k)
        clf.fit(x[fold != k], y[fold != k])
        prob[fold == k] = clf.predict_proba(x[fold == k])[:, 1]
        models.append(clf)
    edges = pd.DataFrame(
        {
            "unique_id_l": df["unique_id_l"].to_numpy(),
            "unique_id_r": df["unique_id_r"].to_numpy(),
            "match_probability": prob,
        }
    )
    return edges[edges["match_probability"] >= LOW].reset_index(drop=True), models


def _supervised_negatives(
    db: Any,
    features: pd.DataFrame,
    spec: Any,
    model: dict[str, Any],
    edges: pd.DataFrame,
    thr: float,
    models: list[Any],
) -> list[tuple[int, int]]:
    """The split check of ``athar.linkage.within_group_negatives``, scored by the trees."""
    from athar.linkage import checked_groups, runner

    group = checked_groups(len(features), edges, thr)
    if group is None:
        return []
    linker = runner.build_linker(
        db,
        features.assign(athar_group=group),
        spec,
        model=model,
        keep_intermediate=True,
        blocking_sql=["l.athar_group = r.athar_group"],
    )
    df = _scored_frame(linker, 0.0)
    x = _design(df)
    truth = features["truth_id"].to_numpy()
    fold = _fold(truth[df["unique_id_l"].to_numpy()], truth[df["unique_id_r"].to_numpy()])
    prob = np.zeros(len(df))
    for k, clf in enumerate(models):
        if (fold == k).any():
            prob[fold == k] = clf.predict_proba(x[fold == k])[:, 1]
    low = prob < float(spec.split_below or 0.0)
    return list(
        zip(
            df["unique_id_l"].to_numpy()[low].tolist(),
            df["unique_id_r"].to_numpy()[low].tolist(),
            strict=True,
        )
    )


def worker(variant: str, n: int) -> dict[str, Any]:
    from athar.linkage import (
        SplinkScorer,
        cluster,
        expected_precision_cut,
        hold_oversized,
        load_spec,
        prepare_features,
        runner,
        scores,
        within_group_negatives,
    )

    raw, pid = read_world(world(n))
    spec = load_spec("interchange")
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    features = prepare_features(raw, spec)
    truth = pd.factorize(pid.to_numpy())[0].astype(np.int64)
    features["truth_id"] = truth
    named = (raw["full_name"] != "") | (raw["given_name"] != "") | (raw["family_name"] != "")
    named_idx = named.to_numpy()
    cfg = runner.EngineConfig(memory_limit=MEMORY_LIMIT, threads=2, temp_directory=str(WORK))
    rows: list[dict[str, Any]] = []
    with runner.open_engine(cfg) as db:
        linker = runner.build_linker(db, features, spec)
        if variant == "unsupervised":
            runner.train(linker, spec)
            model = runner.saved_model(linker)
        else:
            linker.training.estimate_u_using_random_sampling(
                max_pairs=spec.u_max_pairs, seed=spec.seed
            )
            linker.training.estimate_m_from_label_column("truth_id")
            model = runner.saved_model(linker)
            sizes = np.bincount(truth).astype(np.float64)
            m = len(features)
            model["probability_two_random_records_match"] = float(
                (sizes * (sizes - 1) / 2).sum() / (m * (m - 1) / 2)
            )
        blocking = None
        if variant == "truth_m_all_pairs":
            blocking = [" AND ".join(f"l.{c} = r.{c}" for c in rule) for rule in spec.blocking] + [
                "l.truth_id = r.truth_id"
            ]
        own_cut = None
        if variant == "supervised":
            low = 0.0 if n <= 100_000 else SUPERVISED_LOW_1M
            edges, fold_models = _supervised_edges(db, features, spec, model, low)

            def negatives(thr: float, kept: pd.DataFrame) -> list[tuple[int, int]]:
                return _supervised_negatives(db, features, spec, model, kept, thr, fold_models)
        else:
            scorer = runner.build_linker(db, features, spec, model=model, blocking_sql=blocking)
            edges = runner.predict_edges(scorer, LOW)
            if variant == "unsupervised" and spec.expected_precision is not None:
                own_cut = expected_precision_cut(
                    edges["match_probability"].to_numpy(), spec.expected_precision, spec.threshold
                )

            def negatives(thr: float, kept: pd.DataFrame) -> list[tuple[int, int]]:
                return within_group_negatives(
                    SplinkScorer(db), features, spec, model, kept, thr, [], set()
                )

        cuts = sorted({*THRESHOLDS, *([own_cut] if own_cut is not None else [])})
        for thr in cuts:
            # as athar.linkage.link does: groups too large to be one person are cut back first
            kept, held = hold_oversized(len(features), edges, thr)
            labels = cluster(
                len(features),
                kept["unique_id_l"].to_numpy(),
                kept["unique_id_r"].to_numpy(),
                kept["match_probability"].to_numpy(),
                thr,
                cannot_link=negatives(thr, kept),
            ).labels
            s = scores(labels, truth)
            s_named = scores(labels[named_idx], truth[named_idx])
            rows.append(
                {
                    "threshold": float(thr),
                    "runs_own_cut": own_cut is not None and thr == own_cut,
                    "precision": s["pairwise_precision"],
                    "recall": s["pairwise_recall"],
                    "f1": s["pairwise_f1"],
                    "bcubed_f1": s["bcubed_f1"],
                    "named_only_f1": s_named["pairwise_f1"],
                    "held_for_review": len(held),
                }
            )
    return {
        "variant": variant,
        "size": n,
        "records": len(raw),
        "wall_s": time.perf_counter() - t0,
        "load_1min_before": load_before,
        "load_1min_after": os.getloadavg()[0],
        "peak_rss_mb": peak_rss_mb(),
        "recall_ceiling": recall_ceiling(raw, pid),
        "rows": rows,
    }


def _spawn(variant: str, n: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json,sys; from bench.bench_link_bound import worker; "
            "print(json.dumps(worker(sys.argv[1], int(sys.argv[2]))))",
            variant,
            str(n),
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if out.returncode != 0:
        return {"variant": variant, "size": n, "error": out.stderr[-2000:]}
    res: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return res


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="bench link_bound")
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument(
        "--supervised-max",
        type=int,
        default=100_000,
        help="largest world the supervised variant runs on (at 1M it keeps only pairs the "
        "truth-trained model scores >= 0.001, peaked at 18.7 GB and scored below the "
        "Fellegi-Sunter variants, so it bounds nothing there)",
    )
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    skipped = []
    for n in sizes:
        world(n)
        for v in args.variants.split(","):
            if v == "supervised" and n > args.supervised_max:
                skipped.append(n)
                continue
            print(f"-- {v} at {n}", flush=True)
            r = _spawn(v, n)
            print(json.dumps(r)[:400], flush=True)
            results.append(r)

    lines = [
        "Synthetic world of `bench link` (`athar synth --records N --seed 7`).  The same",
        "features, comparisons, blocking, split check and clustering, swept over thresholds:",
        "`unsupervised` is Athar as it runs (the starred row is the cut the run picks itself);",
        "`truth_m` estimates m from the true identities and sets the prior to the true",
        "share of matching pairs; `truth_m_all_pairs` also compares every true pair;",
        "`supervised` scores the blocked pairs with gradient-boosted trees trained on the",
        "truth (two folds by person, cross-fitted) instead of a Fellegi-Sunter model.",
        "`truth_m_all_pairs` is optimistic: it adds the true pairs blocking misses, not the",
        "false pairs that look like them.",
        "Ceiling: share of true pairs whose two records both carry a name or a detainee",
        "number; the best F1 any linker can reach without linking the other records is",
        "2c/(1+c), at precision 1.  As in `athar.linkage.link`, groups too large to be one",
        "person are cut back first (`hold_oversized`); the pairs that holds back go to review.",
        "",
        "| size | variant | threshold | pairwise P | pairwise R | pairwise F1 | B-cubed F1 "
        "| F1 named-only | pairs held for review |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['size']} | {r['variant']} | error: see json | | | | | | |")
            continue
        for row in r["rows"]:
            star = " *" if row["runs_own_cut"] else ""
            lines.append(
                f"| {r['size']} | {r['variant']} | {row['threshold']:.3f}{star} "
                f"| {row['precision']:.4f} | {row['recall']:.4f} | {row['f1']:.4f} "
                f"| {row['bcubed_f1']:.4f} | {row['named_only_f1']:.4f} "
                f"| {row['held_for_review']} |"
            )
    lines += [
        "",
        "| size | variant | best F1 | at threshold | ceiling c | 2c/(1+c) | wall s "
        "| load before/after | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "error" in r:
            continue
        best = max(r["rows"], key=lambda x: x["f1"])
        c = r["recall_ceiling"]
        lines.append(
            f"| {r['size']} | {r['variant']} | {best['f1']:.4f} | {best['threshold']:.3f} "
            f"| {c:.4f} | {2 * c / (1 + c):.4f} | {r['wall_s']:.0f} "
            f"| {r['load_1min_before']:.1f} / {r['load_1min_after']:.1f} "
            f"| {r['peak_rss_mb']:.0f} |"
        )
    if skipped:
        lines += [
            "",
            f"`supervised` not run at {', '.join(map(str, skipped))} records "
            f"(`--supervised-max {args.supervised_max}`): the Bayes factors of every blocked "
            "pair do not fit in memory there, and pruned to the pairs the truth-trained model "
            "scores >= 0.001 it peaked at 18.7 GB and scored F1 0.813 at 1M (commit b122228), "
            "below the Fellegi-Sunter variants: no bound.",
        ]
    write_results(
        "link_bound", {"results": results, "supervised_skipped": skipped}, "\n".join(lines)
    )
