"""Execution: run a link specification through Splink on DuckDB or Spark.

This is the one module of :mod:`athar.linkage` that executes SQL (an in-process
DuckDB, or a local/remote Spark session).  Everything it decides comes from the
pure modules beside it: features, comparisons, clustering and explanation.

Resources are explicit: DuckDB runs with a fixed ``memory_limit`` and ``threads``
(and spills to ``temp_directory``), because loose blocking on common names can
generate a billion pairs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from athar.linkage import comparisons as comp
from athar.linkage.clustering import ClusterResult, cluster
from athar.linkage.spec import LinkSpec
from athar.linkage.threshold import expected_counts, expected_precision_cut

log = logging.getLogger(__name__)

#: Columns Splink needs besides the model's features.
ID_COLUMNS = ("unique_id", "source", "record_id")


@dataclass(frozen=True)
class EngineConfig:
    """Where and with what resources Splink runs."""

    engine: str = "duckdb"
    memory_limit: str = "6GB"
    threads: int = 2
    temp_directory: str | None = None
    spark_master: str = "local[2]"
    spark_shuffle_partitions: int = 4


@dataclass(frozen=True)
class PairDecision:
    """A reviewer's decision on a pair of records (given by their unique ids)."""

    left: int
    right: int
    must_link: bool


@dataclass
class LinkResult:
    """The outcome of one linkage run."""

    features: pd.DataFrame
    labels: np.ndarray
    edges: pd.DataFrame  # unique_id_l, unique_id_r, match_weight, match_probability
    model: dict[str, Any]
    threshold: float
    review_low: float
    clustering: ClusterResult
    timings: dict[str, float] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    def clusters_frame(self) -> pd.DataFrame:
        """One row per input record: source, record_id, cluster_id."""
        ids = self.features["source"].astype(str) + ":" + self.features["record_id"].astype(str)
        id_arr = ids.to_numpy()
        return pd.DataFrame(
            {
                "source": self.features["source"].to_numpy(),
                "record_id": self.features["record_id"].to_numpy(),
                "cluster_id": id_arr[self.labels],
            }
        )

    def review_pairs(self, decided: Iterable[tuple[int, int]] = ()) -> pd.DataFrame:
        """Pairs not yet decided that the run leaves uncertain: those in the band
        [review_low, threshold), and those at or above the threshold that the clustering
        did not join (held in a too-large group, or kept apart by a cannot-link)."""
        e = self.edges
        p = e["match_probability"]
        apart = self.labels[e["unique_id_l"].to_numpy()] != self.labels[e["unique_id_r"].to_numpy()]
        band = e[((p >= self.review_low) & (p < self.threshold)) | ((p >= self.threshold) & apart)]
        done = {(min(a, b), max(a, b)) for a, b in decided}
        if done:
            key = list(zip(band["unique_id_l"].tolist(), band["unique_id_r"].tolist(), strict=True))
            mask = [(min(a, b), max(a, b)) not in done for a, b in key]
            band = band[mask]
        return band.sort_values("match_probability", ascending=False).reset_index(drop=True)


# ---------------------------------------------------------------- engines


def make_db_api(cfg: EngineConfig) -> Any:
    """A Splink database API for the configured engine, with explicit resources.

    The caller owns the DuckDB connection; :func:`open_engine` closes it for you.
    """
    if cfg.engine == "duckdb":
        import duckdb
        from splink import DuckDBAPI

        con = duckdb.connect(":memory:")
        con.execute(f"SET memory_limit = '{cfg.memory_limit}'")
        con.execute(f"SET threads = {int(cfg.threads)}")
        if cfg.temp_directory:
            con.execute(f"SET temp_directory = '{cfg.temp_directory}'")
        con.execute("SET preserve_insertion_order = false")
        return DuckDBAPI(con)
    if cfg.engine == "spark":
        from splink import SparkAPI

        return SparkAPI(spark_session=spark_session(cfg))
    raise ValueError(f"unknown engine {cfg.engine!r} (use duckdb or spark)")


