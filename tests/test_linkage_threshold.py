"""The clustering threshold chosen from the model's own expected precision."""

from __future__ import annotations

import numpy as np
import pytest

from athar.linkage.spec import SpecError, load_spec, parse_spec
from athar.linkage.threshold import expected_counts, expected_precision_cut


def test_cut_is_lowest_whose_mean_probability_meets_target():
    p = np.array([0.999, 0.99, 0.97, 0.9, 0.7, 0.6, 0.3])
    cut = expected_precision_cut(p, 0.95, 0.5)
    linked = p[p >= cut]
    assert linked.mean() >= 0.95
    # one more pair would bring the expectation below the target
    nxt = p[p < cut].max()
    assert np.append(linked, nxt).mean() < 0.95
    assert cut == pytest.approx(0.9)


def test_cut_never_below_the_floor():
    p = np.array([0.9999] * 1000 + [0.51, 0.45, 0.3])
    # every pair at or above the floor meets the target together: the cut is the floor
    assert expected_precision_cut(p, 0.98, 0.5) == 0.5
    assert expected_precision_cut(np.array([0.45, 0.3]), 0.98, 0.5) == 0.5


def test_no_cut_meets_target_links_only_the_most_certain():
    p = np.array([0.8, 0.7, 0.6])
    assert expected_precision_cut(p, 0.99, 0.5) == pytest.approx(0.8)


def test_cut_rises_when_the_scores_get_less_certain():
    rng = np.random.default_rng(3)
    sure = rng.uniform(0.99, 1.0, 2000)
    unsure = rng.uniform(0.5, 0.95, 500)
    small = expected_precision_cut(np.concatenate([sure, unsure[:100]]), 0.98, 0.5)
    large = expected_precision_cut(np.concatenate([sure, unsure]), 0.98, 0.5)
    assert small == 0.5
    assert large > small
    assert (large_p := np.concatenate([sure, unsure]))[large_p >= large].mean() >= 0.98


def test_expected_counts():
    c = expected_counts(np.array([1.0, 0.5, 0.2]), 0.5)
    assert c == {"linked_pairs": 2, "expected_true_pairs": 1.5, "expected_precision": 0.75}


def test_spec_reads_and_checks_the_options():
    spec = load_spec("interchange")
    assert spec.expected_precision is not None and 0 < spec.expected_precision < 1
    assert spec.split_below is not None and spec.split_below < spec.review_low
    base = {"blocking": [["a"]], "em_blocking": [["a"]], "deterministic": {"rules": [["a"]]}}
    with pytest.raises(SpecError, match="expected_precision"):
        parse_spec({**base, "expected_precision": 1.5})
    with pytest.raises(SpecError, match="split_below"):
        parse_spec({**base, "review_low": 0.2, "threshold": 0.5, "split_below": 0.3})
    with pytest.raises(ValueError, match="target"):
        expected_precision_cut(np.array([0.9]), 1.0, 0.5)
