"""Clustering scored pairs into persons, with reviewers' must-link and cannot-link.

Splink's own clustering is plain connected components: one wrong edge through a
third record merges two people a reviewer has already kept apart.  Here:

1. must-link decisions are applied first (a must-link that would join two groups
   holding a cannot-link pair is refused and reported as a conflict);
2. model edges at or above the threshold are taken in descending probability;
3. a union-find refuses any merge that would put both records of a cannot-link
   pair into one cluster, whatever path the merge comes through.

With no cannot-links this is exactly connected components, computed by scipy.
Pure: arrays in, arrays out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


@dataclass
class ClusterResult:
    """``labels[i]`` is the cluster of node ``i``: the smallest node id in its cluster."""

    labels: NDArray[np.int64]
    refused: list[tuple[int, int, float]] = field(default_factory=list)
    conflicts: list[tuple[int, int]] = field(default_factory=list)

    @property
    def n_clusters(self) -> int:
        return int(np.unique(self.labels).size)


def _min_labels(roots: NDArray[np.int64]) -> NDArray[np.int64]:
    """Relabel so that each cluster is named by its smallest member."""
    n = roots.size
    smallest = np.full(int(roots.max()) + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(smallest, roots, np.arange(n, dtype=np.int64))
    return smallest[roots]


def cluster(
    n_nodes: int,
    left: Sequence[int] | NDArray[np.int64],
    right: Sequence[int] | NDArray[np.int64],
    probability: Sequence[float] | NDArray[np.float64],
    threshold: float,
    must_link: Iterable[tuple[int, int]] = (),
    cannot_link: Iterable[tuple[int, int]] = (),
) -> ClusterResult:
    """Cluster nodes ``0..n_nodes-1`` from scored edges under reviewers' constraints."""
    l_arr = np.asarray(left, dtype=np.int64)
    r_arr = np.asarray(right, dtype=np.int64)
    p_arr = np.asarray(probability, dtype=np.float64)
    must = [(int(a), int(b)) for a, b in must_link]
    cannot = [(int(a), int(b)) for a, b in cannot_link if a != b]
    keep = p_arr >= threshold
    if not cannot:
        a = np.concatenate([l_arr[keep], np.asarray([m[0] for m in must], dtype=np.int64)])
        b = np.concatenate([r_arr[keep], np.asarray([m[1] for m in must], dtype=np.int64)])
        graph = coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(n_nodes, n_nodes))
        _, comp = connected_components(graph, directed=False)
        return ClusterResult(_min_labels(comp.astype(np.int64)))

    parent = list(range(n_nodes))
    # forbidden[root] = nodes that may never join root's component
    forbidden: dict[int, set[int]] = {}
    for a_, b_ in cannot:
        forbidden.setdefault(a_, set()).add(b_)
        forbidden.setdefault(b_, set()).add(a_)

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def try_union(x: int, y: int) -> bool:
        rx, ry = find(x), find(y)
        if rx == ry:
            return True
        fx, fy = forbidden.get(rx), forbidden.get(ry)
        # cannot-links are stored both ways, so a forbidden pair across the two
        # components shows in both sets: scanning the smaller one is enough.
        if fx and fy:
            small, other = (fx, ry) if len(fx) <= len(fy) else (fy, rx)
            if any(find(z) == other for z in small):
                return False
        parent[ry] = rx
        if fy:
            if fx is None:
                forbidden[rx] = fy
            else:
                fx |= fy
            del forbidden[ry]
        return True

    result = ClusterResult(np.zeros(0, dtype=np.int64))
    for a_, b_ in must:
        if not try_union(a_, b_):
            result.conflicts.append((a_, b_))
    idx = np.nonzero(keep)[0]
    order = idx[np.argsort(-p_arr[idx], kind="stable")]
    for i in order.tolist():
        a_, b_ = int(l_arr[i]), int(r_arr[i])
        if not try_union(a_, b_):
            result.refused.append((a_, b_, float(p_arr[i])))
    roots = np.fromiter((find(i) for i in range(n_nodes)), dtype=np.int64, count=n_nodes)
    result.labels = _min_labels(roots)
    return result


def attach_new(
    person_of: Sequence[int] | NDArray[np.int64],
    left: Sequence[int] | NDArray[np.int64],
    right: Sequence[int] | NDArray[np.int64],
    probability: Sequence[float] | NDArray[np.float64],
    threshold: float,
    must_link: Iterable[tuple[int, int]] = (),
    cannot_link: Iterable[tuple[int, int]] = (),
) -> NDArray[np.int64]:
    """Incremental clustering: new records join existing persons or form new ones.

    ``person_of[i]`` is the existing person of node ``i`` or ``-1`` for a new record.
    New records are first clustered among themselves (with the constraints); each new
    group then joins the existing person it has the strongest edge (or a must-link) to,
    unless a cannot-link separates them.  Existing persons are never merged or split here.
    Returns, per node, its existing person (>= 0) or ``-(1 + g)`` for new group ``g``.
    """
    pers = np.asarray(person_of, dtype=np.int64)
    n = pers.size
    l_arr = np.asarray(left, dtype=np.int64)
    r_arr = np.asarray(right, dtype=np.int64)
    p_arr = np.asarray(probability, dtype=np.float64)
    must = [(int(a), int(b)) for a, b in must_link]
    cannot = [(int(a), int(b)) for a, b in cannot_link]
    new = pers < 0
    both_new = new[l_arr] & new[r_arr]
    within = cluster(
        n,
        l_arr[both_new],
        r_arr[both_new],
        p_arr[both_new],
        threshold,
        must_link=[(a, b) for a, b in must if new[a] and new[b]],
        cannot_link=[(a, b) for a, b in cannot if new[a] and new[b]],
    ).labels
    members: dict[int, set[int]] = {}
    for i in np.nonzero(pers >= 0)[0].tolist():
        members.setdefault(int(pers[i]), set()).add(i)
    group_of = {i: int(within[i]) for i in np.nonzero(new)[0].tolist()}
    group_members: dict[int, set[int]] = {}
    for i, g in group_of.items():
        group_members.setdefault(g, set()).add(i)
    forbidden: dict[int, set[int]] = {}
    for a, b in cannot:
        forbidden.setdefault(a, set()).add(b)
        forbidden.setdefault(b, set()).add(a)
    # candidate (strength, group, person): must-links first, then edges by probability
    cands: list[tuple[float, int, int]] = []
    for a, b in must:
        for x, y in ((a, b), (b, a)):
            if new[x] and not new[y]:
                cands.append((2.0, group_of[x], int(pers[y])))
    cross = new[l_arr] ^ new[r_arr]
    for a, b, p in zip(
        l_arr[cross].tolist(), r_arr[cross].tolist(), p_arr[cross].tolist(), strict=True
    ):
        if p >= threshold:
            x, y = (a, b) if new[a] else (b, a)
            cands.append((p, group_of[x], int(pers[y])))
    cands.sort(key=lambda c: -c[0])
    joined: dict[int, int] = {}
    for _, g, person in cands:
        if g in joined:
            continue
        if any(z in members[person] for m in group_members[g] for z in forbidden.get(m, ())):
            continue
        joined[g] = person
        members[person] |= group_members[g]
    out = pers.copy()
    order = {g: k for k, g in enumerate(sorted(set(group_of.values()) - set(joined)))}
    for i, g in group_of.items():
        out[i] = joined[g] if g in joined else -(1 + order[g])
    return out