@contextlib.contextmanager
def open_engine(cfg: EngineConfig) -> Iterator[Any]:
    """:func:`make_db_api`, closed on exit, even on error.

    DuckDB spills names and dates to disk when a join outgrows ``memory_limit``; left to
    itself it spills into ``.tmp`` under the working directory and leaves the files there
    if the process dies.  Without an explicit ``temp_directory`` each run gets a private
    (0700) directory that is removed when the run ends.
    """
    private = None
    if cfg.engine == "duckdb" and not cfg.temp_directory:
        private = tempfile.mkdtemp(prefix="athar-duckdb-")
        cfg = dataclasses.replace(cfg, temp_directory=private)
    db_api = make_db_api(cfg)
    try:
        yield db_api
    finally:
        if cfg.engine == "duckdb":
            db_api._con.close()
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)


def spark_session(cfg: EngineConfig) -> Any:
    """A local Spark session (created once per process) with Splink's UDF jar."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    spark = (
        SparkSession.builder.master(cfg.spark_master)
        .appName("athar-link")
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.shuffle.partitions", str(cfg.spark_shuffle_partitions))
        .config("spark.default.parallelism", str(cfg.spark_shuffle_partitions))
        .config("spark.driver.memory", cfg.memory_limit.lower().replace("gb", "g"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.ansi.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    if not spark.sparkContext.getCheckpointDir():
        spark.sparkContext.setCheckpointDir(
            tempfile.mkdtemp(prefix="athar-spark-", dir=cfg.temp_directory)
        )
    return spark


def _link_type(spec: LinkSpec, features: pd.DataFrame) -> str:
    n_sources = features["source"].nunique()
    if spec.link_type == "link_only" and n_sources >= 2:
        return "link_only"
    return "dedupe_only"


def _register(db_api: Any, features: pd.DataFrame, link_type: str) -> list[Any]:
    # unique names: a Spark session (and its temp views) outlives one run
    prefix = f"athar_in_{uuid.uuid4().hex[:10]}"
    cols = list(features.columns)
    if link_type == "link_only":
        tables = []
        for i, (src, part) in enumerate(features.groupby("source", sort=True)):
            tables.append(
                db_api.register(part[cols].reset_index(drop=True), table_name=f"{prefix}_{i}")
            )
            log.debug("registered source %s as %s_%d", src, prefix, i)
        return tables
    return [db_api.register(features[cols], table_name=f"{prefix}_all")]


def build_linker(
    db_api: Any,
    features: pd.DataFrame,
    spec: LinkSpec,
    model: dict[str, Any] | None = None,
    keep_intermediate: bool = False,
    only_new_column: str | None = None,
    blocking_sql: Sequence[str] | None = None,
) -> Any:
    """A Splink linker over ``features``: fresh settings from ``spec`` or a saved model."""
    from splink import Linker

    link_type = _link_type(spec, features)
    tables = _register(db_api, features, link_type)
    sql_dialect = db_api.sql_dialect.sql_dialect_str
    built = comp.settings(spec, link_type, keep_intermediate=keep_intermediate)
    settings_dict = built.create_settings_dict(sql_dialect)
    if only_new_column:
        # incremental: only pairs with at least one new record are ever generated
        settings_dict["blocking_rules_to_generate_predictions"] = [
            # plain identifiers (feature names): one SQL for DuckDB and Spark alike
            " AND ".join([*(f"l.{c} = r.{c}" for c in rule)])
            + f" AND (l.{only_new_column} = 1 OR r.{only_new_column} = 1)"
            for rule in spec.blocking
        ]
    if blocking_sql is not None:
        settings_dict["blocking_rules_to_generate_predictions"] = list(blocking_sql)
    if model is not None:
        settings_dict = comp.copy_parameters(model, settings_dict)
    settings_dict["link_type"] = link_type
    inputs = tables if len(tables) > 1 else tables[0]
    return Linker(inputs, settings_dict, log_level=logging.WARNING)


def train(linker: Any, spec: LinkSpec) -> dict[str, Any]:
    """Unsupervised training: prior from near-certain rules, u by random sampling, m by EM.

    EM uses ``spec.em_blocking`` (rules chosen not to produce billion-pair blocks)
    and is capped at ``spec.em_max_pairs`` sampled pairs per rule.
    """
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    linker.training.estimate_probability_two_random_records_match(
        comp.blocking_rules(spec.deterministic_rules), recall=spec.deterministic_recall
    )
    t["prior"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    linker.training.estimate_u_using_random_sampling(max_pairs=spec.u_max_pairs, seed=spec.seed)
    t["u"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    _floor_parameters(linker)
    for rule in comp.blocking_rules(spec.em_blocking):
        with _em_underflow_tolerated():
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, max_pairs=spec.em_max_pairs
            )
        _floor_parameters(linker)
    t["em"] = time.perf_counter() - t0
    return t


@contextlib.contextmanager
def _em_underflow_tolerated() -> Iterator[None]:
    """Let an EM iteration store an m/u that underflowed to 0 (floored right after).

    Splink 5's maximisation step assigns the new m through a setter that raises for
    values below 1e-300, although Splink clamps such values itself when it computes
    weights; a level seen only among clear non-matches then aborts training.  While EM
    runs, the check accepts any probability in [0, 1]; :func:`_floor_parameters` then
    lifts every m/u to :data:`comparisons.PROBABILITY_FLOOR`.
    """
    from splink.internals import comparison_level as cl_mod

    original = cl_mod._validate_m_u_probability

    def lenient(value: Any, param_name: str, level_not_observed_text: str) -> None:
        if isinstance(value, int | float) and not 0.0 <= value <= 1.0:
            raise ValueError(f"{param_name} {value} is not a probability")

    cl_mod._validate_m_u_probability = lenient
    try:
        yield
    finally:
        cl_mod._validate_m_u_probability = original


def _floor_parameters(linker: Any) -> None:
    """Keep trained m/u at or above :data:`comparisons.PROBABILITY_FLOOR`.

    EM can drive an m value to ~1e-304 for a level never seen among matches; Splink 5
    then refuses that value when it next builds settings (below its 1e-300 clamp).
    This touches Splink's private attributes: there is no public setter that skips the
    validation of the value being replaced.
    """
    for cc in linker._settings_obj.comparisons:
        for cl in cc.comparison_levels:
            if cl.is_null_level:
                continue
            for attr in ("_m_probability", "_u_probability"):
                v = getattr(cl, attr, None)
                if isinstance(v, float) and v < comp.PROBABILITY_FLOOR:
                    setattr(cl, attr, comp.PROBABILITY_FLOOR)
            for hist in (cl._trained_m_probabilities, cl._trained_u_probabilities):
                for rec in hist:
                    v = rec.get("probability")
                    if isinstance(v, float) and v < comp.PROBABILITY_FLOOR:
                        rec["probability"] = comp.PROBABILITY_FLOOR


def predict_edges(linker: Any, low: float) -> pd.DataFrame:
    """All blocked pairs scored at or above ``low`` (the bottom of the review band)."""
    df = linker.inference.predict(threshold_match_probability=low, warning_mode="never")
    cols = ["unique_id_l", "unique_id_r", "match_weight", "match_probability"]
    out = df.as_pandas_dataframe()[cols]
    df.drop_table_from_database_and_remove_from_cache()
    out["unique_id_l"] = out["unique_id_l"].astype(np.int64)
    out["unique_id_r"] = out["unique_id_r"].astype(np.int64)
    return out


def count_blocked_pairs(linker: Any, spec: LinkSpec, sample: float = 1.0) -> list[dict[str, Any]]:
    """Splink's own count of the comparisons the prediction blocking rules generate."""
    recs = linker.blocking_analysis.count_comparisons_from_blocking_rules(
        comp.blocking_rules(spec.blocking), record_sample_proportion=sample
    )
    out = []
    for r in recs:
        d = r if isinstance(r, dict) else getattr(r, "__dict__", {})
        out.append({k: (v if isinstance(v, int | float | str) else str(v)) for k, v in d.items()})
    return out


