"""Clustering scored pairs into persons, with reviewers' must-link and cannot-link.

Splink's own clustering is plain connected components: one wrong edge through a
third record merges two people a reviewer has already kept apart.  Here:

1. must-link decisions are applied first (a must-link that would join two groups
   holding a cannot-link pair is refused and reported as a conflict);
2. model edges at or above the threshold are taken in descending probability;
3. a union-find refuses any merge that would put both records of a cannot-link
   pair into one cluster, whatever path the merge comes through.

With no cannot-links this is exactly connected components, computed by scipy.

The policy that decides which scored pairs reach the clustering lives here too:
reviewers' decisions replace the model's view of their pair (:func:`without_decided`),
groups too large to be one person are cut back (:func:`hold_oversized`), and inside each
group small enough to check, pairs the model scores as two people become cannot-links
(:func:`checked_groups` picks the groups, :func:`model_cannot_links` reads the scores).
Pure: arrays and frames in, arrays and frames out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

log = logging.getLogger(__name__)


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


# ------------------------------------------------- which scored pairs reach the clustering


def without_decided(
    n: int, edges: pd.DataFrame, decided: Iterable[tuple[int, int]]
) -> pd.DataFrame:
    """``edges`` without the pairs reviewers decided (in either order): their decision,
    a must-link or a cannot-link, replaces the model's view of the pair.  ``n`` is the
    number of records (unique ids are ``0..n-1``)."""
    done = {(min(a, b), max(a, b)) for a, b in decided}
    if not done:
        return edges
    key = (
        np.minimum(edges["unique_id_l"], edges["unique_id_r"]).to_numpy() * (n + 1)
        + np.maximum(edges["unique_id_l"], edges["unique_id_r"]).to_numpy()
    )
    dkeys = np.array([a * (n + 1) + b for a, b in done], dtype=np.int64)
    return edges[~np.isin(key, dkeys)]


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
    too large for the split check (:func:`checked_groups`, :func:`model_cannot_links`).
    Inside every group of more than ``limit`` records (default :data:`MAX_CHECKED_GROUP`)
    the cut goes up :data:`HOLD_LADDER` one step at a time, until each piece is small
    enough or the ladder ends.  Returns the edges to cluster (the others unchanged) and
    the held pairs: at or above ``threshold`` but below their group's raised cut, left
    for review.  Reviewers' must-links always hold; what no cut can split (they, or pairs
    above the ladder, hold it together) stays as it was, with a warning.
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


def model_cannot_links(
    n: int,
    pairs: pd.DataFrame,
    split_below: float,
    must_link: Sequence[tuple[int, int]],
    decided: set[tuple[int, int]],
) -> list[tuple[int, int]]:
    """The pairs inside checked groups that the model scores below ``split_below``:
    cannot-links for the clustering, exactly like a reviewer's.

    ``pairs`` holds every pair inside each group of :func:`checked_groups`, scored by
    the run's model (``unique_id_l``, ``unique_id_r``, ``match_probability``).
    Reviewers' decisions win: pairs they decided (``decided``, smaller id first), and
    pairs inside one must-link group, are never model cannot-links.
    """
    low = pairs[pairs["match_probability"] < split_below]
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
    return out
