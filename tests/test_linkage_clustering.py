"""Constrained clustering against an independent oracle (networkx), on random graphs."""

from __future__ import annotations

import random

import networkx as nx
import numpy as np
import pytest

from athar.linkage.clustering import cluster


def oracle(n, edges, threshold, must, cannot):
    """Greedy by descending probability; an edge is kept unless, after adding it, some
    cannot-link pair would sit in one connected component (checked by networkx)."""
    g = nx.Graph()
    g.add_nodes_from(range(n))

    def violates(graph):
        comp = {}
        for i, c in enumerate(nx.connected_components(graph)):
            for v in c:
                comp[v] = i
        return any(comp[a] == comp[b] for a, b in cannot)

    for a, b in must:
        g.add_edge(a, b)
        if violates(g):
            g.remove_edge(a, b)
    order = sorted(
        (e for e in edges if e[2] >= threshold), key=lambda e: -e[2]
    )  # stable, as the implementation
    for a, b, _p in order:
        if g.has_edge(a, b) or nx.has_path(g, a, b):
            continue
        g.add_edge(a, b)
        if violates(g):
            g.remove_edge(a, b)
    return {frozenset(c) for c in nx.connected_components(g)}


def as_sets(labels):
    groups: dict[int, set[int]] = {}
    for i, lab in enumerate(labels.tolist()):
        groups.setdefault(lab, set()).add(i)
    return {frozenset(s) for s in groups.values()}


@pytest.mark.parametrize("seed", range(60))
def test_matches_networkx_oracle(seed):
    rng = random.Random(seed)
    n = rng.randint(2, 25)
    edges = []
    seen = set()
    for _ in range(rng.randint(0, 3 * n)):
        a, b = rng.sample(range(n), 2)
        if (a, b) in seen or (b, a) in seen:
            continue
        seen.add((a, b))
        edges.append((a, b, round(rng.random(), 3) + rng.random() * 1e-6))
    cannot = [tuple(rng.sample(range(n), 2)) for _ in range(rng.randint(0, 4))]
    must = [tuple(rng.sample(range(n), 2)) for _ in range(rng.randint(0, 2))]
    res = cluster(
        n,
        [e[0] for e in edges],
        [e[1] for e in edges],
        [e[2] for e in edges],
        0.5,
        must_link=must,
        cannot_link=cannot,
    )
    assert as_sets(res.labels) == oracle(n, edges, 0.5, must, cannot)
    # never both ends of a cannot-link in one cluster (unless a must-link chain forced it,
    # which the implementation refuses and reports)
    for a, b in cannot:
        assert res.labels[a] != res.labels[b]
    # cluster ids are the smallest member
    for i, lab in enumerate(res.labels.tolist()):
        assert lab <= i and res.labels[lab] == lab


def test_cannot_link_splits_a_would_be_cluster_through_a_third_record():
    # a-b strong, b-c strong: without constraints a, b, c are one person
    left, right, p = [0, 1], [1, 2], [0.99, 0.95]
    plain = cluster(3, left, right, p, 0.9)
    assert len(set(plain.labels.tolist())) == 1
    split = cluster(3, left, right, p, 0.9, cannot_link=[(0, 2)])
    assert split.labels[0] != split.labels[2]
    # the weaker edge (b-c) is the one refused
    assert split.labels[0] == split.labels[1]
    assert split.refused == [(1, 2, 0.95)]


def test_must_link_applies_first_and_conflicting_must_link_is_reported():
    res = cluster(4, [], [], [], 0.9, must_link=[(0, 1), (1, 2)], cannot_link=[(0, 2)])
    assert res.labels[0] == res.labels[1]
    assert res.labels[2] != res.labels[0]
    assert res.conflicts == [(1, 2)]


def test_without_constraints_equals_connected_components():
    rng = np.random.default_rng(1)
    n = 200
    left = rng.integers(0, n, 300)
    right = rng.integers(0, n, 300)
    p = rng.random(300)
    res = cluster(n, left, right, p, 0.7)
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from((int(a), int(b)) for a, b, q in zip(left, right, p, strict=True) if q >= 0.7)
    assert as_sets(res.labels) == {frozenset(c) for c in nx.connected_components(g)}
