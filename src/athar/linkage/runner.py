"""The engine adapter: run a link specification through Splink on DuckDB or Spark.

This is the one module of :mod:`athar.linkage` that executes SQL (an in-process
DuckDB, or a local/remote Spark session).  It opens the engine, builds the Splink
linker, trains, predicts, counts and explains pairs; nothing else.  Everything a run
decides (threshold, reviewers' decisions, held groups, the split check, clustering)
is in the pure modules beside it, composed by :func:`athar.linkage.pipeline.link_with`,
to which :func:`link` hands a :class:`SplinkScorer`.  Splink's internals are touched
only in the quarantined :mod:`athar.linkage._splink_patches`.

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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from athar.linkage import comparisons as comp
from athar.linkage._splink_patches import em_underflow_tolerated, floor_parameters
from athar.linkage.pipeline import LinkResult, PairDecision, link_with
from athar.linkage.spec import LinkSpec
from athar.progress import SILENT, Progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineConfig:
    """Where and with what resources Splink runs."""

    engine: str = "duckdb"
    memory_limit: str = "6GB"
    threads: int = 2
    temp_directory: str | None = None
    spark_master: str = "local[2]"
    spark_shuffle_partitions: int = 4


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


def train(linker: Any, spec: LinkSpec, progress: Progress = SILENT) -> dict[str, Any]:
    """Unsupervised training: prior from near-certain rules, u by random sampling, m by EM.

    EM uses ``spec.em_blocking`` (rules chosen not to produce billion-pair blocks)
    and is capped at ``spec.em_max_pairs`` sampled pairs per rule.
    """
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    progress.phase("training: the prior, from near-certain pairs")
    linker.training.estimate_probability_two_random_records_match(
        comp.blocking_rules(spec.deterministic_rules), recall=spec.deterministic_recall
    )
    t["prior"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    progress.phase(f"training: u probabilities from {spec.u_max_pairs:,.0f} random pairs")
    linker.training.estimate_u_using_random_sampling(max_pairs=spec.u_max_pairs, seed=spec.seed)
    t["u"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    floor_parameters(linker)
    rules = comp.blocking_rules(spec.em_blocking)
    for i, rule in enumerate(rules, 1):
        progress.phase(f"training: m probabilities by EM, blocking rule {i} of {len(rules)}")
        with em_underflow_tolerated():
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, max_pairs=spec.em_max_pairs
            )
        floor_parameters(linker)
    t["em"] = time.perf_counter() - t0
    return t


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


class SplinkScorer:
    """The engine steps of a run (:class:`athar.linkage.pipeline.Scorer`), through
    Splink on one open database API (:func:`open_engine`)."""

    def __init__(self, db_api: Any, progress: Progress = SILENT) -> None:
        self.db_api = db_api
        self.progress = progress

    def train(
        self, features: pd.DataFrame, spec: LinkSpec
    ) -> tuple[dict[str, Any], dict[str, float]]:
        """A fresh linker trained (:func:`train`); its saved (floored) model."""
        linker = build_linker(self.db_api, features, spec)
        timings = train(linker, spec, self.progress)
        return saved_model(linker), timings

    def predict(
        self, features: pd.DataFrame, spec: LinkSpec, model: dict[str, Any], low: float
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Blocked pairs scored at or above ``low`` (:func:`predict_edges`), and the model."""
        linker = build_linker(self.db_api, features, spec, model=model)
        edges = predict_edges(linker, low)
        return edges, saved_model(linker)

    def score_within(
        self, features: pd.DataFrame, spec: LinkSpec, model: dict[str, Any], group: Any
    ) -> pd.DataFrame:
        """Every pair inside each group scored with ``model`` (whatever the blocking)."""
        linker = build_linker(
            self.db_api,
            features.assign(athar_group=group),
            spec,
            model=model,
            blocking_sql=["l.athar_group = r.athar_group"],
        )
        df = linker.inference.predict(warning_mode="never")
        pairs = df.as_pandas_dataframe()[["unique_id_l", "unique_id_r", "match_probability"]]
        df.drop_table_from_database_and_remove_from_cache()
        return pairs


def link(
    features: pd.DataFrame,
    spec: LinkSpec,
    cfg: EngineConfig | None = None,
    *,
    threshold: float | None = None,
    decisions: Sequence[PairDecision] = (),
    model: dict[str, Any] | None = None,
    progress: Progress = SILENT,
) -> LinkResult:
    """Train (unless ``model`` is given), score blocked pairs, cluster under decisions:
    :func:`athar.linkage.pipeline.link_with` on Splink, in an engine opened for the run."""
    with open_engine(cfg or EngineConfig()) as db_api:
        return link_with(
            SplinkScorer(db_api, progress),
            features,
            spec,
            threshold=threshold,
            decisions=decisions,
            model=model,
            progress=progress,
        )


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
    :func:`athar.linkage.pipeline.term_frequencies`) when given, so ``features`` need
    only hold the records explained; otherwise they are computed from ``features``
    (the records the model was run on).
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