def saved_model(linker: Any) -> dict[str, Any]:
    """The trained model as a JSON-ready dict (Splink's own serialisation)."""
    model: dict[str, Any] = linker.misc.save_model_to_json()
    return json.loads(json.dumps(model))


def link(
    features: pd.DataFrame,
    spec: LinkSpec,
    cfg: EngineConfig | None = None,
    *,
    threshold: float | None = None,
    decisions: Sequence[PairDecision] = (),
    model: dict[str, Any] | None = None,
) -> LinkResult:
    """Train (unless ``model`` is given), score blocked pairs, cluster under decisions."""
    with open_engine(cfg or EngineConfig()) as db_api:
        return _link_on(
            db_api, features, spec, threshold=threshold, decisions=decisions, model=model
        )


def _link_on(
    db_api: Any,
    features: pd.DataFrame,
    spec: LinkSpec,
    *,
    threshold: float | None,
    decisions: Sequence[PairDecision],
    model: dict[str, Any] | None,
) -> LinkResult:
    # a given threshold is used as is; else the spec's, raised to its expected precision
    fixed = spec.threshold if threshold is None else threshold
    low = min(spec.review_low, fixed)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    linker = build_linker(db_api, features, spec, model=model)
    if model is None:
        timings.update({f"train_{k}": v for k, v in train(linker, spec).items()})
        # predict with the saved (floored) parameters, so the run is exactly its model file
        trained_raw = saved_model(linker)
        linker = build_linker(db_api, features, spec, model=trained_raw)
    t1 = time.perf_counter()
    edges = predict_edges(linker, low)
    timings["predict"] = time.perf_counter() - t1
    trained = saved_model(linker)
    t2 = time.perf_counter()
    thr = fixed
    if threshold is None and spec.expected_precision is not None:
        thr = expected_precision_cut(
            edges["match_probability"].to_numpy(), spec.expected_precision, fixed
        )
    # reviewers' decisions replace the model's view of their pair
    decided = {(min(d.left, d.right), max(d.left, d.right)) for d in decisions}
    if decided:
        key = (
            np.minimum(edges["unique_id_l"], edges["unique_id_r"]).to_numpy() * (len(features) + 1)
            + np.maximum(edges["unique_id_l"], edges["unique_id_r"]).to_numpy()
        )
        dkeys = np.array([a * (len(features) + 1) + b for a, b in decided], dtype=np.int64)
        scored = edges[~np.isin(key, dkeys)]
    else:
        scored = edges
    must = [(d.left, d.right) for d in decisions if d.must_link]
    cannot = [(d.left, d.right) for d in decisions if not d.must_link]
    scored, held = hold_oversized(len(features), scored, thr, must)
    model_cannot: list[tuple[int, int]] = []
    if spec.split_below is not None:
        model_cannot = within_group_negatives(
            db_api, features, spec, trained, scored, thr, must, decided
        )
        timings["split_check"] = time.perf_counter() - t2
    result = cluster(
        len(features),
        scored["unique_id_l"].to_numpy(),
        scored["unique_id_r"].to_numpy(),
        scored["match_probability"].to_numpy(),
        thr,
        must_link=must,
        cannot_link=cannot + model_cannot,
    )
    timings["cluster"] = time.perf_counter() - t2
    timings["total"] = time.perf_counter() - t0
    stats = {
        "records": len(features),
        "pairs_at_or_above_review_low": len(edges),
        "pairs_at_or_above_threshold": int((edges["match_probability"] >= thr).sum()),
        "threshold": thr,
        "model_expected_precision": expected_counts(edges["match_probability"].to_numpy(), thr)[
            "expected_precision"
        ],
        "clusters": result.n_clusters,
        "model_cannot_links": len(model_cannot),
        "refused_by_cannot_link": len(result.refused),
        "decision_conflicts": len(result.conflicts),
        "held_for_review": len(held),
    }
    return LinkResult(
        features=features,
        labels=result.labels,
        edges=edges,
        model=trained,
        threshold=thr,
        review_low=low,
        clustering=result,
        timings=timings,
        stats=stats,
    )


