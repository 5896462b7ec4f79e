"""One link run, composed from its steps: the policy, with the engine passed in.

A run trains a model (unless one is given), scores the blocked pairs, picks its threshold
from the model's expected precision, lets reviewers' decisions replace the model's view of
their pairs, cuts back groups too large to be one person, turns pairs the model scores as
two people inside a group into cannot-links, and clusters.  Everything here decides; the
engine only scores.  It is passed in as a :class:`Scorer` (:class:`athar.linkage.runner.
SplinkScorer` runs Splink on DuckDB or Spark), so this module executes nothing.
Pure: frames and a scorer in, a :class:`LinkResult` out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from athar.linkage import comparisons as comp
from athar.linkage.clustering import (
    ClusterResult,
    checked_groups,
    cluster,
    hold_oversized,
    model_cannot_links,
    without_decided,
)
from athar.linkage.spec import LinkSpec
from athar.linkage.threshold import expected_counts, expected_precision_cut
from athar.progress import SILENT, Progress

log = logging.getLogger(__name__)


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


class Scorer(Protocol):
    """What a run needs from the engine: train a model, and score pairs with one.

    ``features`` are those of :func:`athar.linkage.features.prepare_features` (with
    ``unique_id`` ``0..n-1``); models are Splink's saved JSON models.
    """

    def train(
        self, features: pd.DataFrame, spec: LinkSpec
    ) -> tuple[dict[str, Any], dict[str, float]]:
        """A model trained on ``features``, as saved, and the seconds each step took."""
        ...

    def predict(
        self, features: pd.DataFrame, spec: LinkSpec, model: dict[str, Any], low: float
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Every pair the blocking rules generate, scored by ``model``, at or above
        ``low`` (``unique_id_l``, ``unique_id_r``, ``match_weight``,
        ``match_probability``), and the model as the engine saved it after scoring."""
        ...

    def score_within(
        self, features: pd.DataFrame, spec: LinkSpec, model: dict[str, Any], group: Any
    ) -> pd.DataFrame:
        """Every pair of records in the same ``group`` (a nullable integer per record;
        missing: in no group), scored by ``model`` (``unique_id_l``, ``unique_id_r``,
        ``match_probability``)."""
        ...


def link_with(
    scorer: Scorer,
    features: pd.DataFrame,
    spec: LinkSpec,
    *,
    threshold: float | None = None,
    decisions: Sequence[PairDecision] = (),
    model: dict[str, Any] | None = None,
    progress: Progress = SILENT,
) -> LinkResult:
    """Train (unless ``model`` is given), score blocked pairs, cluster under decisions."""
    # a given threshold is used as is; else the spec's, raised to its expected precision
    fixed = spec.threshold if threshold is None else threshold
    low = min(spec.review_low, fixed)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if model is None:
        # predict with the saved (floored) parameters, so the run is exactly its model file
        model, train_timings = scorer.train(features, spec)
        timings.update({f"train_{k}": v for k, v in train_timings.items()})
    t1 = time.perf_counter()
    progress.phase(f"scoring the blocked pairs of {len(features):,} records")
    edges, trained = scorer.predict(features, spec, model, low)
    timings["predict"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    progress.phase(f"checking and clustering {len(edges):,} scored pairs")
    thr = fixed
    if threshold is None and spec.expected_precision is not None:
        thr = expected_precision_cut(
            edges["match_probability"].to_numpy(), spec.expected_precision, fixed
        )
    # reviewers' decisions replace the model's view of their pair
    decided = {(min(d.left, d.right), max(d.left, d.right)) for d in decisions}
    scored = without_decided(len(features), edges, decided)
    must = [(d.left, d.right) for d in decisions if d.must_link]
    cannot = [(d.left, d.right) for d in decisions if not d.must_link]
    scored, held = hold_oversized(len(features), scored, thr, must)
    model_cannot: list[tuple[int, int]] = []
    if spec.split_below is not None:
        model_cannot = within_group_negatives(
            scorer, features, spec, trained, scored, thr, must, decided
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


def within_group_negatives(
    scorer: Scorer,
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
    pairs = scorer.score_within(features, spec, model, group)
    out = model_cannot_links(n, pairs, float(spec.split_below or 0.0), must_link, decided)
    log.debug("%d model cannot-links inside %d groups", len(out), len(set(group.dropna().tolist())))
    return out


def term_frequencies(features: pd.DataFrame, spec: LinkSpec) -> dict[str, dict[str, float]]:
    """Term-frequency tables of a run, as Splink computes them: for each tf column, each
    value's share of the records that have a value in it.

    Kept with the run, so that a pair can later be explained from its two records
    alone (:func:`athar.linkage.runner.explain_pairs` with ``tf``), without preparing
    the whole store.
    """
    out: dict[str, dict[str, float]] = {}
    for col in comp.tf_columns(spec):
        if col in features:
            shares = features[col].dropna().value_counts(normalize=True)
            out[col] = {str(k): float(v) for k, v in shares.items()}
    return out
