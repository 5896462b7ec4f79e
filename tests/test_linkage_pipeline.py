"""A run's policy without an engine: link_with on a scorer that returns fixed scores."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from athar.linkage import PairDecision, load_spec
from athar.linkage.pipeline import link_with


class FixedScorer:
    """Blocked pairs and in-group pairs with given probabilities; records each call."""

    def __init__(self, blocked: dict[tuple[int, int], float], within: dict[tuple[int, int], float]):
        self.blocked = blocked
        self.within = within
        self.calls: list[str] = []

    def train(self, features: pd.DataFrame, spec: Any) -> tuple[dict[str, Any], dict[str, float]]:
        self.calls.append("train")
        return {"trained": True}, {"u": 0.0}

    def predict(
        self, features: pd.DataFrame, spec: Any, model: dict[str, Any], low: float
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        self.calls.append("predict")
        rows = [(a, b, 0.0, p) for (a, b), p in self.blocked.items() if p >= low]
        cols = ["unique_id_l", "unique_id_r", "match_weight", "match_probability"]
        return pd.DataFrame(rows, columns=cols), {**model, "saved": True}

    def score_within(
        self, features: pd.DataFrame, spec: Any, model: dict[str, Any], group: Any
    ) -> pd.DataFrame:
        self.calls.append("score_within")
        g = [None if pd.isna(x) else int(x) for x in group]
        rows = [
            (a, b, self.within.get((a, b), 0.99))
            for a in range(len(g))
            for b in range(a + 1, len(g))
            if g[a] is not None and g[a] == g[b]
        ]
        return pd.DataFrame(rows, columns=["unique_id_l", "unique_id_r", "match_probability"])


def _features(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"unique_id": range(n), "source": ["s"] * n, "record_id": [str(i) for i in range(n)]}
    )


SPEC = dataclasses.replace(
    load_spec("interchange"), threshold=0.5, review_low=0.2, expected_precision=None
)


def test_a_chain_is_split_where_the_model_scores_two_people():
    # 0-1-2 chain through 1; asked directly, the model finds 0 and 2 two people
    scorer = FixedScorer({(0, 1): 0.9, (1, 2): 0.8, (3, 4): 0.3}, {(0, 2): 0.001})
    res = link_with(scorer, _features(5), SPEC)
    assert scorer.calls == ["train", "predict", "score_within"]
    assert res.model == {"trained": True, "saved": True}
    assert res.labels[0] == res.labels[1] != res.labels[2]
    assert res.stats["model_cannot_links"] == 1 and res.stats["refused_by_cannot_link"] == 1
    pairs = set(zip(res.review_pairs().unique_id_l, res.review_pairs().unique_id_r, strict=True))
    assert pairs == {(1, 2), (3, 4)}


def test_a_given_model_is_not_trained_and_decisions_replace_the_model():
    scorer = FixedScorer({(0, 1): 0.9, (1, 2): 0.8, (3, 4): 0.3}, {(0, 2): 0.001})
    decided = [PairDecision(2, 0, True), PairDecision(0, 1, False)]
    res = link_with(scorer, _features(5), SPEC, model={"given": 1}, decisions=decided)
    assert scorer.calls == ["predict", "score_within"]
    # the must-link 0-2 wins over the model's cannot-link; the cannot-link 0-1 over its edge
    assert res.labels[0] == res.labels[2] != res.labels[1]
    assert res.stats["model_cannot_links"] == 0


def test_no_split_check_without_split_below():
    scorer = FixedScorer({(0, 1): 0.9, (1, 2): 0.8}, {(0, 2): 0.001})
    res = link_with(scorer, _features(3), dataclasses.replace(SPEC, split_below=None))
    assert "score_within" not in scorer.calls
    assert res.labels.tolist() == [0, 0, 0]