#: provisional groups larger than this are not checked pair by pair (see below)
MAX_CHECKED_GROUP = 2000
#: inside a group too large to check, the cut is raised step by step up this ladder
HOLD_LADDER = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999, 0.9999)


def hold_oversized(
    n: int,
    edges: pd.DataFrame,
    threshold: float,
    must_link: Sequence[tuple[int, int]] = (),
    limit: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split groups too large to be one person by raising the cut inside them.

    At a low threshold on a large list, pairs chain into groups of thousands of records
    (at 1M records and p >= 0.1, pairwise precision fell to 0.008), and such groups are
    too large for the split check of :func:`within_group_negatives`.  Inside every group
    of more than ``limit`` records (default :data:`MAX_CHECKED_GROUP`) the cut goes up
    :data:`HOLD_LADDER` one step at a time, until each piece is small enough or the
    ladder ends.  Returns the edges to cluster (the others unchanged) and the held pairs:
    at or above ``threshold`` but below their group's raised cut, left for review.
    Reviewers' must-links always hold; what no cut can split (they, or pairs above the
    ladder, hold it together) stays as it was, with a warning.
    """
    limit = MAX_CHECKED_GROUP if limit is None else limit
    left = edges["unique_id_l"].to_numpy(dtype=np.int64)
    right = edges["unique_id_r"].to_numpy(dtype=np.int64)
    prob = edges["match_probability"].to_numpy(dtype=np.float64)
    cut = np.full(prob.size, threshold, dtype=np.float64)
    ladder = np.asarray(HOLD_LADDER, dtype=np.float64)
    while True:
        live = prob >= cut
        labels = cluster(n, left[live], right[live], prob[live], 0.0, must_link=must_link).labels
        sizes = np.bincount(labels, minlength=n)
        inside = live & (sizes[labels[left]] > limit)
        if not inside.any():
            break
        step = np.searchsorted(ladder, cut, side="right")
        raise_ = inside & (step < ladder.size)
        if not raise_.any():
            break
        cut[raise_] = ladder[step[raise_]]
    if (sizes > limit).any():
        # no cut splits what is left (pairs above the ladder, or reviewers' must-links hold
        # it together): the pairs inside it are not held back for nothing
        whole = (labels[left] == labels[right]) & (sizes[labels[left]] > limit)
        cut[whole] = threshold
        log.warning("%d groups of over %d records no cut splits", int((sizes > limit).sum()), limit)
    held = (prob >= threshold) & (prob < cut)
    if held.any():
        log.warning(
            "%d pairs inside groups of over %d records held for review (cut raised to %s)",
            int(held.sum()),
            limit,
            ", ".join(f"{c:g}" for c in np.unique(cut[held | (cut > threshold)])),
        )
    return edges[~held].reset_index(drop=True), edges[held].reset_index(drop=True)


def checked_groups(
    n: int,
    edges: pd.DataFrame,
    threshold: float,
    must_link: Sequence[tuple[int, int]] = (),
) -> Any:
    """The provisional group of each record for the split check (a nullable integer
    array, missing outside groups of 3 to :data:`MAX_CHECKED_GROUP` records), or None
    when there is no such group."""
    keep = edges["match_probability"].to_numpy() >= threshold
    provisional = cluster(
        n,
        edges["unique_id_l"].to_numpy()[keep],
        edges["unique_id_r"].to_numpy()[keep],
        edges["match_probability"].to_numpy()[keep],
        threshold,
        must_link=must_link,
    ).labels
    sizes = np.bincount(provisional, minlength=n)
    # a group of k records costs k(k-1)/2 scored pairs: a larger one, which only a low
    # cut on a large list makes and hold_oversized cuts back first, is not scored
    grouped = (sizes[provisional] >= 3) & (sizes[provisional] <= MAX_CHECKED_GROUP)
    if int(sizes.max(initial=0)) > MAX_CHECKED_GROUP:
        log.warning(
            "%d provisional groups exceed %d records and are not checked",
            int((sizes > MAX_CHECKED_GROUP).sum()),
            MAX_CHECKED_GROUP,
        )
    if not grouped.any():
        return None
    group = pd.array(np.where(grouped, provisional, 0), dtype="Int64")
    group[~grouped] = pd.NA
    return group


def within_group_negatives(
    db_api: Any,
    features: pd.DataFrame,
    spec: LinkSpec,
    model: dict[str, Any],
    edges: pd.DataFrame,
    threshold: float,
    must_link: Sequence[tuple[int, int]],
    decided: set[tuple[int, int]],
) -> list[tuple[int, int]]:
    """Pairs inside a would-be person that the model itself scores as two people.

    Connected components over the pairs at or above ``threshold`` can join two
    records through third ones although the model, asked about those two directly,
    finds them clearly different (brothers sharing father, family, mother and arrest
    date meet through a cousin's record).  Every pair inside each provisional
    component of three or more records is scored with the same model (components are
    small, so this is cheap and reaches pairs the blocking rules never generated); a
    pair below ``spec.split_below`` becomes a cannot-link for the clustering, exactly
    like a reviewer's.  Reviewers' decisions win: pairs they decided, and pairs inside
    one must-link group, are never model cannot-links.
    """
    n = len(features)
    group = checked_groups(n, edges, threshold, must_link)
    if group is None:
        return []
    feats = features.assign(athar_group=group)
    linker = build_linker(
        db_api, feats, spec, model=model, blocking_sql=["l.athar_group = r.athar_group"]
    )
    split = float(spec.split_below or 0.0)
    df = linker.inference.predict(warning_mode="never")
    pairs = df.as_pandas_dataframe()[["unique_id_l", "unique_id_r", "match_probability"]]
    df.drop_table_from_database_and_remove_from_cache()
    low = pairs[pairs["match_probability"] < split]
    must_group = cluster(n, [], [], [], 1.0, must_link=must_link).labels if must_link else None
    out = []
    for a, b in zip(
        low["unique_id_l"].astype(np.int64).tolist(),
        low["unique_id_r"].astype(np.int64).tolist(),
        strict=True,
    ):
        if (min(a, b), max(a, b)) in decided:
            continue
        if must_group is not None and must_group[a] == must_group[b]:
            continue
        out.append((a, b))
    log.debug("%d model cannot-links inside %d groups", len(out), len(set(group.dropna().tolist())))
    return out


def term_frequencies(features: pd.DataFrame, spec: LinkSpec) -> dict[str, dict[str, float]]:
    """Term-frequency tables of a run, as Splink computes them: for each tf column, each
    value's share of the records that have a value in it.

    Kept with the run, so that a pair can later be explained from its two records
    alone (:func:`explain_pairs` with ``tf``), without preparing the whole store.
    """
    out: dict[str, dict[str, float]] = {}
    for col in comp.tf_columns(spec):
        if col in features:
            shares = features[col].dropna().value_counts(normalize=True)
            out[col] = {str(k): float(v) for k, v in shares.items()}
    return out


def explain_pairs(
    features: pd.DataFrame,
    spec: LinkSpec,
    model: dict[str, Any],
    pairs: Sequence[tuple[int, int]],
    cfg: EngineConfig | None = None,
    tf: dict[str, dict[str, float]] | None = None,
) -> list[dict[str, Any]]:
    """Waterfall explanations for pairs of unique ids, scored with a trained ``model``.

    Term frequencies come from ``tf`` (the tables kept with the run, see
    :func:`term_frequencies`) when given, so ``features`` need only hold the records
    explained; otherwise they are computed from ``features`` (the records the model
    was run on).
    """
    from athar.linkage.explain import waterfall

    with open_engine(cfg or EngineConfig()) as db_api:
        linker = build_linker(db_api, features, spec, model=model, keep_intermediate=True)
        if tf is not None:
            prefix = f"athar_tf_{uuid.uuid4().hex[:10]}"
            for i, col in enumerate(comp.tf_columns(spec)):
                table = tf.get(col, {})
                frame = pd.DataFrame(
                    {
                        col: list(table.keys()),
                        f"tf_{col}": np.array(list(table.values()), dtype=float),
                    }
                )
                linker.table_management.register_term_frequency_lookup(
                    db_api.register(frame, table_name=f"{prefix}_{i}"), col
                )
        records = features.set_index("unique_id", drop=False)
        out = []
        for a, b in pairs:
            ra = _record_dict(records.loc[a])
            rb = _record_dict(records.loc[b])
            row = linker.inference.score_pair(ra, rb).as_pandas_dataframe().iloc[0].to_dict()
            out.append(waterfall(row, saved_model(linker)))
        return out


def _record_dict(row: pd.Series) -> dict[str, Any]:
    d: dict[str, Any] = {}
    for k, v in row.items():
        if v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            d[str(k)] = None
        elif isinstance(v, np.generic):
            d[str(k)] = v.item()
        else:
            d[str(k)] = v
    return d


def score_new(
    features: pd.DataFrame,
    is_new: np.ndarray,
    spec: LinkSpec,
    model: dict[str, Any],
    cfg: EngineConfig | None = None,
    low: float | None = None,
) -> pd.DataFrame:
    """Incremental linking: score only blocked pairs that involve a new record.

    Existing-existing pairs are never generated (the world is not re-linked); term
    frequencies are still taken over all records.
    """
    cfg = cfg or EngineConfig()
    feats = features.assign(athar_is_new=np.asarray(is_new, dtype=np.int8))
    with open_engine(cfg) as db_api:
        linker = build_linker(db_api, feats, spec, model=model, only_new_column="athar_is_new")
        return predict_edges(linker, spec.review_low if low is None else low)
