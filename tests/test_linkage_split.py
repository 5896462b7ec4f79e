"""Model cannot-links: no person holds two records the model itself finds two people."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from athar.cli import main
from athar.linkage import runner
from athar.linkage.features import prepare_features
from athar.linkage.pipeline import LinkResult, PairDecision, within_group_negatives
from athar.linkage.spec import load_spec

SOURCES = ["ngo_ar", "ngo_en", "family", "registry", "released", "morgue"]
FAST = runner.EngineConfig(memory_limit="1GB", threads=1)


@pytest.fixture(scope="module")
def features(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("world")
    r = CliRunner().invoke(main, ["synth", str(out), "--persons", "1500", "--seed", "3", "--quiet"])
    assert r.exit_code == 0, r.output
    raw = pd.concat(
        [pd.read_csv(out / f"{s}.csv", dtype=str, keep_default_na=False) for s in SOURCES],
        ignore_index=True,
    )
    return prepare_features(raw, load_spec("interchange"))


def _negatives_inside(features: pd.DataFrame, result: LinkResult) -> list[tuple[int, int]]:
    """Pairs inside the result's clusters that the result's model scores below split_below."""
    spec = load_spec("interchange")
    labels = result.labels
    members = pd.Series(np.arange(labels.size)).groupby(labels).agg(list)
    pairs = [(a, b) for m in members if len(m) > 1 for a in m for b in m if a < b]
    edges = pd.DataFrame(
        {
            "unique_id_l": [a for a, _ in pairs],
            "unique_id_r": [b for _, b in pairs],
            "match_probability": 1.0,
        }
    )
    with runner.open_engine(FAST) as db_api:
        return within_group_negatives(
            runner.SplinkScorer(db_api), features, spec, result.model, edges, 0.5, [], set()
        )


def test_no_cluster_keeps_a_pair_the_model_scores_as_two_people(features):
    spec = load_spec("interchange")
    assert spec.split_below is not None
    plain = runner.link(features, dataclasses.replace(spec, split_below=None), FAST)
    split = runner.link(features, spec, FAST, model=plain.model)
    # the same model and threshold: without the check, some persons hold such pairs
    assert split.threshold == plain.threshold
    assert _negatives_inside(features, plain)
    assert split.stats["model_cannot_links"] > 0
    assert _negatives_inside(features, split) == []
    # splitting only ever separates records: every new cluster lies inside an old one
    for members in pd.Series(np.arange(split.labels.size)).groupby(split.labels):
        assert np.unique(plain.labels[members[1].to_numpy()]).size == 1


def test_a_must_link_overrides_a_model_cannot_link(features):
    spec = load_spec("interchange")
    first = runner.link(features, spec, FAST)
    refused = first.clustering.refused
    assert refused, "the world should hold a merge the model refused"
    a, b, _ = refused[0]
    again = runner.link(
        features, spec, FAST, model=first.model, decisions=[PairDecision(a, b, True)]
    )
    assert again.labels[a] == again.labels[b]
    assert not again.clustering.conflicts
