"""Groups too large to be one person: the cut is raised inside them, and the pairs it
holds back go to review (clustering.hold_oversized, LinkResult.review_pairs)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from athar.linkage.clustering import ClusterResult, cluster, hold_oversized
from athar.linkage.pipeline import LinkResult


def _edges(rows: list[tuple[int, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["unique_id_l", "unique_id_r", "match_probability"])


def _trios_chained(n_trios: int, strong: float, weak: float) -> pd.DataFrame:
    """Trios of records joined by strong pairs, each trio chained to the next by a weak pair."""
    rows = []
    for t in range(n_trios):
        a = 3 * t
        rows += [(a, a + 1, strong), (a + 1, a + 2, strong)]
        if t:
            rows.append((a - 1, a, weak))
    return _edges(rows)


def _sizes(n: int, edges: pd.DataFrame, thr: float) -> np.ndarray:
    labels = cluster(n, edges.unique_id_l, edges.unique_id_r, edges.match_probability, thr).labels
    return np.bincount(labels)


def test_a_chained_group_is_cut_back_to_its_strong_pairs():
    edges = _trios_chained(10, strong=0.97, weak=0.3)
    assert _sizes(30, edges, 0.2).max() == 30  # one chain of 30 records at p >= 0.2
    kept, held = hold_oversized(30, edges, 0.2, limit=5)
    assert sorted(held.match_probability.unique()) == [0.3] and len(held) == 9
    assert len(kept) + len(held) == len(edges)
    assert _sizes(30, kept, 0.2).max() == 3


def test_the_cut_rises_only_inside_the_large_group_and_only_as_far_as_needed():
    big = _trios_chained(10, strong=0.97, weak=0.6)  # needs 0.7 to break
    small = _edges([(30, 31, 0.3), (31, 32, 0.3)])  # a group of 3: left at the threshold
    kept, held = hold_oversized(33, pd.concat([big, small]), 0.2, limit=5)
    assert set(held.match_probability) == {0.6}
    assert {(30, 31), (31, 32)} <= set(zip(kept.unique_id_l, kept.unique_id_r, strict=True))


def test_nothing_is_held_when_no_group_is_too_large_or_no_cut_can_split_it():
    edges = _trios_chained(10, strong=0.97, weak=0.3)
    kept, held = hold_oversized(30, edges, 0.2, limit=30)
    assert held.empty and len(kept) == len(edges)
    # pairs above the top of the ladder are never held back
    sure = _trios_chained(10, strong=0.99999, weak=0.99999)
    kept, held = hold_oversized(30, sure, 0.2, limit=5)
    assert held.empty
    # reviewers' must-links hold even when they alone make the group large
    chain = [(i, i + 1) for i in range(7)]
    kept, held = hold_oversized(8, _edges([(0, 1, 0.3)]), 0.2, must_link=chain, limit=5)
    assert held.empty


def test_review_pairs_include_pairs_above_the_threshold_left_apart():
    edges = _edges([(0, 1, 0.9), (1, 2, 0.9), (2, 3, 0.3), (4, 5, 0.1)])
    edges["match_weight"] = 0.0
    labels = np.array([0, 0, 2, 2, 4, 5])  # 1-2 kept apart (a cannot-link, or held back)
    res = LinkResult(
        features=pd.DataFrame({"source": ["s"] * 6, "record_id": list("abcdef")}),
        labels=labels,
        edges=edges,
        model={},
        threshold=0.5,
        review_low=0.2,
        clustering=ClusterResult(labels),
    )
    pairs = set(zip(res.review_pairs().unique_id_l, res.review_pairs().unique_id_r, strict=True))
    assert pairs == {(1, 2), (2, 3)}
    assert res.review_pairs(decided=[(2, 1)]).unique_id_l.tolist() == [2]
